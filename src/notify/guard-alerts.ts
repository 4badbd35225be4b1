// Turns each guard's findings into notifications: one firing/resolved pair
// per (subject, kind), with a title that never changes while it lasts (the
// heights and hashes go in the details, so dedup holds while a node keeps
// falling behind).

import type { SyncGuard, SyncProblemKind } from '../dcrd/sync-guard.js';
import { alertOf } from '../guards/alerts.js';
import type { GuardScheduler } from '../guards/scheduler.js';
import type { Alerts } from './api.js';
import type { CanaryReport } from '../wallet/signing-canary.js';

const SYNC_TITLES: Record<SyncProblemKind, (node: string) => string> = {
  lagging: (node) => `dcrd ${node} is behind the chain: winners it does not see are not voted through it`,
  forked: (node) => `dcrd ${node} is on a different block than another dcrd node`,
  not_current: (node) => `dcrd ${node} does not consider itself current: it announces no winning tickets`,
};

export function syncAlertKey(node: string, kind: SyncProblemKind): string {
  return `dcrd_sync:${node}:${kind}`;
}

export function notifySyncProblems(guard: Pick<SyncGuard, 'on'>, alerts: Alerts): void {
  guard.on('problem', (e) => alerts.raise(syncAlertKey(e.node, e.kind), 'critical', SYNC_TITLES[e.kind](e.node), { node: e.node, kind: e.kind, message: e.message }));
  guard.on('recovered', (e) => alerts.clear(syncAlertKey(e.node, e.kind), { node: e.node, kind: e.kind, lastedSeconds: Math.round(e.durationMs / 1000) }));
}

/**
 * Upgrade and treasury findings: raised once when a finding appears (its
 * title is fixed while it lasts; blocks and time left are in the details),
 * resolved when it goes. Keys: upgrade_needed:<wallet>:<kind>:<subject>,
 * tspend_undecided:<wallet>:<hash>.
 */
export function notifyGuardFindings(guards: Pick<GuardScheduler, 'on'>, alerts: Alerts): void {
  guards.on('event', (e) => {
    const a = alertOf(e.finding);
    if (e.type === 'raised') alerts.raise(a.key, a.severity, a.title, a.details);
    else alerts.clear(a.key, { wallet: e.finding.wallet, kind: e.finding.kind });
  });
}

/** A signing-canary failure pages at once (the wallet is not ready from that moment); the next good run resolves it. */
export function notifyCanaryReports(wallet: string, supervisor: { on(event: 'canary', cb: (r: CanaryReport) => void): unknown }, alerts: Alerts): void {
  const key = `cannot_sign:${wallet}`;
  supervisor.on('canary', (r) => {
    if (r.status === 'cannot_sign') {
      alerts.raise(key, 'critical', `wallet ${wallet} cannot sign votes (${r.cause ?? 'unknown cause'})`, { wallet, cause: r.cause ?? 'unknown', message: r.message, ...(r.ticket ? { ticket: r.ticket } : {}) });
    } else {
      alerts.clear(key, { wallet, status: r.status });
    }
  });
}
