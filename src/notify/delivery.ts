// One target's outbox: a bounded queue drained by a single sender with
// retries and backoff. push() only appends and returns, so whoever raises a
// notification (the vote path included) never waits for a receiver; a slow
// or dead receiver costs at most `maxQueue` messages, the oldest dropped
// first (and counted), never memory or time elsewhere.

import type { Logger } from 'pino';
import pRetry, { AbortError } from 'p-retry';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import { DeliveryError, send } from './http-send.js';
import type { Notification } from './message.js';
import type { NotifyTarget } from './target.js';
import { requestFor } from './wire.js';

export interface DeliveryPolicy {
  maxQueue: number;
  timeoutMs: number;
  /** Attempts after the first, per message. */
  retries: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

/** Delivers one message once; throws DeliveryError. Replaced in unit tests. */
export type Transport = (target: NotifyTarget, n: Notification, o: { timeoutMs: number; signal: AbortSignal }) => Promise<void>;

export const httpTransport: Transport = (t, n, o) => {
  const req = requestFor(t.kind, n);
  const headers = { ...req.headers, ...(t.token ? { authorization: `Bearer ${t.token.reveal().toString('utf8')}` } : {}) };
  return send(new URL(t.url.reveal().toString('utf8')), {
    method: 'POST',
    headers,
    body: req.body,
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    ...(t.caCert ? { ca: t.caCert.bytes } : {}),
  });
};

export interface DeliveryCounts {
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
}

export class DeliveryQueue {
  readonly target: NotifyTarget;
  readonly #policy: DeliveryPolicy;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #transport: Transport;
  readonly #queue: Notification[] = [];
  readonly #abort = new AbortController();
  #draining: Promise<void> | null = null;
  readonly #counts = { sent: 0, failed: 0, dropped: 0 };
  #lastError: string | null = null;
  /** Drops are logged once per outage (until the next delivery), counted always. */
  #dropLogged = false;

  constructor(target: NotifyTarget, policy: DeliveryPolicy, metrics: Metrics, logger: Logger, transport: Transport = httpTransport) {
    this.target = target;
    this.#policy = policy;
    this.#metrics = metrics;
    this.#log = logger;
    this.#transport = transport;
    for (const m of [metrics.notificationsSentTotal, metrics.notificationsFailedTotal, metrics.notificationsDroppedTotal]) m.inc({ target: target.name }, 0);
    metrics.notificationQueueLength.set({ target: target.name }, 0);
  }

  /** Queues a message; never waits. A full queue drops its oldest message. */
  push(n: Notification): void {
    if (this.#abort.signal.aborted) return;
    this.#queue.push(n);
    while (this.#queue.length > this.#policy.maxQueue) {
      const dropped = this.#queue.shift();
      this.#counts.dropped++;
      this.#metrics.notificationsDroppedTotal.inc({ target: this.target.name });
      if (this.#dropLogged) continue;
      this.#dropLogged = true;
      this.#log.warn(
        { event: 'notification_dropped', target: this.target.name, key: dropped?.key, state: dropped?.state, queueSize: this.#policy.maxQueue },
        `notification target ${this.target.name}: queue full (${this.#policy.maxQueue}), dropping the oldest messages (first: ${dropped?.key}) until the receiver takes one; dcrvoted_notifications_dropped_total counts them`,
      );
    }
    this.#metrics.notificationQueueLength.set({ target: this.target.name }, this.#queue.length);
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  counts(): DeliveryCounts {
    return { queued: this.#queue.length, ...this.#counts };
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Resolves once the queue is empty (tests; a drain in progress included). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Cancels the send in flight and its retries; whatever is still queued is not sent. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#draining;
  }

  async #drain(): Promise<void> {
    const signal = this.#abort.signal;
    for (let n = this.#queue.shift(); n && !signal.aborted; n = this.#queue.shift()) {
      this.#metrics.notificationQueueLength.set({ target: this.target.name }, this.#queue.length);
      await this.#deliver(n, signal);
    }
    this.#metrics.notificationQueueLength.set({ target: this.target.name }, this.#queue.length);
  }

  async #deliver(n: Notification, signal: AbortSignal): Promise<void> {
    const p = this.#policy;
    const name = this.target.name;
    try {
      await pRetry(
        async () => {
          try {
            await this.#transport(this.target, n, { timeoutMs: p.timeoutMs, signal });
          } catch (err) {
            // A 4xx will not get better by asking again; a stop ends the retries.
            if (signal.aborted || (err instanceof DeliveryError && !err.retryable)) throw new AbortError(err instanceof Error ? err : errorMessage(err));
            throw err;
          }
        },
        {
          retries: p.retries,
          minTimeout: p.backoffMinMs,
          maxTimeout: p.backoffMaxMs,
          factor: 2,
          randomize: true,
          signal,
          unref: true,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            this.#lastError = error.message;
            this.#log.debug({ event: 'notification_retry', target: name, key: n.key, attempt: attemptNumber, retriesLeft, err: error.message }, `notification target ${name}: attempt ${attemptNumber} failed: ${error.message}`);
          },
        },
      );
      this.#counts.sent++;
      this.#lastError = null;
      this.#dropLogged = false;
      this.#metrics.notificationsSentTotal.inc({ target: name });
      this.#log.debug({ event: 'notification_sent', target: name, key: n.key, state: n.state }, `notification sent to ${name}: ${n.title}`);
    } catch (err) {
      if (signal.aborted) return;
      const why = errorMessage(err);
      this.#lastError = why;
      this.#counts.failed++;
      this.#metrics.notificationsFailedTotal.inc({ target: name });
      this.#log.warn(
        { event: 'notification_failed', target: name, origin: this.target.origin, key: n.key, state: n.state, err: why },
        `notification target ${name} (${this.target.origin}): gave up on "${n.title}": ${why}`,
      );
    }
  }
}
