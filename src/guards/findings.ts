// What a guard found, in one shape for the log, /status, the metrics and
// any notifier: a finding is raised once when it appears (or changes) and
// resolved once when it goes away. `key` identifies the finding across
// checks, so the same fact seen again is not raised twice.

export type UpgradeKind = 'unknown_agenda' | 'locked_in' | 'stake_version';
export const UPGRADE_KINDS: readonly UpgradeKind[] = ['unknown_agenda', 'locked_in', 'stake_version'];

export type GuardName = 'upgrade' | 'treasury';

export interface Finding {
  guard: GuardName;
  /** upgrade: one of UPGRADE_KINDS; treasury: 'undecided_tspend'. */
  kind: string;
  wallet: string;
  /** Stable identity of the fact (e.g. agenda id and version, tspend hash). */
  key: string;
  severity: 'warning' | 'critical';
  /** Short and stable while the finding holds (no counts or times): a notification's title. */
  title: string;
  /** One line for a human: what was seen and what to do. */
  message: string;
  /** The facts behind the message, for machines. */
  details: Record<string, unknown>;
}

export type GuardEvent = { type: 'raised'; finding: Finding; at: number } | { type: 'resolved'; finding: Finding; at: number };

/**
 * The findings of one guard for one wallet, and what changed since the
 * last check: raised (a key not seen before) and resolved (a key gone).
 */
export class FindingSet {
  #current = new Map<string, Finding>();

  update(next: readonly Finding[]): { raised: Finding[]; resolved: Finding[] } {
    const byKey = new Map(next.map((f) => [f.key, f]));
    // Blocks and time left change at every check; only a new key is news.
    const raised = next.filter((f) => !this.#current.has(f.key));
    const resolved = [...this.#current.values()].filter((f) => !byKey.has(f.key));
    this.#current = byKey;
    return { raised, resolved };
  }

  get list(): Finding[] {
    return [...this.#current.values()];
  }
}
