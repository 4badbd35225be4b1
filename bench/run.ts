// npm run bench — per-block processing time of the whole daemon against the
// in-process fake dcrd and dcrwallet (real TLS sockets), with 1k, 10k and
// 100k live tickets of ours in the wallet. Per-block work must not grow with
// the ticket count: only the block's five winners are ever asked about.
//
// For each block: dcrd announces 5 winners (2 of them ours), the votes reach
// the mempool, the next block includes them. Two figures per block:
//   record  — block announced → both winners of ours recorded in the ledger
//   decide  — next block announced → both outcomes recorded (fsync'd)

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { randomHash } from '../test/support/fake-dcrd.js';
import { startDaemonUnderTest, waitFor } from '../test/support/daemon-under-test.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 60);

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

async function benchSize(tickets: number) {
  const dut = await startDaemonUnderTest({
    config: { log: { level: 'warn', format: 'json' }, voting: { voteSeenDeadlineMs: 5000, mempoolPollMs: 20 } },
  });
  const owned: string[] = [];
  for (let i = 0; i < tickets; i++) {
    const t = randomBytes(32).toString('hex');
    dut.wallet.state.tickets.set(t, { status: 'LIVE' });
    owned.push(t);
  }
  await waitFor('ready', async () => (await dut.get('/readyz')).status === 200, 20_000);
  const record: number[] = [];
  const decide: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const ours = [owned[(b * 2) % tickets]!, owned[(b * 2 + 1) % tickets]!];
    const t0 = performance.now();
    const won = dut.dcrd.connectBlock({ winners: [...ours, randomHash(), randomHash(), randomHash()] });
    await waitFor('recorded', () => ours.every((t) => dut.daemon.ledger?.get(t, won.hash)), 10_000, 1);
    record.push(performance.now() - t0);
    for (const t of ours) dut.dcrd.addMempoolVote(t, won, 5);
    const t1 = performance.now();
    dut.dcrd.connectBlock({ votesFor: ours.map((ticket) => ({ ticket, voteBits: 5 })) });
    await waitFor('decided', () => ours.every((t) => dut.daemon.ledger?.get(t, won.hash)?.outcome), 10_000, 1);
    decide.push(performance.now() - t1);
  }
  const rss = process.memoryUsage().rss;
  await dut.stop();
  await dut.wallet.stop();
  await dut.dcrd.dispose();
  dut.pki.cleanup();
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: quantile(s, 0.5), p99: quantile(s, 0.99) };
  };
  return { tickets, record: fmt(record), decide: fmt(decide), rssMiB: rss / 2 ** 20 };
}

const rows = [];
for (const n of SIZES) rows.push(await benchSize(n));
console.log(`\nper-block processing, ${BLOCKS} blocks each (ms; fake peers over TLS on loopback; ledger fsync on)`);
console.log('tickets   record median  record p99  decide median  decide p99   RSS MiB');
for (const r of rows) {
  console.log(
    `${String(r.tickets).padStart(7)}  ${r.record.median.toFixed(2).padStart(13)}  ${r.record.p99.toFixed(2).padStart(10)}  ${r.decide.median.toFixed(2).padStart(13)}  ${r.decide.p99.toFixed(2).padStart(10)}  ${r.rssMiB.toFixed(0).padStart(8)}`,
  );
}
const first = rows[0]!;
const last = rows[rows.length - 1]!;
console.log(
  `\nmedian decide time at ${last.tickets} tickets is ${(last.decide.median / first.decide.median).toFixed(2)}x that at ${first.tickets} (O(winners): expect ~1x)`,
);
process.exit(0);
