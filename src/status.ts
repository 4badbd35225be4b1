// The shape of /status: one document a human or a script can read to learn
// whether every wallet could vote right now, and if not, why.

import type { ChainView } from './dcrd/chain.js';
import type { SyncGuardView } from './dcrd/sync-guard.js';
import type { GuardsView } from './guards/scheduler.js';
import { MISS_REASONS, type BlockRef, type MissReason } from './domain.js';
import type { LedgerCounts, LedgerEntry } from './ledger/ledger.js';
import type { WalletStatusView } from './wallet/wallet-state.js';
import type { NotifierView } from './notify/notifier.js';

export interface StatusDocument {
  version: string;
  network: string;
  startedAt: string;
  ready: boolean;
  reasons: Record<string, string[]>;
  dcrd: {
    address: string;
    connected: boolean;
    bestBlock: BlockRef | null;
    lastBlockAt: string | null;
    reconnects: number;
    nodes: { name: string; address: string; connected: boolean }[];
    /** The sync guard: each node's tip, lag and problems (lagging, forked, not_current). */
    sync: SyncGuardView | null;
  };
  wallets: WalletStatusView[];
  votes: {
    voted: number;
    missed: number;
    superseded: number;
    byReason: Record<MissReason, number>;
    pending: { ticket: string; wallet: string; block: BlockRef; voteSeenMs: number | null }[];
    recentMisses: { ticket: string; wallet: string; height: number; reason: MissReason | undefined; at: string }[];
  };
  /** Notification targets by name and origin only (never a URL path or token), what is firing, the heartbeat's origin. */
  notify: NotifyView;
  /** Upgrade and treasury guards: what needs the operator before the network moves on. */
  guards: GuardsView;
}

export type NotifyView = NotifierView & { heartbeat: string | null };

/** What each part shows of itself; /status and /readyz are assembled from these views alone. */
export interface StatusParts {
  version: string;
  network: string;
  startedAt: Date;
  stopping: boolean;
  /** The primary dcrd's address, as configured. */
  dcrdAddress: string;
  chain: ChainView & { lastError: Error | null };
  /** Problems the sync guard has seen past their grace period, and its view. */
  sync: { reasons: string[]; view: SyncGuardView } | null;
  wallets: { name: string; reasons: string[]; status: WalletStatusView }[];
  counts: LedgerCounts | null;
  recent: LedgerEntry[];
  pending: StatusDocument['votes']['pending'];
  notify: NotifyView;
  guards: GuardsView;
}

/** Every wallet can vote and every dcrd is connected and in sync; otherwise, why not, per part. */
export function readinessOf(p: Pick<StatusParts, 'wallets' | 'chain' | 'stopping' | 'sync'>): { ready: boolean; reasons: Record<string, string[]> } {
  const reasons: Record<string, string[]> = {};
  for (const w of p.wallets) if (w.reasons.length > 0) reasons[w.name] = w.reasons;
  const dcrd: string[] = [];
  if (!p.chain.connected) {
    dcrd.push(`not connected to dcrd at ${p.chain.nodes.map((n) => n.address).join(', ')}${p.chain.lastError ? `: ${p.chain.lastError.message}` : ''}`);
  }
  // A dcrd behind or on a fork sends no winning tickets, or the wrong ones.
  if (p.sync) dcrd.push(...p.sync.reasons);
  if (dcrd.length > 0) reasons.dcrd = dcrd;
  if (p.stopping) reasons.dcrvoted = ['shutting down'];
  return { ready: Object.keys(reasons).length === 0, reasons };
}

export function buildStatus(p: StatusParts): StatusDocument {
  const r = readinessOf(p);
  const c = p.counts;
  return {
    version: p.version,
    network: p.network,
    startedAt: p.startedAt.toISOString(),
    ready: r.ready,
    reasons: r.reasons,
    dcrd: {
      address: p.dcrdAddress,
      connected: p.chain.connected,
      bestBlock: p.chain.bestBlock,
      lastBlockAt: p.chain.lastBlockAt,
      reconnects: p.chain.reconnects,
      nodes: p.chain.nodes,
      sync: p.sync?.view ?? null,
    },
    wallets: p.wallets.map((w) => w.status),
    votes: {
      voted: c?.voted ?? 0,
      missed: c?.missed ?? 0,
      superseded: c?.superseded ?? 0,
      byReason: c?.byReason ?? zeroByReason(),
      pending: p.pending,
      recentMisses: p.recent
        .filter((e) => e.outcome?.outcome === 'missed')
        .slice(0, 10)
        .map((e) => ({
          ticket: e.winner.ticket,
          wallet: e.winner.wallet,
          height: e.winner.block.height,
          reason: e.outcome?.reason,
          at: new Date(e.outcome?.decidedAt ?? e.winner.notifiedAt).toISOString(),
        })),
    },
    notify: p.notify,
    guards: p.guards,
  };
}

function zeroByReason(): Record<MissReason, number> {
  return Object.fromEntries(MISS_REASONS.map((m) => [m, 0])) as Record<MissReason, number>;
}
