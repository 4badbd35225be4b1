// Everything notify.* configures, built and started together: the Notifier
// (with one delivery queue per target), the not-ready watch and the
// dead-man's switch. The daemon owns one; the rest of dcrvoted sees only
// the Alerts API.

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { NotifyConfig } from '../config/notify.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Alerts } from './api.js';
import { DeliveryQueue, type Transport } from './delivery.js';
import { HeartbeatPinger } from './heartbeat.js';
import { Notifier, type NotifierView } from './notifier.js';
import { ReadinessWatch } from './readiness-watch.js';

export interface NotificationsOptions {
  config: NotifyConfig;
  network: string;
  metrics: Metrics;
  logger: Logger;
  /** Whether dcrvoted could vote right now, and if not why, per part (status.ts readinessOf). */
  readiness: () => { ready: boolean; reasons: Record<string, string[]> };
  transport?: Transport;
}

export class Notifications {
  readonly notifier: Notifier;
  readonly #watch: ReadinessWatch;
  readonly #heartbeat: HeartbeatPinger | null;
  readonly #o: NotificationsOptions;

  constructor(o: NotificationsOptions) {
    this.#o = o;
    const log = o.logger.child({ component: 'notify' });
    const queues = o.config.targets.map((t) => new DeliveryQueue(t, o.config.delivery, o.metrics, log, o.transport));
    this.notifier = new Notifier({ targets: queues, source: `dcrvoted on ${hostname()} (${o.network})` });
    this.#watch = new ReadinessWatch({ alerts: this.notifier, thresholdMs: o.config.notReadyAfterMs });
    const hb = o.config.heartbeat;
    this.#heartbeat = hb
      ? new HeartbeatPinger({ url: hb.url, origin: hb.origin, intervalMs: hb.intervalMs, timeoutMs: o.config.delivery.timeoutMs, ready: () => o.readiness().ready, metrics: o.metrics, logger: log })
      : null;
  }

  get alerts(): Alerts {
    return this.notifier;
  }

  /** The start-up test message, then the heartbeat. */
  start(details: Record<string, string | number>): void {
    if (this.#o.config.startupMessage && this.#o.config.targets.length > 0) this.notifier.test('dcrvoted started: notifications work', details);
    this.#heartbeat?.start();
  }

  /** Called every second by the daemon's progress loop. */
  tick(): void {
    this.#watch.observe(this.#o.readiness().reasons);
  }

  view(): NotifierView & { heartbeat: string | null } {
    return { ...this.notifier.view(), heartbeat: this.#o.config.heartbeat?.origin ?? null };
  }

  async stop(): Promise<void> {
    await Promise.all([this.notifier.stop(), this.#heartbeat?.stop()]);
  }
}
