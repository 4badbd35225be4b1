// npm run bench — how long opening the ledger takes: a daemon restart reads
// the whole file (checksums, parse, index) before it can vote. Target: 100k
// records (years of solo voting) well under a second on a 2-core machine.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LEDGER_FILE, Ledger } from '../src/ledger/ledger.js';
import { canonicalOutcome, canonicalWinner, encodeRecord } from '../src/ledger/record.js';

const SIZES = (process.env.BENCH_LEDGER_SIZES ?? '10000,100000').split(',').map(Number);
const hex = (prefix: string, n: number) => (prefix + n.toString(16)).padStart(64, '0');
const READY = { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true };

for (const records of SIZES) {
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-bench-ledger-'));
  const parts: Buffer[] = [];
  for (let i = 0; i < records / 2; i++) {
    const w = canonicalWinner({ kind: 'winner', ticket: hex('a', i), wallet: 'w1', block: { hash: hex('b', i), height: 1000 + i }, notifiedAt: 1_700_000_000_000 + i, readiness: READY });
    parts.push(encodeRecord(w));
    const includedIn = { hash: hex('d', i), height: 1001 + i };
    parts.push(encodeRecord(canonicalOutcome({ kind: 'outcome', ticket: w.ticket, block: w.block, outcome: 'voted', voteTxid: hex('c', i), includedIn, decidedBy: includedIn, voteSeenMs: 42, decidedAt: w.notifiedAt + 5000 })));
  }
  writeFileSync(join(dir, LEDGER_FILE), Buffer.concat(parts));
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const l = await Ledger.open(dir, { fsync: false });
    times.push(performance.now() - t0);
    if (l.recovery.records !== records) throw new Error(`opened ${l.recovery.records} of ${records} records`);
    await l.close();
  }
  times.sort((a, b) => a - b);
  console.log(`[bench] ledger open, ${records} records: median ${times[2]!.toFixed(0)} ms, best ${times[0]!.toFixed(0)} ms (5 opens)`);
  rmSync(dir, { recursive: true, force: true });
}
