// Which tickets a wallet owns that can still vote, for the voting-key store.
//
// LiveTicketSource is the seam: the per-wallet ticket index (issue 9 item 1)
// will feed the store through it once it lands. Until then
// WalletTicketListing asks the wallet itself (GetTickets):
// - at start (and after a failed listing): every ticket, so the store learns
//   the live ones and forgets the spent ones;
// - on each connected block: only tickets mined in the last few blocks and
//   the unmined ones, so per-block work stays O(new tickets), not O(tickets);
// - every `fullListingEvery` blocks: everything again, which is when voted,
//   revoked, expired and missed tickets are dropped with their keys.
// After each listing the store fetches the keys it still lacks.

import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { TicketInfo, TicketStatus } from '../wallet/grpc-client.js';

export interface LiveTicketSink {
  ticketAdded(hash: string, ticketTx: Buffer): void;
  ticketRemoved(hash: string): void;
  /** Called after each listing: fetch what is still missing. */
  fetchPending(): Promise<void>;
  /** Hashes the sink holds (a full listing removes those it no longer reports as live). */
  listed(): string[];
}

export interface LiveTicketSource {
  /** A block was connected at this height. */
  onBlock(height: number): void;
  /** The wallet became ready (e.g. unlocked): list if never listed, and fetch what is missing. */
  onWalletReady(): void;
  stop(): void;
}

export interface TicketLister {
  listTickets(fromHeight: number, onTicket: (t: TicketInfo, tx: Buffer) => void): Promise<void>;
}

/** Statuses of a ticket that can still win (dcrwallet TicketStatus). */
const CAN_VOTE: ReadonlySet<TicketStatus> = new Set(['UNMINED', 'IMMATURE', 'LIVE']);

/** Blocks re-listed on each new block: covers a reorg of that depth. */
const RECENT_BLOCKS = 6;

export interface WalletTicketListingOptions {
  walletName: string;
  wallet: TicketLister;
  sink: LiveTicketSink;
  logger: Logger;
  /** Blocks between full listings. */
  fullListingEvery: number;
}

export class WalletTicketListing implements LiveTicketSource {
  readonly #o: WalletTicketListingOptions;
  /** Height of the last full listing; null until one succeeded. */
  #lastFull: number | null = null;
  #tip = 0;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #failureLogged = false;

  constructor(opts: WalletTicketListingOptions) {
    this.#o = opts;
  }

  onBlock(height: number): void {
    this.#tip = Math.max(this.#tip, height);
    this.#schedule();
  }

  onWalletReady(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
  }

  /** One listing at a time; a block arriving meanwhile asks for one more. Resolves when idle (tests). */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#run().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.#schedule();
      }
    });
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const full = this.#lastFull === null || this.#tip - this.#lastFull >= o.fullListingEvery;
    const from = full ? 0 : Math.max(0, this.#tip - RECENT_BLOCKS);
    const tipAtStart = this.#tip;
    const live = new Set<string>();
    try {
      await o.wallet.listTickets(from, (t, tx) => {
        if (CAN_VOTE.has(t.status)) {
          live.add(t.hash);
          o.sink.ticketAdded(t.hash, tx);
        } else {
          o.sink.ticketRemoved(t.hash);
        }
      });
    } catch (err) {
      if (!this.#failureLogged) {
        this.#failureLogged = true;
        o.logger.warn({ event: 'ticket_listing_failed', wallet: o.walletName, err: { message: errorMessage(err) } }, `wallet ${o.walletName}: cannot list its tickets for signing: local (${errorMessage(err)}); trying again at the next block`);
      }
      return;
    }
    this.#failureLogged = false;
    if (full) {
      // Whatever the wallet no longer reports as able to vote is gone (spent, expired, or reorged out and dropped).
      for (const hash of o.sink.listed()) if (!live.has(hash)) o.sink.ticketRemoved(hash);
      this.#lastFull = tipAtStart;
    }
    await o.sink.fetchPending();
  }
}
