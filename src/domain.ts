// Vocabulary shared by every part of the daemon. Kept tiny on purpose: a
// change here is a change to the ledger format, the metrics or the HTTP API.

export type NetworkName = 'mainnet' | 'testnet' | 'simnet';

/** What happened to one winning ticket of ours for one block. */
export type Outcome = 'voted' | 'missed' | 'superseded';

/** Why a winning ticket of ours was not voted. */
export type MissReason =
  | 'wallet_locked'
  | 'wallet_unreachable'
  | 'wallet_not_voting'
  | 'vote_not_broadcast'
  /** Our vote reached dcrd only after the next block had arrived: the race was lost. */
  | 'late'
  /** Our vote was in dcrd's mempool before the next block arrived, and the miner left it out. */
  | 'not_included';

export const MISS_REASONS: readonly MissReason[] = [
  'wallet_locked',
  'wallet_unreachable',
  'wallet_not_voting',
  'vote_not_broadcast',
  'late',
  'not_included',
];

/** Voting policy choices for treasury keys and tspends. */
export type TreasuryChoice = 'yes' | 'no' | 'abstain';

/** A wallet's readiness as the supervisor last observed it. */
export interface WalletReadiness {
  /** gRPC answered the last probe. */
  reachable: boolean;
  /** walletinfo says unlocked (null: unknown). */
  unlocked: boolean | null;
  /** walletinfo says the wallet process votes (--enablevoting). */
  voting: boolean | null;
  /** walletinfo says the wallet is connected to dcrd. */
  daemonConnected: boolean | null;
  /** wallet's best block is within one block of dcrd's. */
  synced: boolean | null;
}

/** Block identity as used throughout: hash in RPC (display) byte order. */
export interface BlockRef {
  hash: string;
  height: number;
}

/** What the signing canary last found (wallet/signing-canary.ts). */
export const CANARY_STATUSES = ['ok', 'no_live_ticket', 'locked_by_design', 'cannot_sign'] as const;
export type CanaryStatus = (typeof CANARY_STATUSES)[number];

/** Why a wallet cannot sign its votes (the cause of a cannot_sign). */
export const CANARY_CAUSES = ['wallet_locked', 'account_locked', 'missing_key', 'watching_only', 'grpc_refused', 'bad_signature', 'build_failed', 'wallet_will_not_vote'] as const;
export type CanaryCause = (typeof CANARY_CAUSES)[number];
