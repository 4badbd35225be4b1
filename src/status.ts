// The shape of /status: one document a human or a script can read to learn
// whether every wallet could vote right now, and if not, why.

import type { BlockRef, MissReason } from './domain.js';
import type { WalletStatusView } from './wallet/supervisor.js';

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
}
