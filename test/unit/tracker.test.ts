import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockRef, WalletReadiness } from '../../src/domain.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { MemoryChainCursor } from '../support/memory-cursor.js';
import type { BlockVotes, ChainReader, DecodedVote, OwnerAnswer, TicketOwners } from '../../src/voting/ports.js';
import { VoteTracker } from '../../src/voting/tracker.js';

const h = (n: number, tag = 'b') => (tag + n.toString(16)).padStart(64, '0');
const t = (n: number) => ('f' + n.toString(16)).padStart(64, 'e');

class MemoryChain implements ChainReader {
  main: string[] = [];
  blocks = new Map<string, BlockVotes>();
  mempool = new Map<string, DecodedVote>();
  calls = 0;
  add(height: number, opts: { tag?: string; votes?: DecodedVote[]; revoked?: string[] } = {}): BlockVotes & { ref: BlockRef } {
    const hash = h(height, opts.tag);
    const previousHash = this.main[height - 1] ?? '0'.repeat(64);
    const bv = { block: { hash, height, previousHash, time: 1_700_000_000 + height }, votes: opts.votes ?? [], revocations: (opts.revoked ?? []).map((x) => ({ txid: 'r' + x.slice(1), ticketHash: x })) };
    this.blocks.set(hash, bv);
    this.main[height] = hash;
    this.main.length = height + 1;
    return { ...bv, ref: { hash, height } };
  }
  vote(ticket: string, voted: BlockRef): DecodedVote {
    return { txid: 'a' + ticket.slice(1), ticketHash: ticket, votedBlock: voted, voteBits: 1 };
  }
  async getBlockVotes(hash: string) {
    this.calls++;
    const b = this.blocks.get(hash);
    if (!b) throw new Error('unknown block');
    return b;
  }
  async getBlockHeader(hash: string) {
    const b = this.blocks.get(hash)!;
    return { hash, height: b.block.height, previousHash: b.block.previousHash, confirmations: this.main[b.block.height] === hash ? this.main.length - b.block.height : -1 };
  }
  async getBlockHash(height: number) {
    return this.main[height]!;
  }
  async getBestBlock() {
    const height = this.main.length - 1;
    return { hash: this.main[height]!, height };
  }
  async getRawMempoolVotes() {
    return [...this.mempool.keys()];
  }
  async getVoteTx(txid: string) {
    return this.mempool.get(txid) ?? null;
  }
}

const READY: WalletReadiness = { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true };

class FakeOwners implements TicketOwners {
  owned = new Map<string, string>();
  state: WalletReadiness = READY;
  down = false;
  asked = 0;
  async findOwner(ticket: string): Promise<OwnerAnswer> {
    this.asked++;
    if (this.down) return { owner: null, unreachable: ['main'] };
    const owner = this.owned.get(ticket);
    return owner ? { owner } : { owner: null, unreachable: [] };
  }
  async ownedBy(_w: string, ticket: string) {
    if (this.down) throw new Error('wallet unreachable');
    return this.owned.has(ticket);
  }
  readiness() {
    return this.down ? { ...READY, reachable: false, unlocked: null, voting: null } : this.state;
  }
  async probeNow() {
    return this.readiness();
  }
  async ticketStatus() {
    return 'REVOKED';
  }
}

/**
 * Blocks connected while the tracker was not listening, with the cursor
 * before them: t(1) of ours voted on block 10 (in 11), t(2) won in 11 and was
 * revoked in 12.
 */
async function missedWhileAway(): Promise<{ b10: BlockRef; b11: BlockRef }> {
  owners.owned.set(t(1), 'main');
  owners.owned.set(t(2), 'main');
  await cursor.save({ hash: chain.main[10]!, height: 10 });
  const b10 = { hash: chain.main[10]!, height: 10 };
  chain.add(11, { votes: [chain.vote(t(1), b10)] });
  const b11 = { hash: chain.main[11]!, height: 11 };
  chain.add(12, { revoked: [t(2)] });
  return { b10, b11 };
}

/** The wallet is locked; t(1) of ours wins in block 10 and misses (revoked in 11). */
async function lockedWalletMisses(): Promise<{ b10: BlockRef; b11: BlockVotes & { ref: BlockRef } }> {
  owners.owned.set(t(1), 'main');
  owners.state = { ...READY, unlocked: false };
  const b10 = { hash: chain.main[10]!, height: 10 };
  await tracker.onWinningTickets(b10, [t(1)], Date.now());
  const b11 = chain.add(11, { revoked: [t(1)] });
  await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
  return { b10, b11 };
}

let dir: string;
let ledger: Ledger;
let chain: MemoryChain;
let owners: FakeOwners;
let metrics: Metrics;
let tracker: VoteTracker;
let cursor: MemoryChainCursor;

function makeTracker() {
  return new VoteTracker({
    chain,
    owners,
    ledger,
    cursor,
    metrics,
    logger: pino({ level: 'silent' }),
    walletNames: ['main'],
    voteSeenDeadlineMs: 50,
    mempoolPollMs: 5,
  });
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracker-'));
  ledger = await Ledger.open(dir, { fsync: false });
  chain = new MemoryChain();
  owners = new FakeOwners();
  metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  cursor = new MemoryChainCursor();
  for (let i = 0; i <= 10; i++) chain.add(i);
  tracker = makeTracker();
});

afterEach(async () => {
  tracker.stop();
  await ledger.close();
});

describe('vote tracker', () => {
  it('records our winner, sees its vote in the mempool and marks it voted when the next block includes it', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    chain.mempool.set('v1', chain.vote(t(1), b10));
    await tracker.onWinningTickets(b10, [t(1), t(2), t(3), t(4), t(5)], Date.now());
    await new Promise((r) => setTimeout(r, 30));
    const b11 = chain.add(11, { votes: [chain.vote(t(1), b10)] });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    const e = ledger.get(t(1), b10.hash)!;
    expect(e.outcome).toMatchObject({ outcome: 'voted', includedIn: { height: 11 } });
    expect(e.outcome!.voteSeenMs).toBeGreaterThanOrEqual(0);
    expect(ledger.size).toBe(1);
    expect(await metric('dcrvoted_votes_total', { outcome: 'voted' })).toBe(1);
    expect(await metric('dcrvoted_winning_tickets_total', { wallet: 'main' })).toBe(1);
    expect(ledger.get(t(2), b10.hash)).toBeUndefined();
  });

  it('tells its stage observer when it saw the vote and which block decided it, with that block’s arrival and vote count', async () => {
    const seen: unknown[] = [];
    const decided: unknown[] = [];
    tracker.stop();
    tracker = new VoteTracker({
      chain, owners, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], voteSeenDeadlineMs: 50, mempoolPollMs: 5,
      stages: {
        seen: (ticket, block, txid, at) => seen.push({ ticket, block, txid, at }),
        decided: (w, o, next) => decided.push({ ticket: w.ticket, outcome: o.outcome, next }),
      },
    });
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    chain.mempool.set('v1', chain.vote(t(1), b10));
    const notifiedAt = Date.now();
    await tracker.onWinningTickets(b10, [t(1), t(2)], notifiedAt);
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual([{ ticket: t(1), block: b10, txid: 'v1', at: expect.any(Number) }]);
    expect((seen[0] as { at: number }).at).toBeGreaterThanOrEqual(notifiedAt);
    const b11 = chain.add(11, { votes: [chain.vote(t(1), b10), chain.vote(t(2), b10), chain.vote(t(3), b10)] });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, notifiedAt + 2500);
    expect(decided).toEqual([{ ticket: t(1), outcome: 'voted', next: { block: b11.ref, arrivedAt: notifiedAt + 2500, votes: 3 } }]);
  });

  it('a missed vote carries the wallet state as its reason', async () => {
    const { b10, b11 } = await lockedWalletMisses();
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_locked' });
    expect(await metric('dcrvoted_missed_votes_total', { reason: 'wallet_locked' })).toBe(1);
  });

  it('a vote seen in the mempool but not mined is not_included', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    chain.mempool.set('v1', chain.vote(t(1), b10));
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    await new Promise((r) => setTimeout(r, 30));
    const b11 = chain.add(11);
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'not_included' });
  });

  it('a reorg that removes the block the ticket won in makes it superseded', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    await tracker.onBlockDisconnected({ ...b10, previousHash: chain.main[9]! });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'superseded' });
  });

  it('a reorg noticed only later (side-chain block) is superseded too', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    chain.main.length = 10;
    chain.add(10, { tag: 'c' });
    const b11 = chain.add(11, { tag: 'c' });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: chain.main[10]! });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'superseded' });
  });

  it('per-block work asks only about the winners, whatever the ticket count', async () => {
    for (let i = 0; i < 1000; i++) owners.owned.set(t(1000 + i), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1), t(2), t(3), t(4), t(5)], Date.now());
    expect(owners.asked).toBe(5);
  });

  it('a winner whose wallet was unreachable is recorded when the wallet returns, as wallet_unreachable', async () => {
    owners.owned.set(t(1), 'main');
    owners.down = true;
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    expect(ledger.size).toBe(0);
    const b11 = chain.add(11, { revoked: [t(1)] });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    owners.down = false;
    await tracker.onWalletReady('main');
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_unreachable' });
  });

  it('catches up on blocks connected while it was not listening', async () => {
    const { b10, b11 } = await missedWhileAway();
    await tracker.onDcrdConnected();
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'voted', includedIn: { height: 11 } });
    expect(ledger.get(t(2), b11.hash)!.outcome).toMatchObject({ outcome: 'missed' });
    expect(cursor.load()!.height).toBe(12);
  });

  it('after a restart, pending winners are resolved from the chain exactly once', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    tracker.stop();
    await ledger.close();
    chain.add(11, { votes: [chain.vote(t(1), b10)] });
    ledger = await Ledger.open(dir, { fsync: false });
    tracker = makeTracker();
    await tracker.onDcrdConnected();
    await tracker.onDcrdConnected();
    expect(ledger.size).toBe(1);
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'voted' });
  });

  it('a failing dcrd leaves the winner pending and retries on the next block', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    const b11 = chain.add(11, { votes: [chain.vote(t(1), b10)] });
    const real = chain.getBlockVotes.bind(chain);
    chain.getBlockVotes = async () => {
      throw new Error('dcrd gone');
    };
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.pending()).toHaveLength(1);
    chain.getBlockVotes = real;
    const b12 = chain.add(12);
    await tracker.onBlockConnected({ ...b12.ref, previousHash: b11.ref.hash });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'voted' });
  });

  it('catch-up while the wallet is down: the cursor never passes a winner nobody could answer for, and the winner is recorded when the wallet answers, across a restart', async () => {
    const { b10, b11 } = await missedWhileAway();
    chain.add(13);
    owners.down = true; // dcrvoted started before dcrwallet (host reboot)
    await tracker.onDcrdConnected();
    expect(ledger.size).toBe(0);
    expect(cursor.load()!.height).toBe(10);
    // dcrvoted restarts while the wallet is still down: nothing is lost.
    tracker.stop();
    tracker = makeTracker();
    await tracker.onDcrdConnected();
    expect(cursor.load()!.height).toBe(10);
    const b14 = chain.add(14);
    await tracker.onBlockConnected({ ...b14.ref, previousHash: chain.main[13]! });
    expect(cursor.load()!.height).toBe(10);
    owners.down = false;
    await tracker.onWalletReady('main');
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'voted', includedIn: { height: 11 } });
    expect(ledger.get(t(2), b11.hash)!.outcome).toMatchObject({ outcome: 'missed' });
    const b15 = chain.add(15);
    await tracker.onBlockConnected({ ...b15.ref, previousHash: b14.ref.hash });
    expect(cursor.load()!.height).toBe(15);
  });

  it('a wallet that answers again but is not ready (locked) still says what it owns: deferred winners are asked on the next block', async () => {
    owners.owned.set(t(1), 'main');
    owners.down = true;
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    owners.down = false;
    owners.state = { ...READY, unlocked: false };
    const b11 = chain.add(11, { revoked: [t(1)] });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_unreachable' });
  });

  it('a miss decided on a block that a reorg removes, with the block the ticket won in: revised to superseded, counted, and the replacing blocks’ winners tracked', async () => {
    owners.owned.set(t(7), 'main');
    const { b10, b11 } = await lockedWalletMisses();
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_locked' });
    // A longer chain from another node replaces 10 and 11.
    await tracker.onBlockDisconnected({ ...b11.ref, previousHash: b10.hash });
    await tracker.onBlockDisconnected({ ...b10, previousHash: chain.main[9]! });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'superseded' });
    expect(ledger.counts()).toMatchObject({ missed: 0, superseded: 1 });
    expect(await metric('dcrvoted_missed_votes_revised_total', { wallet: 'main', reason: 'wallet_locked' })).toBe(1);
    expect(await metric('dcrvoted_outcomes_revised_total', { wallet: 'main', from: 'missed' })).toBeGreaterThanOrEqual(1);
    owners.state = READY;
    chain.main.length = 10;
    const c10 = chain.add(10, { tag: 'c' });
    await tracker.onWinningTickets(c10.ref, [t(7)], Date.now());
    await tracker.onBlockConnected({ ...c10.ref, previousHash: chain.main[9]! });
    const c11 = chain.add(11, { tag: 'c', votes: [chain.vote(t(7), c10.ref)] });
    await tracker.onBlockConnected({ ...c11.ref, previousHash: c10.ref.hash });
    expect(ledger.get(t(7), c10.ref.hash)!.outcome).toMatchObject({ outcome: 'voted', includedIn: { hash: c11.ref.hash } });
    // The reorged-away outcome stays superseded; the ticket still live on the new chain is not counted missed.
    expect(ledger.counts()).toMatchObject({ missed: 0, voted: 1, superseded: 1, pending: 0 });
  });

  it('an outcome whose deciding block alone is replaced is reopened and decided again by the replacing block', async () => {
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    const b11 = chain.add(11);
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'vote_not_broadcast' });
    await tracker.onBlockDisconnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.pending().map((e) => e.winner.ticket)).toEqual([t(1)]);
    expect(await metric('dcrvoted_outcomes_revised_total', { wallet: 'main', from: 'missed', to: 'reopened' })).toBe(1);
    chain.main.length = 11;
    const c11 = chain.add(11, { tag: 'c', votes: [chain.vote(t(1), b10)] });
    await tracker.onBlockConnected({ ...c11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b10.hash)).toMatchObject({ outcome: { outcome: 'voted', includedIn: { hash: c11.ref.hash }, revision: 2 }, revision: 2 });
    expect(ledger.counts()).toMatchObject({ missed: 0, voted: 1, revised: 1 });
  });

  it('a block that leaves the main chain and comes back (A → B → A): its winner is decided again, as the chain that stands shows', async () => {
    const { b10, b11 } = await lockedWalletMisses();
    await tracker.onBlockDisconnected({ ...b11.ref, previousHash: b10.hash });
    await tracker.onBlockDisconnected({ ...b10, previousHash: chain.main[9]! });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'superseded' });
    await tracker.onBlockConnected({ ...b10, previousHash: chain.main[9]! });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b10.hash)).toMatchObject({ outcome: { outcome: 'missed', reason: 'wallet_locked' }, revision: 4 });
    expect(ledger.counts()).toMatchObject({ missed: 1, superseded: 0, pending: 0 });
  });

  it('a vote that reached the mempool only after the next block arrived is late; one there in time but left out is not_included', async () => {
    owners.owned.set(t(1), 'main');
    owners.owned.set(t(2), 'main');
    let clock = 1_000_000;
    tracker.stop();
    tracker = new VoteTracker({ chain, owners, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], voteSeenDeadlineMs: 10_000, mempoolPollMs: 5, now: () => clock });
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1), t(2)], clock);
    // t(2)'s vote is in the mempool at once; the block is found 2 s later; t(1)'s vote turns up after it.
    chain.mempool.set('v2', chain.vote(t(2), b10));
    await waitFor(() => tracker.pendingView().find((p) => p.ticket === t(2))?.voteSeenMs !== null);
    clock += 2_000;
    const b11 = chain.add(11);
    const arrived = clock;
    clock += 500;
    chain.mempool.set('v1', chain.vote(t(1), b10));
    await waitFor(() => tracker.pendingView().find((p) => p.ticket === t(1))?.voteSeenMs !== null);
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, arrived);
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'late' });
    expect(ledger.get(t(2), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'not_included' });
    expect(await metric('dcrvoted_missed_votes_total', { reason: 'late' })).toBe(1);
  });

  it('votingMode daemon: a locked wallet is no reason for a miss (dcrvoted signs with the passphrase), even when the probe at the deadline saw it locked', async () => {
    owners.owned.set(t(1), 'main');
    owners.state = { ...READY, unlocked: false, voting: false };
    let clock = 5_000_000;
    // The signature is still in flight when the next block decides.
    const caster = { mode: 'daemon' as const, cast: () => new Promise<never>(() => undefined) };
    tracker.stop();
    tracker = new VoteTracker({ chain, owners, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], casters: new Map([['main', caster]]), voteSeenDeadlineMs: 1, mempoolPollMs: 5, now: () => clock });
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], clock);
    await new Promise((r) => setTimeout(r, 30)); // past the vote-seen deadline: the probe says locked
    const b11 = chain.add(11);
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, clock + 1_000);
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'vote_not_broadcast' });
  });

  it('a vote dcrvoted could not cast is raised as at risk with the cast error, and resolved with the outcome; no miss is sent for a vote that got in', async () => {
    owners.owned.set(t(1), 'main');
    const calls: string[] = [];
    const alerts = {
      raise: (key: string, severity: string, _title: string, d: Record<string, unknown> = {}) => calls.push(`raise ${key} ${severity} ${String(d.reason)}`),
      clear: (key: string, d: Record<string, unknown> = {}) => calls.push(`clear ${key} ${String(d.outcome)}`),
      event: (key: string, severity: string) => calls.push(`event ${key} ${severity}`),
    };
    const caster = { mode: 'both' as const, cast: () => Promise.reject(new Error('wallet refused to sign')) };
    tracker.stop();
    tracker = new VoteTracker({ chain, owners, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], casters: new Map([['main', caster]]), voteSeenDeadlineMs: 1, mempoolPollMs: 5, alerts });
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tracker.onWinningTickets(b10, [t(1)], Date.now());
    await waitFor(() => calls.length >= 2);
    const b11 = chain.add(11, { votes: [chain.vote(t(1), b10)] });
    await tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, Date.now());
    const key = `vote_at_risk:${t(1)}:${b10.hash}`;
    expect(calls.filter((c) => c.startsWith(`raise ${key}`))).toContain(`raise ${key} critical dcrvoted could not cast the vote: wallet refused to sign`);
    expect(calls.at(-1)).toBe(`clear ${key} voted`);
    expect(calls.some((c) => c.startsWith('event'))).toBe(false);
  });

  it('a winner a loaded ticket index knows is cast at the notification, while the queue still works on the block before; cast once', async () => {
    owners.owned.set(t(1), 'main');
    const casts: string[] = [];
    const caster = { mode: 'daemon' as const, cast: async (ticket: string) => (casts.push(ticket), { txid: 'v' + ticket.slice(1), accepted: ['dcrd'], firstAcceptedMs: 1 }) };
    const indexed = Object.assign(Object.create(owners) as FakeOwners, { knownOwner: (ticket: string) => owners.owned.get(ticket) ?? null });
    tracker.stop();
    tracker = new VoteTracker({ chain, owners: indexed, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], casters: new Map([['main', caster]]), voteSeenDeadlineMs: 50, mempoolPollMs: 5 });
    // The block before is still being handled: its votes are slow to read.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reading = false;
    const real = chain.getBlockVotes.bind(chain);
    chain.getBlockVotes = async (hash) => {
      reading = true;
      await gate;
      return real(hash);
    };
    const b10 = { hash: chain.main[10]!, height: 10 };
    const b11 = chain.add(11);
    const connected = tracker.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    await waitFor(() => reading);
    const winners = tracker.onWinningTickets(b11.ref, [t(1), t(9)], Date.now());
    expect(casts).toEqual([t(1)]);
    expect(ledger.get(t(1), b11.ref.hash)).toBeUndefined(); // not recorded yet: the queue is busy
    release();
    chain.getBlockVotes = real;
    await connected;
    await winners;
    expect(casts).toEqual([t(1)]);
    expect(ledger.get(t(1), b11.ref.hash)).toBeDefined();
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not met');
}

describe('vote tracker: decisions read from a dcrd that has the block', () => {
  /** A second node's view: the same blocks up to 10, then its own. */
  function otherNode(): MemoryChain {
    const c = new MemoryChain();
    for (let i = 0; i <= 10; i++) c.add(i);
    return c;
  }

  function trackerWith(readers: () => ChainReader[]): VoteTracker {
    tracker.stop();
    tracker = new VoteTracker({ chain, owners, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], voteSeenDeadlineMs: 50, mempoolPollMs: 5, nodeReaders: readers });
    return tracker;
  }

  it('the next block announced by another node, not yet at the primary: decided at once from the node that has it', async () => {
    const second = otherNode();
    const tr = trackerWith(() => [chain, second]);
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tr.onWinningTickets(b10, [t(1)], Date.now());
    const b11 = second.add(11, { votes: [second.vote(t(1), b10)] });
    await tr.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'voted', includedIn: { hash: b11.ref.hash, height: 11 } });
    expect(cursor.load()).toMatchObject({ hash: b11.ref.hash, height: 11 });
  });

  it('a primary on a fork of its own is no reason for superseded: the node whose chain holds the winner decides', async () => {
    const second = otherNode();
    const tr = trackerWith(() => [chain, second]);
    owners.owned.set(t(1), 'main');
    // The winner's block 11 exists on the second node only; the primary
    // has it as a side-chain block (confirmations -1) and is still at 11.
    const b11 = second.add(11);
    chain.blocks.set(b11.ref.hash, { ...b11 });
    chain.add(11, { tag: 'c' });
    await tr.onWinningTickets(b11.ref, [t(1)], Date.now());
    const b12 = second.add(12, { revoked: [] });
    await tr.onBlockConnected({ ...b12.ref, previousHash: b11.ref.hash });
    expect(ledger.get(t(1), b11.ref.hash)!.outcome).toMatchObject({ outcome: 'missed', decidedBy: { hash: b12.ref.hash, height: 12 } });
    // Later, with the primary still behind at 11 on its fork: nothing is superseded either.
    owners.owned.set(t(2), 'main');
    await tr.onWinningTickets(b12.ref, [t(2)], Date.now());
    const b13 = second.add(13);
    await tr.onBlockConnected({ ...second.add(14).ref, previousHash: b13.ref.hash });
    expect(ledger.get(t(2), b12.ref.hash)!.outcome).toMatchObject({ outcome: 'missed', decidedBy: { hash: b13.ref.hash, height: 13 } });
  });

  it('a winner no node can answer for stays pending without holding up the other pending winners or the cursor', async () => {
    const tr = trackerWith(() => [chain]);
    owners.owned.set(t(1), 'main');
    owners.owned.set(t(2), 'main');
    const b9 = { hash: chain.main[9]!, height: 9 };
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tr.onWinningTickets(b9, [t(1)], Date.now());
    await tr.onWinningTickets(b10, [t(2)], Date.now());
    const broken = chain.getBlockHeader.bind(chain);
    chain.getBlockHeader = async (hash: string) => {
      if (hash === b9.hash) throw new Error('-5: Block not found');
      return broken(hash);
    };
    const b11 = chain.add(11, { votes: [chain.vote(t(2), b10)] });
    await tr.onBlockConnected({ ...b11.ref, previousHash: b10.hash });
    expect(ledger.get(t(1), b9.hash)!.outcome).toBeUndefined();
    expect(ledger.get(t(2), b10.hash)!.outcome).toMatchObject({ outcome: 'voted' });
    expect(cursor.load()).toMatchObject({ hash: b11.ref.hash, height: 11 });
  });
});

describe('vote tracker: the grace before a not-included decision', () => {
  let clock: number;
  let timers: { ms: number; fn: () => void; cancelled: boolean }[];

  function graceTracker(): VoteTracker {
    tracker.stop();
    clock = 1_000_000;
    timers = [];
    tracker = new VoteTracker({
      chain, owners, ledger, cursor, metrics, logger: pino({ level: 'silent' }), walletNames: ['main'], voteSeenDeadlineMs: 10_000, mempoolPollMs: 5, now: () => clock,
      decisionGraceMs: 1_500,
      schedule: (ms, fn) => {
        const timer = { ms, fn, cancelled: false };
        timers.push(timer);
        return () => { timer.cancelled = true; };
      },
    });
    return tracker;
  }

  it('a ready wallet’s vote seen milliseconds after the next block: the decision waits for it and calls the lost race `late`', async () => {
    const tr = graceTracker();
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tr.onWinningTickets(b10, [t(1)], clock);
    clock += 2_000;
    const b11 = chain.add(11);
    await tr.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, clock);
    expect(ledger.get(t(1), b10.hash)!.outcome).toBeUndefined();
    expect(timers.map((x) => x.ms)).toEqual([1_500]);
    // The vote turns up 40 ms after the block: decided then, not at the end of the grace.
    clock += 40;
    chain.mempool.set('v1', chain.vote(t(1), b10));
    await waitFor(() => ledger.get(t(1), b10.hash)?.outcome !== undefined);
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'late', decidedBy: { hash: b11.ref.hash } });
    expect(timers[0]!.cancelled).toBe(true);
  });

  it('no vote by the end of the grace: vote_not_broadcast', async () => {
    const tr = graceTracker();
    owners.owned.set(t(1), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tr.onWinningTickets(b10, [t(1)], clock);
    const b11 = chain.add(11);
    await tr.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, clock);
    expect(ledger.get(t(1), b10.hash)!.outcome).toBeUndefined();
    timers[0]!.fn();
    await tr.idle();
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'vote_not_broadcast', decidedBy: { hash: b11.ref.hash } });
  });

  it('a wallet with a fault when its ticket won is decided at once, with no grace', async () => {
    const tr = graceTracker();
    owners.owned.set(t(1), 'main');
    owners.state = { ...READY, unlocked: false };
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tr.onWinningTickets(b10, [t(1)], clock);
    const b11 = chain.add(11);
    await tr.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, clock);
    expect(ledger.get(t(1), b10.hash)!.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_locked' });
    expect(timers).toEqual([]);
  });

  it('a winner held in its grace does not hold up the next block’s winners', async () => {
    const tr = graceTracker();
    owners.owned.set(t(1), 'main');
    owners.owned.set(t(2), 'main');
    const b10 = { hash: chain.main[10]!, height: 10 };
    await tr.onWinningTickets(b10, [t(1)], clock);
    const b11 = chain.add(11);
    await tr.onBlockConnected({ ...b11.ref, previousHash: b10.hash }, clock);
    await tr.onWinningTickets(b11.ref, [t(2)], clock);
    expect(ledger.get(t(2), b11.ref.hash)?.winner).toMatchObject({ ticket: t(2) });
    expect(ledger.get(t(1), b10.hash)!.outcome).toBeUndefined();
  });
});
