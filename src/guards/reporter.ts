// Turns each check's findings into news: a warning the first time a
// finding is seen, a line when it goes away, and the same as events for a
// notifier. Findings are kept per wallet, so one wallet's recovery does not
// hide another's problem.

import type { Logger } from 'pino';
import { FindingSet, type Finding, type GuardEvent, type GuardName } from './findings.js';

export class GuardReporter {
  readonly #sets = new Map<string, FindingSet>();
  readonly #guard: GuardName;
  readonly #log: Logger;
  readonly #emit: (e: GuardEvent) => void;
  readonly #now: () => number;

  constructor(guard: GuardName, log: Logger, emit: (e: GuardEvent) => void, now: () => number) {
    this.#guard = guard;
    this.#log = log;
    this.#emit = emit;
    this.#now = now;
  }

  /** The findings of one check for one wallet; returns them as kept. */
  publish(wallet: string, findings: readonly Finding[]): void {
    let set = this.#sets.get(wallet);
    if (!set) this.#sets.set(wallet, (set = new FindingSet()));
    const { raised, resolved } = set.update(findings);
    const at = this.#now();
    for (const f of raised) {
      this.#log.warn({ event: `${this.#guard}_guard`, guard: this.#guard, kind: f.kind, wallet, key: f.key, details: f.details }, f.message);
      this.#emit({ type: 'raised', finding: f, at });
    }
    for (const f of resolved) {
      this.#log.info({ event: `${this.#guard}_guard_resolved`, guard: this.#guard, kind: f.kind, wallet, key: f.key }, `resolved (${this.#guard} guard, wallet ${wallet}): ${f.message}`);
      this.#emit({ type: 'resolved', finding: f, at });
    }
  }

  findings(wallet: string): Finding[] {
    return this.#sets.get(wallet)?.list ?? [];
  }

  all(): Finding[] {
    return [...this.#sets.values()].flatMap((s) => s.list);
  }
}
