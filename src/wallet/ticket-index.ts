// The tickets one wallet holds that can still win (unmined, immature, live),
// in memory, each with its purchase transaction: on `winningtickets`
// ownership is a map lookup and the vote can be built without asking the
// wallet anything. Filled from GetTickets and kept current from the wallet's
// TransactionNotifications (ticket-index-feed.ts does the I/O); this module
// only holds the map and applies what the wallet reported.
//
// What enters and leaves (dcrwallet rpcserver TransactionNotifications,
// wallet/udb TicketDetails):
// - a TICKET_PURCHASE, unmined or in an attached block, joins (its mined
//   height is kept: a ticket is live once tip − height > TicketMaturity,
//   dcrwallet udb ticketMatured);
// - a VOTE (spends input 1, the ticket) or REVOCATION (input 0) in an
//   attached block makes the ticket leave: voted, or revoked after a miss or
//   expiry (automatic revocations, DCP0009);
// - a detached block puts back what it had removed and un-mines what it had
//   mined (the last MAX_REORG_BLOCKS blocks are remembered for that).
// A wallet's tickets that can win are bounded by the ticket pool and the
// mempool; MAX_TICKETS caps the map anyway, and a wallet over it is not
// indexed (its winners take the GetTicket path).

import { EventEmitter } from 'node:events';
import { trimOldest } from '../bounded.js';
import { internalToDisplayHash } from '../dcrd/hex.js';
import type { NetworkName } from '../domain.js';
import { readTicket } from '../vote/builder.js';
import { decodeTx } from '../vote/tx.js';
import type { WalletTicket, WalletTx, WalletTxNotification } from './grpc-client.js';

/** chaincfg TicketMaturity (dcrd chaincfg/v3 mainnetparams.go, testnetparams.go, simnetparams.go). */
export const TICKET_MATURITY: Readonly<Record<NetworkName, number>> = { mainnet: 256, testnet: 16, simnet: 16 };

/** More than any wallet can hold unspent (mainnet's live pool is ~41k); the map never grows past it. */
export const MAX_TICKETS = 250_000;
/** Blocks whose changes to the index are remembered, to undo them in a reorg. */
export const MAX_REORG_BLOCKS = 32;

/** Statuses of a ticket that can still win (dcrwallet marshalTicketDetails). */
const CAN_WIN = new Set(['UNMINED', 'IMMATURE', 'LIVE']);

interface Entry {
  /**
   * The purchase transaction, serialized: what the vote's commitments and
   * price come from. null when the wallet's bytes are not a ticket purchase
   * (never expected): the ticket is still the wallet's, its vote takes the
   * full path.
   */
  tx: Buffer | null;
  /** null while unmined. */
  minedHeight: number | null;
}

interface BlockChanges {
  mined: string[];
  spent: [string, Entry][];
}

type Events = {
  /** A ticket joined (filled, bought, or back after a reorg). */
  added: [ticket: string];
  /** A ticket left (voted, revoked, or gone from a refill). */
  removed: [ticket: string];
  loaded: [];
  unloaded: [];
};

export class TicketIndexFullError extends Error {
  override readonly name = 'TicketIndexFullError';
}

export class TicketIndex extends EventEmitter<Events> {
  readonly #maturity: number;
  readonly #max: number;
  #entries = new Map<string, Entry>();
  #loaded = false;
  #tip: number | null = null;
  readonly #blocks = new Map<string, BlockChanges>();
  /** Transactions the wallet reported that are not what their type says (never expected). */
  malformed = 0;

  constructor(opts: { network: NetworkName; maxTickets?: number }) {
    super();
    this.#maturity = TICKET_MATURITY[opts.network];
    this.#max = opts.maxTickets ?? MAX_TICKETS;
  }

  /** True while the index mirrors the wallet (filled, notifications flowing). */
  get loaded(): boolean {
    return this.#loaded;
  }

  get size(): number {
    return this.#entries.size;
  }

  get tipHeight(): number | null {
    return this.#tip;
  }

  has(ticket: string): boolean {
    return this.#entries.has(ticket);
  }

  /** The ticket's purchase transaction, serialized; null when not indexed. */
  ticketTx(ticket: string): Buffer | null {
    return this.#entries.get(ticket)?.tx ?? null;
  }

  /** Every indexed ticket (for a subscriber that starts late); O(tickets), never per block. */
  tickets(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /**
   * One live ticket of this wallet (for a signing canary), or null. The map
   * keeps the wallet's order, oldest block first, so the first mature entry
   * is almost always among the first few looked at.
   */
  someLive(): string | null {
    if (!this.#loaded || this.#tip === null) return null;
    for (const [hash, e] of this.#entries) {
      if (e.minedHeight !== null && this.#tip - e.minedHeight > this.#maturity) return hash;
    }
    return null;
  }

  /**
   * Replace the contents with a fresh GetTickets listing (startup, or after
   * the wallet came back). Subscribers hear only the difference.
   */
  fill(tickets: Iterable<WalletTicket>, tipHeight: number | null = this.#tip): void {
    const next = new Map<string, Entry>();
    for (const t of tickets) {
      if (!CAN_WIN.has(t.status)) continue;
      if (next.size >= this.#max) throw new TicketIndexFullError(`wallet holds more than ${this.#max} tickets that can win; not indexed`);
      next.set(t.hash, { tx: this.#usable(t.tx), minedHeight: t.blockHeight });
    }
    const before = this.#entries;
    this.#entries = next;
    this.#blocks.clear();
    if (tipHeight !== null) this.#tip = tipHeight;
    for (const hash of before.keys()) if (!next.has(hash)) this.emit('removed', hash);
    for (const hash of next.keys()) if (!before.has(hash)) this.emit('added', hash);
    if (!this.#loaded) {
      this.#loaded = true;
      this.emit('loaded');
    }
  }

  /** The index no longer follows the wallet (its notifications ended): owners are asked with GetTicket again. */
  unload(): void {
    if (!this.#loaded) return;
    this.#loaded = false;
    this.emit('unloaded');
  }

  /** dcrd connected a block: tickets mature by height alone. */
  blockConnected(height: number): void {
    if (this.#tip === null || height > this.#tip) this.#tip = height;
  }

  /** Apply one TransactionNotifications message. */
  apply(n: WalletTxNotification): void {
    for (const hash of n.detached) this.#undoBlock(hash);
    for (const b of n.attached) {
      const changes: BlockChanges = { mined: [], spent: [] };
      for (const tx of b.txs) this.#applyTx(tx, b.height, changes);
      if (changes.mined.length > 0 || changes.spent.length > 0) {
        this.#blocks.set(b.hash, changes);
        trimOldest(this.#blocks, MAX_REORG_BLOCKS);
      }
      this.blockConnected(b.height);
    }
    for (const tx of n.unmined) if (tx.type === 'TICKET_PURCHASE') this.#applyTx(tx, null, null);
  }

  /** Rough bytes held: the transactions plus a fixed per-entry cost (measured in bench/ticket-index.ts). */
  approxBytes(): number {
    let bytes = 0;
    for (const e of this.#entries.values()) bytes += (e.tx?.length ?? 0) + ENTRY_OVERHEAD_BYTES;
    return bytes;
  }

  #usable(tx: Buffer): Buffer | null {
    if (isTicketPurchase(tx)) return tx;
    this.malformed++;
    return null;
  }

  #applyTx(tx: WalletTx, height: number | null, changes: BlockChanges | null): void {
    if (tx.type === 'TICKET_PURCHASE') {
      const e = this.#entries.get(tx.hash);
      if (e) {
        if (height !== null) e.minedHeight = height;
      } else {
        if (this.#entries.size >= this.#max) {
          // Never expected (see MAX_TICKETS); the index stops claiming to know everything.
          this.unload();
          return;
        }
        this.#entries.set(tx.hash, { tx: this.#usable(tx.tx), minedHeight: height });
        this.emit('added', tx.hash);
      }
      changes?.mined.push(tx.hash);
      return;
    }
    if (height === null || (tx.type !== 'VOTE' && tx.type !== 'REVOCATION')) return;
    const ticket = spentTicket(tx);
    if (ticket === null) {
      this.malformed++;
      return;
    }
    const e = this.#entries.get(ticket);
    if (!e) return;
    this.#entries.delete(ticket);
    changes?.spent.push([ticket, e]);
    this.emit('removed', ticket);
  }

  #undoBlock(hash: string): void {
    const c = this.#blocks.get(hash);
    if (!c) return;
    this.#blocks.delete(hash);
    for (const t of c.mined) {
      const e = this.#entries.get(t);
      if (e) e.minedHeight = null;
    }
    for (const [t, e] of c.spent) {
      if (this.#entries.has(t)) continue;
      this.#entries.set(t, e);
      this.emit('added', t);
    }
  }
}

/** Map entry, key string and Buffer object around each transaction (measured at 100k in bench/ticket-index.ts). */
const ENTRY_OVERHEAD_BYTES = 240;

function isTicketPurchase(tx: Buffer): boolean {
  const d = decodeTx(tx);
  if (!d.ok || d.value.type === 'onlyWitness') return false;
  try {
    readTicket(d.value.tx);
    return true;
  } catch {
    return false;
  }
}

/** The ticket a vote (input 1) or revocation (input 0) spends. */
function spentTicket(tx: WalletTx): string | null {
  const d = decodeTx(tx.tx);
  if (!d.ok || d.value.type === 'onlyWitness') return null;
  const input = d.value.tx.txIn[tx.type === 'VOTE' ? 1 : 0];
  return input ? internalToDisplayHash(input.prevOut.hash) : null;
}
