// What one notification says, whatever carries it. Targets (webhook, ntfy)
// turn this into their own wire form; nothing here knows about HTTP.

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** firing/resolved come in pairs for one key; event is one-shot (a missed vote); test is the start-up message. */
export type NotificationState = 'firing' | 'resolved' | 'event' | 'test';

export interface Notification {
  /** Stable identity of the condition, e.g. "not_ready:main" or "vote_missed:<ticket>:<block>". */
  key: string;
  state: NotificationState;
  severity: Severity;
  title: string;
  /** Short facts a human acts on (wallet, ticket, reason, …); values are plain text or numbers. */
  details: Record<string, string | number>;
  /** ISO time the condition was raised, cleared or seen. */
  at: string;
  /** Which dcrvoted sent it (network and host), so one receiver can serve several servers. */
  source: string;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** One line a human reads first: what happened, and whether it is over. */
export function headline(n: Notification): string {
  const prefix = n.state === 'resolved' ? 'RESOLVED: ' : n.state === 'test' ? 'TEST: ' : '';
  return `${prefix}${n.title}`;
}

/** The details as text lines ("wallet: main"), for receivers that show plain text. */
export function detailLines(n: Notification): string {
  return Object.entries(n.details)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}
