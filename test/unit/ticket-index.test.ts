import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { displayHashToInternal } from '../../src/dcrd/hex.js';
import { serializeTx, TX_TREE_STAKE, txid, type MsgTx } from '../../src/vote/tx.js';
import type { WalletTicket, WalletTx, WalletTxNotification } from '../../src/wallet/grpc-client.js';
import { TicketIndex, TicketIndexFullError, MAX_REORG_BLOCKS } from '../../src/wallet/ticket-index.js';
import { TicketIndexFeed, type NotificationStream, type TicketIndexWallet } from '../../src/wallet/ticket-index-feed.js';
import { voteFixtures, type VoteFixture as Fixture } from '../support/vote-fixtures.js';

const fixtures = voteFixtures.map((v) => v.fx);
// Distinct tickets (several fixtures vote with the same ticket on two blocks).
const tickets = [...new Map(fixtures.map((f) => [f.ticketHash, f])).values()];
const [A, B, C] = tickets as [Fixture, Fixture, Fixture];

const blockHash = (n: number) => n.toString(16).padStart(64, '0');
const listed = (f: Fixture, status: WalletTicket['status'], blockHeight: number | null = 100): WalletTicket => ({ hash: f.ticketHash, status, tx: Buffer.from(f.ticketHex, 'hex'), blockHeight });
const purchase = (f: Fixture): WalletTx => ({ hash: f.ticketHash, tx: Buffer.from(f.ticketHex, 'hex'), type: 'TICKET_PURCHASE' });
const vote = (f: Fixture): WalletTx => ({ hash: f.voteTxid, tx: Buffer.from(f.voteHex, 'hex'), type: 'VOTE' });

/** A revocation: input 0 spends the ticket (dcrd stake.CheckSSRtx); only that input matters here. */
function revocation(f: Fixture): WalletTx {
  const tx: MsgTx = {
    version: 2,
    txIn: [{ prevOut: { hash: displayHashToInternal(f.ticketHash), index: 0, tree: TX_TREE_STAKE }, sequence: 0xffffffff, valueIn: 1n, blockHeight: 0, blockIndex: 0xffffffff, signatureScript: new Uint8Array(0) }],
    txOut: [{ value: 1n, version: 0, pkScript: Uint8Array.of(0xbc, 0x76, 0xa9, 0x14, ...new Uint8Array(20), 0x88, 0xac) }],
    lockTime: 0,
    expiry: 0,
  };
  return { hash: txid(tx), tx: Buffer.from(serializeTx(tx)), type: 'REVOCATION' };
}

const block = (n: number, txs: WalletTx[]): WalletTxNotification => ({ attached: [{ hash: blockHash(n), height: n, txs }], detached: [], unmined: [] });

function recording(index: TicketIndex) {
  const events: string[] = [];
  index.on('added', (t) => events.push(`+${t.slice(0, 6)}`));
  index.on('removed', (t) => events.push(`-${t.slice(0, 6)}`));
  return events;
}

describe('ticket index', () => {
  it('is filled from GetTickets with the tickets that can still win, each with its purchase transaction', () => {
    const index = new TicketIndex({ network: 'simnet' });
    const events = recording(index);
    expect(index.loaded).toBe(false);
    index.fill([listed(A, 'LIVE'), listed(B, 'VOTED'), listed(C, 'UNMINED', null)], 200);
    expect(index.loaded).toBe(true);
    expect(index.has(A.ticketHash)).toBe(true);
    expect(index.has(B.ticketHash)).toBe(false); // voted: cannot win again
    expect(index.has(C.ticketHash)).toBe(true);
    expect(index.ticketTx(A.ticketHash)?.toString('hex')).toBe(A.ticketHex);
    expect(events).toEqual([`+${A.ticketHash.slice(0, 6)}`, `+${C.ticketHash.slice(0, 6)}`]);
  });

  it('a ticket bought joins; its vote or revocation in a block makes it leave; a vote still in the mempool does not', () => {
    const index = new TicketIndex({ network: 'simnet' });
    index.fill([listed(A, 'LIVE')], 200);
    const events = recording(index);
    index.apply({ attached: [], detached: [], unmined: [purchase(B)] });
    expect(index.has(B.ticketHash)).toBe(true);
    index.apply({ attached: [], detached: [], unmined: [vote(A)] });
    expect(index.has(A.ticketHash)).toBe(true);
    index.apply(block(201, [vote(A)]));
    expect(index.has(A.ticketHash)).toBe(false);
    index.apply(block(202, [revocation(B)]));
    expect(index.has(B.ticketHash)).toBe(false);
    expect(events).toEqual([`+${B.ticketHash.slice(0, 6)}`, `-${A.ticketHash.slice(0, 6)}`, `-${B.ticketHash.slice(0, 6)}`]);
  });

  it('a reorg puts back the ticket whose vote the detached block held', () => {
    const index = new TicketIndex({ network: 'simnet' });
    index.fill([listed(A, 'LIVE')], 200);
    index.apply(block(201, [vote(A)]));
    expect(index.has(A.ticketHash)).toBe(false);
    index.apply({ attached: [], detached: [blockHash(201)], unmined: [] });
    expect(index.has(A.ticketHash)).toBe(true);
    expect(index.ticketTx(A.ticketHash)?.toString('hex')).toBe(A.ticketHex);
  });

  it('remembers only the last blocks for reorgs', () => {
    const index = new TicketIndex({ network: 'simnet' });
    index.fill([listed(A, 'LIVE')], 200);
    index.apply(block(201, [vote(A)]));
    for (let h = 202; h < 202 + MAX_REORG_BLOCKS; h++) index.apply(block(h, [purchase(B)]));
    index.apply({ attached: [], detached: [blockHash(201)], unmined: [] });
    expect(index.has(A.ticketHash)).toBe(false);
  });

  it('a refill after a reconnect tells subscribers only what changed', () => {
    const index = new TicketIndex({ network: 'simnet' });
    index.fill([listed(A, 'LIVE'), listed(B, 'LIVE')], 200);
    index.unload();
    expect(index.loaded).toBe(false);
    const events = recording(index);
    index.fill([listed(B, 'LIVE'), listed(C, 'IMMATURE')], 210);
    expect(index.loaded).toBe(true);
    expect(events).toEqual([`-${A.ticketHash.slice(0, 6)}`, `+${C.ticketHash.slice(0, 6)}`]);
  });

  it('one live ticket: mined more than TicketMaturity blocks ago (dcrwallet ticketMatured)', () => {
    const index = new TicketIndex({ network: 'simnet' });
    index.fill([listed(C, 'UNMINED', null), listed(A, 'IMMATURE', 100)], 116);
    expect(index.someLive()).toBeNull();
    index.blockConnected(117);
    expect(index.someLive()).toBe(A.ticketHash);
  });

  it('is bounded: a wallet with more tickets than the cap is not indexed, and a ticket past the cap unloads it', () => {
    const index = new TicketIndex({ network: 'simnet', maxTickets: 2 });
    expect(() => index.fill([listed(A, 'LIVE'), listed(B, 'LIVE'), listed(C, 'LIVE')], 200)).toThrow(TicketIndexFullError);
    expect(index.loaded).toBe(false);
    index.fill([listed(A, 'LIVE'), listed(B, 'LIVE')], 200);
    index.apply({ attached: [], detached: [], unmined: [purchase(C)] });
    expect(index.size).toBe(2);
    expect(index.loaded).toBe(false);
  });

  it('bytes that are not a ticket purchase: still the wallet’s ticket, but no transaction to build from', () => {
    const index = new TicketIndex({ network: 'simnet' });
    index.fill([{ hash: A.ticketHash, status: 'LIVE', tx: Buffer.from('0100', 'hex'), blockHeight: 100 }], 200);
    expect(index.has(A.ticketHash)).toBe(true);
    expect(index.ticketTx(A.ticketHash)).toBeNull();
    expect(index.malformed).toBe(1);
  });
});

/** A wallet whose notification streams the test drives. */
class ScriptedWallet implements TicketIndexWallet {
  listing: WalletTicket[] = [];
  streams: (EventEmitter & NotificationStream & { push(n: WalletTxNotification): void; end(): void })[] = [];
  fail: Error | null = null;
  duringList: (() => void) | null = null;
  async listTickets(_from: number, onTicket: (t: WalletTicket, tx: Buffer) => void): Promise<void> {
    if (this.fail) throw this.fail;
    this.duringList?.();
    for (const t of this.listing) onTicket(t, t.tx);
  }
  async bestBlock() {
    return { hash: blockHash(300), height: 300 };
  }
  transactionNotifications(): NotificationStream {
    const e = Object.assign(new EventEmitter(), {
      ended: false,
      cancel() {
        e.end();
      },
      push(n: WalletTxNotification) {
        e.emit('data', n);
      },
      end() {
        if (e.ended) return;
        e.ended = true;
        e.emit('end');
      },
    });
    this.streams.push(e);
    return e;
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('ticket index feed', () => {
  const logger = pino({ level: 'silent' });

  it('subscribes before listing, so what happens during the fill is not lost', async () => {
    const wallet = new ScriptedWallet();
    wallet.listing = [listed(A, 'LIVE')];
    // A's vote is mined while GetTickets runs: the listing still shows A live.
    wallet.duringList = () => wallet.streams[0]?.push(block(301, [vote(A)]));
    const index = new TicketIndex({ network: 'simnet' });
    const feed = new TicketIndexFeed({ walletName: 'w', wallet, index, logger, backoffMinMs: 1, backoffMaxMs: 5 });
    feed.start();
    await until(() => index.loaded);
    expect(index.has(A.ticketHash)).toBe(false);
    wallet.streams[0]?.push({ attached: [], detached: [], unmined: [purchase(B)] });
    expect(index.has(B.ticketHash)).toBe(true);
    await feed.stop();
    expect(index.loaded).toBe(false);
  });

  it('unloads when the wallet’s notifications end, and fills again after the reconnect', async () => {
    const wallet = new ScriptedWallet();
    wallet.listing = [listed(A, 'LIVE')];
    const index = new TicketIndex({ network: 'simnet' });
    const feed = new TicketIndexFeed({ walletName: 'w', wallet, index, logger, backoffMinMs: 1, backoffMaxMs: 5 });
    feed.start();
    await until(() => index.loaded);
    wallet.fail = new Error('wallet unreachable');
    wallet.listing = [listed(B, 'LIVE')];
    wallet.streams[0]?.end();
    await until(() => !index.loaded);
    await until(() => wallet.streams.length >= 3); // retried while the wallet is away
    expect(index.loaded).toBe(false);
    wallet.fail = null;
    await until(() => index.loaded);
    expect(feed.fills).toBe(2);
    expect(index.has(A.ticketHash)).toBe(false);
    expect(index.has(B.ticketHash)).toBe(true);
    await feed.stop();
  });
});
