// Crash safety with a real kill -9: a child appends records and reports each
// acknowledged append; we SIGKILL it at random moments, restart it, and check
// that every acknowledged record is present exactly once and the file is clean.

import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LEDGER_FILE, LOCK_FILE, Ledger, readLedger } from '../../src/ledger/ledger.js';
import { canonicalWinner, checkLine, encodeRecord, parseBody } from '../../src/ledger/record.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'ledger-crash-child.ts');
const ROOT = join(here, '..', '..');

const dir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RunResult {
  winners: number[];
  outcomes: number[];
  openLine: string | undefined;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Run the child, kill -9 it `killAfterMs` after it opened the ledger. */
function runAndKill(killAfterMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const res: RunResult = { winners: [], outcomes: [], openLine: undefined, signal: null, stderr: '' };
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('OPEN ')) {
          res.openLine = line;
          timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else if (line.startsWith('W ')) res.winners.push(Number(line.slice(2)));
        else if (line.startsWith('O ')) res.outcomes.push(Number(line.slice(2)));
      }
      // A partial last line (no '\n') is an ack we didn't fully receive: ignore.
    });
    child.stderr.on('data', (c: Buffer) => (res.stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      res.signal = signal;
      resolve(res);
    });
  });
}

describe('ledger under kill -9', () => {
  it('keeps every acknowledged record exactly once across repeated SIGKILLs', async () => {
    const ackedW = new Set<number>();
    const ackedO = new Set<number>();
    const runs = 8;
    let tornAdded = 0;
    for (let r = 0; r < runs; r++) {
      const res = await runAndKill(40 + Math.floor(Math.random() * 250));
      expect(res.stderr).toBe('');
      expect(res.openLine, 'child never opened the ledger').toBeDefined();
      expect(res.signal).toBe('SIGKILL');
      // The recovery the child saw must never report damage: kill -9 loses
      // at most an unacknowledged tail.
      const rec = JSON.parse(res.openLine!.slice(5));
      expect(rec).toMatchObject({ corruptRecords: 0, duplicateRecords: 0, orphanOutcomes: 0 });
      if (r > 0) expect(rec.staleLockFrom).toBeDefined(); // the killed run's lock
      expect(rec.tornBytesDropped).toBe(tornAdded);
      // On disk: everything acknowledged, plus at most the in-flight batch
      // (4 winners + 4 outcomes) of each killed run, written but not acked.
      const extra = rec.records - (ackedW.size + ackedO.size);
      expect(extra).toBeGreaterThanOrEqual(0);
      expect(extra).toBeLessThanOrEqual(8 * r);
      for (const i of res.winners) {
        expect(ackedW.has(i), `winner ${i} acknowledged twice`).toBe(false);
        ackedW.add(i);
      }
      for (const i of res.outcomes) {
        expect(ackedO.has(i), `outcome ${i} acknowledged twice`).toBe(false);
        ackedO.add(i);
      }
      // Every other run, also leave a torn record behind (what a crash in the
      // middle of a multi-part write, or a power cut, leaves): the next open
      // must cut exactly it and nothing else.
      tornAdded = 0;
      if (r % 2 === 1 && r < runs - 1) {
        const line = encodeRecord(canonicalWinner({ kind: 'winner', ticket: 'f'.repeat(64), wallet: 'w', block: { hash: 'e'.repeat(64), height: 1 }, notifiedAt: 1, readiness: { reachable: false, unlocked: null, voting: null, daemonConnected: null, synced: null } }));
        const torn = line.subarray(0, 1 + Math.floor(Math.random() * (line.length - 1)));
        appendFileSync(join(dir, LEDGER_FILE), torn);
        tornAdded = torn.length;
      }
    }
    expect(ackedW.size).toBeGreaterThan(20);
    // A killed daemon leaves its lock behind; it is taken over on open below.
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);

    // Independent check of the raw file: every line valid, no key twice.
    const raw = readFileSync(join(dir, LEDGER_FILE));
    const seen = new Set<string>();
    let start = 0;
    let nl: number;
    while ((nl = raw.indexOf(0x0a, start)) >= 0) {
      expect(checkLine(raw, start, nl)).toBeNull();
      const res = parseBody(raw.toString('utf8', start + 9, nl));
      expect(res.ok).toBe(true);
      if (res.ok) {
        const key = `${res.record.kind}:${res.record.ticket}:${res.record.block.hash}`;
        expect(seen.has(key), `${key} on disk twice`).toBe(false);
        seen.add(key);
      }
      start = nl + 1;
    }

    const hex = (p: string, n: number) => (p + n.toString(16)).padStart(64, '0');
    const ledger = await Ledger.open(dir);
    try {
      expect(ledger.recovery).toMatchObject({ corruptRecords: 0, duplicateRecords: 0, orphanOutcomes: 0 });
      // kill -9 practically never tears a single small write(2), but if it
      // did, open must cut exactly the unterminated tail.
      expect(ledger.recovery.tornBytesDropped).toBe(raw.length - start);
      expect(ledger.get('f'.repeat(64), 'e'.repeat(64))).toBeUndefined();
      for (const i of ackedW) {
        const e = ledger.get(hex('a', i), hex('b', i));
        expect(e, `acknowledged winner ${i} lost`).toBeDefined();
        expect(e?.winner.block.height).toBe(100 + i);
      }
      for (const i of ackedO) {
        const e = ledger.get(hex('a', i), hex('b', i));
        expect(e?.outcome, `acknowledged outcome ${i} lost`).toBeDefined();
        expect(e?.outcome?.outcome).toBe(i % 3 === 0 ? 'missed' : 'voted');
      }
      // Counts agree with the entries.
      const c = ledger.counts();
      expect(c.voted + c.missed + c.superseded + c.pending).toBe(ledger.size);
      expect(c.byReason.wallet_locked).toBe(c.missed);
      const snap = await readLedger(dir);
      expect(snap.counts()).toEqual(c);
    } finally {
      await ledger.close();
    }
  }, 120_000);
});
