// "Not ready for longer than the threshold" and "recovered", per part (each
// wallet, dcrd). A blip shorter than the threshold (a wallet restart, a dcrd
// reconnect) pages nobody; a longer outage fires once and resolves once.

import type { Alerts } from './api.js';

export interface ReadinessWatchOptions {
  alerts: Alerts;
  thresholdMs: number;
  now?: () => number;
}

export class ReadinessWatch {
  readonly #o: ReadinessWatchOptions;
  readonly #now: () => number;
  /** Part → when it was first seen not ready. */
  readonly #since = new Map<string, number>();

  constructor(o: ReadinessWatchOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Called with readinessOf()'s reasons, regularly (every second by the daemon). */
  observe(reasons: Record<string, string[]>): void {
    const now = this.#now();
    for (const [part, why] of Object.entries(reasons)) {
      if (part === 'dcrvoted') continue; // shutting down: not an outage
      const since = this.#since.get(part) ?? now;
      this.#since.set(part, since);
      if (now - since >= this.#o.thresholdMs) {
        this.#o.alerts.raise(keyOf(part), 'critical', `${label(part)} cannot vote`, {
          part,
          reasons: why.join('; '),
          notReadySince: new Date(since).toISOString(),
        });
      }
    }
    for (const [part, since] of this.#since) {
      if (part in reasons) continue;
      this.#since.delete(part);
      this.#o.alerts.clear(keyOf(part), { part, notReadyForSeconds: Math.round((now - since) / 1000) });
    }
  }
}

function keyOf(part: string): string {
  return `not_ready:${part}`;
}

function label(part: string): string {
  return part === 'dcrd' ? 'dcrd' : `wallet ${part}`;
}
