// What the vote tracker needs from the outside world, as narrow interfaces,
// so the tracker is tested against small fakes and the daemon wires in the
// real dcrd client, wallet supervisors and ledger.

import type { BlockRef, WalletReadiness } from '../domain.js';
import type { LedgerEntry, OutcomeRecord, ReopenRecord, WinnerRecord } from '../ledger/ledger.js';

export interface DecodedVote {
  txid: string;
  ticketHash: string;
  votedBlock: BlockRef;
  voteBits: number;
}

export interface BlockVotes {
  block: { hash: string; height: number; previousHash: string; time: number };
  votes: DecodedVote[];
  revocations: { txid: string; ticketHash: string }[];
}

/** Read access to dcrd's view of the chain and mempool. */
export interface ChainReader {
  getBlockVotes(hash: string): Promise<BlockVotes>;
  /** confirmations is -1 for a block that is not on the main chain. */
  getBlockHeader(hash: string): Promise<{ hash: string; height: number; previousHash: string; confirmations: number }>;
  getBlockHash(height: number): Promise<string>;
  getBestBlock(): Promise<BlockRef>;
  getRawMempoolVotes(): Promise<string[]>;
  getVoteTx(txid: string): Promise<DecodedVote | null>;
}

export type OwnerAnswer =
  | { owner: string }
  /** No wallet that answered owns it; `unreachable` wallets could not be asked. */
  | { owner: null; unreachable: string[] };

/** The wallets, as the supervisors see them. */
export interface TicketOwners {
  findOwner(ticket: string): Promise<OwnerAnswer>;
  /**
   * For a ticket that just won (so it is live): the same answer, from each
   * wallet's ticket index where it is loaded. Absent: findOwner is used.
   */
  findLiveOwner?(ticket: string): Promise<OwnerAnswer>;
  /** The owner from memory alone (a loaded ticket index holds the ticket); null when memory cannot say. */
  knownOwner?(ticket: string): string | null;
  /** Ask only one wallet (used when a wallet that was away comes back). */
  ownedBy(wallet: string, ticket: string): Promise<boolean>;
  readiness(wallet: string): WalletReadiness;
  /** A fresh probe of the wallet's state, for a vote that is late. */
  probeNow(wallet: string): Promise<WalletReadiness>;
  /** The wallet's status word for a ticket of its own (e.g. LIVE, VOTED, EXPIRED), null if unknown. */
  ticketStatus(wallet: string, ticket: string): Promise<string | null>;
}

// One declaration of the ledger's records, here as the tracker's vocabulary.
export type { LedgerEntry, OutcomeRecord, ReopenRecord, WinnerRecord } from '../ledger/ledger.js';

export interface VoteLedger {
  recordWinner(r: WinnerRecord): Promise<boolean>;
  recordOutcome(r: OutcomeRecord): Promise<boolean>;
  recordReopen(r: ReopenRecord): Promise<boolean>;
  pending(): LedgerEntry[];
  /** The last `limit` winners recorded, newest first. */
  recent(limit: number): LedgerEntry[];
  get(ticket: string, blockHash: string): LedgerEntry | undefined;
}
