// npm run bench — what a vote's timeline costs, and where.
//
// hot path: the stamp each event leaves (notified, castDone, inMempool), per
//   call; this is all that runs beside a cast or a decision.
// assembly: building and validating one vote's record, off the hot path.
// ledger: appending a timeline (no fsync of its own) against a durable
//   outcome append (fdatasync), on this machine's disk.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Ledger, type WinnerRecord } from '../src/ledger/ledger.js';
import { encodeRecord, timelineProblem } from '../src/ledger/record.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { VoteTimelines } from '../src/voting/timeline.js';

const N = Number(process.env.BENCH_TIMELINE_VOTES ?? 20_000);
const APPENDS = Number(process.env.BENCH_TIMELINE_APPENDS ?? 200);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN;
const hex = (n: number, p: string) => (p + n.toString(16)).padStart(64, '0');

const jobs: (() => void)[] = [];
const timelines = new VoteTimelines({
  ledger: { recordTimeline: async () => true },
  metrics: createMetrics({ version: 'bench', network: 'simnet', processMetrics: false }),
  logger: pino({ level: 'silent' }),
  casterOf: () => 'daemon',
  defer: (job) => jobs.push(job),
});

const winners: WinnerRecord[] = [];
const t0 = Date.now();
let start = performance.now();
for (let i = 0; i < N; i++) {
  const block = { hash: hex(i, 'b'), height: 1000 + i };
  const w: WinnerRecord = { kind: 'winner', ticket: hex(i, 'a'), wallet: 'w', block, notifiedAt: t0, readiness: { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true } };
  winners.push(w);
  timelines.notified(block.hash, 'dcrd-a', t0);
  timelines.notifiedAgain(block.hash, 'dcrd-b', t0 + 3);
  timelines.castDone(w.ticket, block, { builtAt: t0 + 1, signedAt: t0 + 5, signer: 'local', nodes: [{ node: 'dcrd-a', ok: true, at: t0 + 7 }, { node: 'dcrd-b', ok: true, at: t0 + 8 }] });
  timelines.inMempool(w.ticket, block.hash, 'dcrd-a', t0 + 20);
}
const stampUs = ((performance.now() - start) * 1000) / (N * 4);

start = performance.now();
for (const w of winners) timelines.decided(w, { kind: 'outcome', ticket: w.ticket, block: w.block, outcome: 'voted', decidedAt: t0 }, { block: { hash: hex(1, 'c'), height: w.block.height + 1 }, arrivedAt: t0 + 2500, votes: 5 });
const decidedUs = ((performance.now() - start) * 1000) / N;
start = performance.now();
let n = 0;
while (jobs.length > 0) {
  jobs.shift()!();
  n++;
}
const writeUs = ((performance.now() - start) * 1000) / n;
const sample = timelines.assemble(winners.at(-1)!.ticket, winners.at(-1)!.block.hash)!;
if (timelineProblem(sample)) throw new Error('bench built an invalid timeline');

const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-bench-timeline-'));
const ledger = await Ledger.open(dir, { fsync: true });
const tlMs: number[] = [];
const outMs: number[] = [];
for (let i = 0; i < APPENDS; i++) {
  const w = winners[N - APPENDS + i]!; // the newest: older votes left the bounded in-memory window
  await ledger.recordWinner(w);
  let s = performance.now();
  await ledger.recordOutcome({ kind: 'outcome', ticket: w.ticket, block: w.block, outcome: 'voted', decidedAt: t0 });
  outMs.push(performance.now() - s);
  s = performance.now();
  await ledger.recordTimeline({ ...timelines.assemble(w.ticket, w.block.hash)! });
  tlMs.push(performance.now() - s);
}
await ledger.close();
rmSync(dir, { recursive: true, force: true });

console.log(`timeline: ${N} votes, ${APPENDS} ledger appends of each kind`);
console.log(`  hot path: ${stampUs.toFixed(2)} µs per stage stamp; decided() ${decidedUs.toFixed(2)} µs (it only schedules)`);
console.log(`  assembly + metrics (deferred): ${writeUs.toFixed(1)} µs per vote; record ${encodeRecord(sample).length} bytes on disk`);
console.log(`  ledger append: timeline median ${quantile(tlMs, 0.5).toFixed(3)} ms p99 ${quantile(tlMs, 0.99).toFixed(3)} ms (no fsync); outcome median ${quantile(outMs, 0.5).toFixed(3)} ms p99 ${quantile(outMs, 0.99).toFixed(3)} ms (fdatasync)`);
