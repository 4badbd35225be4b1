// The one Notifier: turns raise/clear/event calls into firing, resolved and
// one-shot messages, deduplicated, and hands each to the targets whose
// minimum severity it meets. Every call returns at once; the targets' queues
// do the sending (delivery.ts).

import { trimOldest } from '../bounded.js';
import type { Alerts, Details } from './api.js';
import type { DeliveryCounts, DeliveryQueue } from './delivery.js';
import { severityRank, type Notification, type Severity } from './message.js';

export interface NotifierOptions {
  targets: DeliveryQueue[];
  /** Names this dcrvoted in every message (network and host). */
  source: string;
  now?: () => number;
}

interface Firing {
  severity: Severity;
  title: string;
  /** Targets told it fired: they, and only they, hear that it resolved. */
  toldTo: Set<DeliveryQueue>;
}

/** Conditions firing at once and one-shot keys remembered: past these, the oldest are forgotten. */
const MAX_FIRING = 1024;
const MAX_EVENTS = 4096;

export interface NotifierView {
  firing: { key: string; severity: Severity; title: string }[];
  targets: ({ name: string; kind: string; origin: string; minSeverity: Severity; lastError: string | null } & DeliveryCounts)[];
}

export class Notifier implements Alerts {
  readonly #targets: DeliveryQueue[];
  readonly #source: string;
  readonly #now: () => number;
  readonly #firing = new Map<string, Firing>();
  readonly #events = new Set<string>();

  constructor(o: NotifierOptions) {
    this.#targets = o.targets;
    this.#source = o.source;
    this.#now = o.now ?? Date.now;
  }

  raise(key: string, severity: Severity, title: string, details: Details = {}): void {
    const prev = this.#firing.get(key);
    if (prev && prev.severity === severity && prev.title === title) return;
    const toldTo = this.#deliver(this.#message(key, 'firing', severity, title, details), (t) => meets(t, severity));
    // Re-insert so the oldest-first trim drops the longest-quiet conditions.
    this.#firing.delete(key);
    this.#firing.set(key, { severity, title, toldTo: new Set([...(prev?.toldTo ?? []), ...toldTo]) });
    trimOldest(this.#firing, MAX_FIRING);
  }

  clear(key: string, details: Details = {}): void {
    const f = this.#firing.get(key);
    if (!f) return;
    this.#firing.delete(key);
    this.#deliver(this.#message(key, 'resolved', f.severity, f.title, details), (t) => f.toldTo.has(t));
  }

  event(key: string, severity: Severity, title: string, details: Details = {}): void {
    if (this.#events.has(key)) return;
    this.#events.add(key);
    trimOldest(this.#events, MAX_EVENTS);
    this.#deliver(this.#message(key, 'event', severity, title, details), (t) => meets(t, severity));
  }

  /** The start-up message: to every target whatever its minimum severity, so each path is proven once. */
  test(title: string, details: Details = {}): void {
    this.#deliver(this.#message('test', 'test', 'info', title, details), () => true);
  }

  isFiring(key: string): boolean {
    return this.#firing.has(key);
  }

  view(): NotifierView {
    return {
      firing: [...this.#firing].map(([key, f]) => ({ key, severity: f.severity, title: f.title })),
      targets: this.#targets.map((q) => ({
        name: q.target.name,
        kind: q.target.kind,
        origin: q.target.origin,
        minSeverity: q.target.minSeverity,
        lastError: q.lastError,
        ...q.counts(),
      })),
    };
  }

  /** Every target's queue is empty (tests). */
  async idle(): Promise<void> {
    await Promise.all(this.#targets.map((t) => t.idle()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#targets.map((t) => t.stop()));
  }

  #message(key: string, state: Notification['state'], severity: Severity, title: string, details: Details): Notification {
    return { key, state, severity, title, details, at: new Date(this.#now()).toISOString(), source: this.#source };
  }

  #deliver(n: Notification, wants: (t: DeliveryQueue) => boolean): DeliveryQueue[] {
    const to = this.#targets.filter(wants);
    for (const t of to) t.push(n);
    return to;
  }
}

function meets(t: DeliveryQueue, s: Severity): boolean {
  return severityRank(s) >= severityRank(t.target.minSeverity);
}
