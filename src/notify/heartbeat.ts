// The dead-man's switch: while dcrvoted is ready it pings a URL on a
// schedule (healthchecks.io, Uptime Kuma push, a cron monitor …). When the
// server dies, loses power or stops being ready, the pings stop and that
// service, running elsewhere, tells someone. Not ready means no ping, so a
// daemon that is up but cannot vote is noticed the same way.

import type { Logger } from 'pino';
import type { Secret } from '../config/secret.js';
import type { Metrics } from '../telemetry/metrics.js';
import { send } from './http-send.js';
import { errorMessage } from '../errors.js';

export interface HeartbeatOptions {
  url: Secret;
  origin: string;
  intervalMs: number;
  timeoutMs: number;
  ready: () => boolean;
  metrics: Metrics;
  logger: Logger;
  caCert?: Buffer | null;
}

export class HeartbeatPinger {
  readonly #o: HeartbeatOptions;
  #timer: NodeJS.Timeout | null = null;
  readonly #abort = new AbortController();
  #inFlight: Promise<void> | null = null;
  #failing = false;

  constructor(o: HeartbeatOptions) {
    this.#o = o;
    o.metrics.heartbeatFailuresTotal.inc(0);
  }

  start(): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort();
    await this.#inFlight;
  }

  #tick(): void {
    // One ping at a time: a hanging monitor must not pile up sockets.
    if (this.#inFlight || !this.#o.ready()) return;
    this.#inFlight = this.#ping().finally(() => {
      this.#inFlight = null;
    });
  }

  async #ping(): Promise<void> {
    const o = this.#o;
    try {
      await send(new URL(o.url.reveal().toString('utf8')), {
        method: 'GET',
        headers: {},
        timeoutMs: o.timeoutMs,
        signal: this.#abort.signal,
        ...(o.caCert ? { ca: o.caCert } : {}),
      });
      if (this.#failing) o.logger.info({ event: 'heartbeat_recovered', origin: o.origin }, `heartbeat to ${o.origin} works again`);
      this.#failing = false;
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      o.metrics.heartbeatFailuresTotal.inc();
      if (!this.#failing) {
        o.logger.warn({ event: 'heartbeat_failed', origin: o.origin, err: errorMessage(err) }, `heartbeat to ${o.origin} failed: ${errorMessage(err)} (the monitor will report dcrvoted down if this goes on)`);
      }
      this.#failing = true;
    }
  }
}
