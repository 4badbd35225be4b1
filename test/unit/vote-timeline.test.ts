// A vote's timeline assembled from the events the daemon feeds it, in any
// order, with each node's delay, and with unobserved stages left out rather
// than guessed; and how `dcrvoted votes --ticket` shows it.

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { formatTicket, parseTicketHash, timelineRows } from '../../src/commands/vote-timeline.js';
import { timelineProblem, type TimelineRecord, type WinnerRecord } from '../../src/ledger/record.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { VoteTimelines } from '../../src/voting/timeline.js';
import type { OutcomeRecord } from '../../src/voting/ports.js';

const T0 = 1_700_000_000_000;
const TICKET = 'ab'.repeat(32);
const BLOCK = { hash: 'cd'.repeat(32), height: 500 };
const NEXT = { hash: 'ef'.repeat(32), height: 501 };
const WINNER: WinnerRecord = {
  kind: 'winner',
  ticket: TICKET,
  wallet: 'main',
  block: BLOCK,
  notifiedAt: T0,
  readiness: { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true },
};
const VOTED: OutcomeRecord = { kind: 'outcome', ticket: TICKET, block: BLOCK, outcome: 'voted', includedIn: NEXT, decidedAt: T0 + 5000 };

function setup(mode: 'wallet' | 'daemon' | 'both' = 'daemon') {
  const written: TimelineRecord[] = [];
  const jobs: (() => void)[] = [];
  const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  const timelines = new VoteTimelines({
    ledger: {
      recordTimeline: async (r) => {
        written.push(r);
        return true;
      },
    },
    metrics,
    logger: pino({ level: 'silent' }),
    casterOf: () => mode,
    now: () => T0,
    defer: (job) => jobs.push(job),
  });
  const flush = () => {
    while (jobs.length > 0) jobs.shift()!();
  };
  return { timelines, written, flush, metrics, pendingJobs: () => jobs.length };
}

/** Every event of one dcrvoted-cast vote watched by two nodes, as (name, apply) pairs. */
function events(t: VoteTimelines): [string, () => void][] {
  return [
    ['first notification', () => t.notified(BLOCK.hash, 'alpha', T0)],
    ['beta notification', () => t.notifiedAgain(BLOCK.hash, 'beta', T0 + 4)],
    ['gamma notification', () => t.notifiedAgain(BLOCK.hash, 'gamma', T0 + 2)],
    [
      'cast',
      () =>
        t.castDone(TICKET, BLOCK, {
          builtAt: T0 + 1.25,
          signedAt: T0 + 6,
          signer: 'local',
          nodes: [
            { node: 'beta', ok: true, at: T0 + 8 },
            { node: 'alpha', ok: true, at: T0 + 7 },
            { node: 'gamma', ok: false, at: T0 + 9, error: 'rejected transaction: too many votes' },
          ],
        }),
    ],
    ['alpha mempool (tracker)', () => t.inMempool(TICKET, BLOCK.hash, 'alpha', T0 + 20)],
    ['alpha mempool (rebroadcast check, later)', () => t.inMempool(TICKET, BLOCK.hash, 'alpha', T0 + 1000)],
    ['beta mempool', () => t.inMempool(TICKET, BLOCK.hash, 'beta', T0 + 1001)],
    ['gamma resent', () => t.resent(TICKET, BLOCK.hash, 'gamma', T0 + 1002)],
    ['decided', () => t.decided(WINNER, VOTED, { block: NEXT, arrivedAt: T0 + 2500, votes: 5 })],
  ];
}

const EXPECTED: TimelineRecord = {
  kind: 'timeline',
  ticket: TICKET,
  block: BLOCK,
  notifiedAt: T0,
  firstNode: 'alpha',
  otherNodes: [
    { node: 'gamma', ms: 2 },
    { node: 'beta', ms: 4 },
  ],
  caster: 'daemon',
  builtMs: 1.3,
  signedMs: 6,
  signer: 'local',
  accepted: [
    { node: 'alpha', ms: 7 },
    { node: 'beta', ms: 8 },
  ],
  rejected: [{ node: 'gamma', ms: 9, error: 'rejected transaction: too many votes' }],
  mempool: [
    { node: 'alpha', ms: 20 },
    { node: 'beta', ms: 1001 },
  ],
  rebroadcast: [{ node: 'gamma', ms: 1002 }],
  nextBlock: { hash: NEXT.hash, height: NEXT.height, ms: 2500, votes: 5 },
};

/** A deterministic shuffle (mulberry32), so a failing order can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let a = seed;
  const rand = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('vote timeline assembly', () => {
  it('gives the same record whatever order the events arrive in, and a valid ledger record', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const { timelines, written, flush } = setup();
      const order = shuffled(events(timelines), seed);
      for (const [, apply] of order) apply();
      flush();
      expect(written.at(-1), `order: ${order.map(([n]) => n).join(' → ')}`).toEqual(EXPECTED);
      expect(timelineProblem(written.at(-1))).toBeNull();
    }
  });

  it('writes nothing before the outcome, and nothing synchronously: the record is assembled later', () => {
    const { timelines, written, flush, pendingJobs } = setup();
    const evs = events(timelines);
    for (const [, apply] of evs.slice(0, -1)) apply();
    flush();
    expect(written).toEqual([]);
    evs.at(-1)![1]();
    expect(written).toEqual([]); // deferred: the tracker's decision did not wait for it
    expect(pendingJobs()).toBe(1);
    flush();
    expect(written).toHaveLength(1);
  });

  it('a cast that finishes after the next block (a lost race) rewrites the timeline with its stages', () => {
    const { timelines, written, flush } = setup();
    timelines.notified(BLOCK.hash, 'alpha', T0);
    timelines.decided(WINNER, { ...VOTED, outcome: 'missed', reason: 'late' }, { block: NEXT, arrivedAt: T0 + 30, votes: 4 });
    flush();
    expect(written[0]).not.toHaveProperty('builtMs');
    timelines.castDone(TICKET, BLOCK, { builtAt: T0 + 10, signedAt: T0 + 40, signer: 'wallet', nodes: [{ node: 'alpha', ok: true, at: T0 + 45 }] });
    flush();
    expect(written).toHaveLength(2);
    expect(written[1]).toMatchObject({ builtMs: 10, signedMs: 40, accepted: [{ node: 'alpha', ms: 45 }], nextBlock: { ms: 30, votes: 4 } });
    // The table marks what came after the block: the race, not our own slowness before it.
    const rows = timelineRows(written[1]!);
    expect(rows.find((r) => r[0] === 'built')?.[3]).toBe('by dcrvoted');
    expect(rows.find((r) => r[0] === 'signed')?.[3]).toBe('by the wallet; AFTER the next block');
    expect(rows.find((r) => r[0] === 'accepted')).toEqual(['accepted', '45 ms', 'alpha', 'AFTER the next block']);
  });

  it('per-node notification delays: against the first node, the earliest copy per node, the first node repeating itself ignored', () => {
    const { timelines, written, flush } = setup();
    timelines.notifiedAgain(BLOCK.hash, 'beta', T0 + 9); // before the first is known: order does not matter
    timelines.notified(BLOCK.hash, 'alpha', T0);
    timelines.notifiedAgain(BLOCK.hash, 'beta', T0 + 3);
    timelines.notifiedAgain(BLOCK.hash, 'beta', T0 + 12);
    timelines.notifiedAgain(BLOCK.hash, 'alpha', T0 + 5);
    timelines.decided(WINNER, VOTED, { block: NEXT, arrivedAt: null, votes: 5 });
    flush();
    expect(written[0]!.firstNode).toBe('alpha');
    expect(written[0]!.otherNodes).toEqual([{ node: 'beta', ms: 3 }]);
  });

  it('the wallet’s own vote: built and signed are absent (unknown), and the table says so', () => {
    const { timelines, written, flush } = setup('wallet');
    timelines.notified(BLOCK.hash, 'alpha', T0);
    timelines.inMempool(TICKET, BLOCK.hash, 'alpha', T0 + 15);
    timelines.decided(WINNER, VOTED, { block: NEXT, arrivedAt: T0 + 900, votes: 5 });
    flush();
    const rec = written[0]!;
    expect(rec.caster).toBe('wallet');
    expect(rec).not.toHaveProperty('builtMs');
    expect(rec).not.toHaveProperty('signedMs');
    expect(rec.accepted).toEqual([]);
    const rows = timelineRows(rec);
    expect(rows.find((r) => r[0] === 'built')).toEqual(['built', 'unknown', '-', expect.stringContaining('the wallet builds and signs its own votes')]);
    expect(rows.find((r) => r[0] === 'signed')?.[1]).toBe('unknown');
    expect(rows.find((r) => r[0] === 'in mempool')).toEqual(['in mempool', '15 ms', 'alpha', expect.any(String)]);
    expect(rows.find((r) => r[0] === 'next block')).toEqual(['next block', '900 ms', '-', 'block 501, 5 vote(s)']);
  });

  it('missing stages stay missing: a failed cast, a vote never seen, a superseded winner with no next block', () => {
    const { timelines, written, flush } = setup('daemon');
    timelines.castFailed(TICKET, BLOCK, 'wrong_passphrase');
    timelines.decided(WINNER, { ...VOTED, outcome: 'superseded', includedIn: undefined }, null);
    flush();
    const rec = written[0]!;
    expect(rec).toEqual({ kind: 'timeline', ticket: TICKET, block: BLOCK, notifiedAt: T0, otherNodes: [], caster: 'daemon', castFailed: 'wrong_passphrase', accepted: [], rejected: [], mempool: [], rebroadcast: [] });
    expect(timelineProblem(rec)).toBeNull();
    const rows = timelineRows(rec);
    expect(rows[0]).toEqual(['notified', '0 ms', '?', 'first node not recorded']);
    expect(rows.find((r) => r[0] === 'built')?.[3]).toBe('dcrvoted could not cast: wrong_passphrase');
    expect(rows.find((r) => r[0] === 'in mempool')?.[1]).toBe('unknown');
    expect(rows.find((r) => r[0] === 'next block')).toEqual(['next block', 'unknown', '-', 'none decided it (superseded)']);
  });

  it('a winner found after the fact, with nothing observed, gets no timeline rather than an empty one', () => {
    const { timelines, written, flush } = setup('daemon');
    timelines.decided(WINNER, VOTED, null);
    flush();
    expect(written).toEqual([]);
    expect(timelines.assemble(TICKET, BLOCK.hash)).not.toBeNull(); // still inspectable in memory
  });

  it('stays bounded: at most 16 nodes per stage, long names and errors cut, and a timeline written at most 3 times', () => {
    const { timelines, written, flush } = setup();
    timelines.notified(BLOCK.hash, 'n'.repeat(500), T0);
    const nodes = Array.from({ length: 40 }, (_, i) => ({ node: `node-${i}`, ok: i % 2 === 0, at: T0 + i, error: 'x'.repeat(5000) }));
    timelines.castDone(TICKET, BLOCK, { builtAt: T0, signedAt: T0, signer: 'wallet', nodes });
    for (let i = 0; i < 40; i++) timelines.notifiedAgain(BLOCK.hash, `node-${i}`, T0 + i);
    timelines.decided(WINNER, VOTED, { block: NEXT, arrivedAt: T0, votes: 5 });
    flush();
    for (let i = 0; i < 10; i++) {
      timelines.resent(TICKET, BLOCK.hash, `node-${i}`, T0 + 100 + i);
      flush();
    }
    expect(written).toHaveLength(3);
    const rec = written.at(-1)!;
    expect(timelineProblem(rec)).toBeNull();
    expect(rec.otherNodes).toHaveLength(16);
    expect(rec.accepted.length + rec.rejected.length).toBe(16);
    expect(rec.firstNode).toHaveLength(128);
    expect(rec.rejected[0]!.error).toHaveLength(200);
    expect(Buffer.byteLength(JSON.stringify(rec))).toBeLessThan(16_000);
  });

  it('counts each stage once per vote in dcrvoted_vote_stage_seconds, even when the timeline is rewritten', async () => {
    const { timelines, flush, metrics } = setup();
    for (const [, apply] of events(timelines)) apply();
    flush();
    timelines.resent(TICKET, BLOCK.hash, 'beta', T0 + 3000);
    flush();
    const json = await metrics.registry.getSingleMetric('dcrvoted_vote_stage_seconds')!.get();
    const count = (stage: string) => json.values.find((v) => (v as { metricName?: string }).metricName === 'dcrvoted_vote_stage_seconds_count' && v.labels.stage === stage)?.value ?? 0;
    const sum = (stage: string) => json.values.find((v) => (v as { metricName?: string }).metricName === 'dcrvoted_vote_stage_seconds_sum' && v.labels.stage === stage)?.value ?? 0;
    expect(count('notified')).toBe(2); // beta and gamma
    expect(sum('notified')).toBeCloseTo(0.006);
    for (const stage of ['built', 'signed', 'accepted', 'mempool', 'next_block']) expect(count(stage)).toBe(1);
    expect(sum('accepted')).toBeCloseTo(0.007);
    expect(sum('next_block')).toBeCloseTo(2.5);
  });
});

describe('votes --ticket output', () => {
  it('takes a 64-hex hash in either case and refuses anything else, naming what it got', () => {
    expect(parseTicketHash(TICKET.toUpperCase())).toBe(TICKET);
    for (const bad of ['', 'abc', TICKET + '0', 'zz'.repeat(32), ` ${TICKET}`]) expect(() => parseTicketHash(bad)).toThrow(/^--ticket must be a ticket hash of 64 hex digits, got "/);
  });

  it('shows every entry of a ticket (it can win again after a reorg), and says why one has no timeline', () => {
    const pending = { winner: { ...WINNER, block: NEXT } };
    const old = { winner: WINNER, outcome: { ...VOTED, outcome: 'missed' as const, reason: 'wallet_locked' as const, includedIn: undefined } };
    const out = formatTicket([
      { entry: old, timeline: null },
      { entry: pending, timeline: null },
    ]);
    expect(out).toContain('won in block 500');
    expect(out).toContain('outcome: missed: wallet_locked');
    expect(out).toContain('no timeline recorded (decided before this dcrvoted version kept timelines');
    expect(out).toContain('won in block 501');
    expect(out).toContain('outcome: pending (waiting for the next block)');
    expect(out).toContain('no timeline yet: it is written when the outcome is decided');
  });
});
