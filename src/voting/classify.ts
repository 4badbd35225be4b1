// Why a winning ticket of ours did not get its vote into the next block.
// Pure: the tracker gathers the evidence, this decides what it means.

import type { MissReason, Outcome, WalletReadiness } from '../domain.js';

export interface VoteEvidence {
  /** The next main-chain block holds a vote by this ticket for the block it won in. */
  includedInNextBlock: boolean;
  /** A vote by this ticket was seen in dcrd's mempool. null: not watched (e.g. found after a restart). */
  seenInMempool: boolean | null;
  /** Wallet readiness when the notification arrived. */
  atNotification: WalletReadiness | null;
  /** A fresh probe taken when the vote was late (null if none was taken). */
  atDeadline: WalletReadiness | null;
  /** When our vote was first known to be at a dcrd (accepted from our broadcast, or seen in its mempool); null: never, or unknown. */
  voteReachedDcrdAt?: number | null;
  /** When the deciding (next) block arrived; null when it was not watched live. */
  nextBlockAt?: number | null;
}

export type Decision = { outcome: Extract<Outcome, 'voted'> } | { outcome: Extract<Outcome, 'missed'>; reason: MissReason };

/**
 * Whose fault the miss was. A vote that was at dcrd before the next block
 * arrived was there in time whatever the wallet looked like: the miner left
 * it out. Otherwise the wallet's state names the fault if it has one, from
 * the most basic (unreachable) to the most specific (voting disabled): a
 * wallet that could not vote when its ticket won sends its vote late, if at
 * all, and that is the wallet's fault, not a lost race. Only a vote sent by
 * a healthy wallet (or dcrvoted) that still reached dcrd after the next block
 * lost the race to the miners: `late`.
 */
export function classify(e: VoteEvidence): Decision {
  if (e.includedInNextBlock) return { outcome: 'voted' };
  const reached = e.voteReachedDcrdAt ?? null;
  const next = e.nextBlockAt ?? null;
  const late = reached !== null && next !== null && reached > next;
  // In the mempool in time; without the block's arrival (found after the fact) a vote seen counts as in time.
  if (!late && (e.seenInMempool === true || reached !== null)) return { outcome: 'missed', reason: 'not_included' };
  // The state when the ticket won decides first: what the wallet did later
  // (a restart to fix it, seen by the deadline probe) is not why it missed.
  const fault = walletFault(e.atNotification) ?? walletFault(e.atDeadline);
  if (fault) return { outcome: 'missed', reason: fault };
  if (late) return { outcome: 'missed', reason: 'late' };
  return { outcome: 'missed', reason: 'vote_not_broadcast' };
}

/** The wallet fault a readiness shows, from the most basic (unreachable) to the most specific (voting disabled). */
function walletFault(s: WalletReadiness | null): Extract<MissReason, 'wallet_unreachable' | 'wallet_locked' | 'wallet_not_voting'> | null {
  if (!s) return null;
  if (!s.reachable) return 'wallet_unreachable';
  if (s.unlocked === false) return 'wallet_locked';
  if (s.voting === false) return 'wallet_not_voting';
  return null;
}

export function describeMiss(reason: MissReason): string {
  switch (reason) {
    case 'wallet_locked':
      return 'the wallet was locked, so it could not sign the vote';
    case 'wallet_unreachable':
      return 'the wallet did not answer, so nothing could vote';
    case 'wallet_not_voting':
      return 'the wallet runs without --enablevoting';
    case 'vote_not_broadcast':
      return "no vote by this ticket reached dcrd's mempool";
    case 'late':
      return 'the vote was sent by a ready wallet but reached dcrd only after the next block had arrived (the race to the miners was lost)';
    case 'not_included':
      return 'the vote was in the mempool before the next block arrived, but that block did not include it';
  }
}
