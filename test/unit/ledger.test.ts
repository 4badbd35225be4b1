import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WalletReadiness } from '../../src/domain.js';
import {
  LEDGER_FILE,
  LOCK_FILE,
  Ledger,
  LedgerLockedError,
  readLedger,
  type OutcomeRecord,
  type WinnerRecord,
} from '../../src/ledger/ledger.js';
import { canonicalWinner, decodeLine, encodeRecord } from '../../src/ledger/record.js';

const READY: WalletReadiness = { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true };

function hash(prefix: string, n: number): string {
  return (prefix + n.toString(16)).padStart(64, '0');
}

function winner(i: number, over: Partial<WinnerRecord> = {}): WinnerRecord {
  return {
    kind: 'winner',
    ticket: hash('a', i),
    wallet: i % 2 ? 'w1' : 'w2',
    block: { hash: hash('b', i), height: 1000 + i },
    notifiedAt: 1_700_000_000_000 + i,
    readiness: READY,
    ...over,
  };
}

function voted(w: WinnerRecord, over: Partial<OutcomeRecord> = {}): OutcomeRecord {
  return {
    kind: 'outcome',
    ticket: w.ticket,
    block: w.block,
    outcome: 'voted',
    voteTxid: hash('c', w.block.height),
    includedIn: { hash: hash('d', w.block.height), height: w.block.height + 1 },
    voteSeenMs: 42,
    decidedAt: w.notifiedAt + 5000,
    ...over,
  };
}

function missed(w: WinnerRecord, reason: OutcomeRecord['reason']): OutcomeRecord {
  return { kind: 'outcome', ticket: w.ticket, block: w.block, outcome: 'missed', reason, decidedAt: w.notifiedAt + 5000 };
}

let dir: string;
const opened: Ledger[] = [];

async function openL(d = dir, fsync = false): Promise<Ledger> {
  const l = await Ledger.open(d, { fsync });
  opened.push(l);
  return l;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-unit-'));
});

afterEach(async () => {
  for (const l of opened.splice(0)) await l.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Ledger basics', () => {
  it('round-trips winners and outcomes across reopen', async () => {
    const l = await openL(join(dir, 'nested', 'state'));
    const w0 = winner(0);
    const w1 = winner(1, { readiness: { reachable: true, unlocked: false, voting: null, daemonConnected: true, synced: null } });
    expect(await l.recordWinner(w0)).toBe(true);
    expect(await l.recordWinner(w1)).toBe(true);
    expect(await l.recordOutcome(voted(w0))).toBe(true);
    await l.close();

    const again = await openL(join(dir, 'nested', 'state'));
    expect(again.recovery).toMatchObject({ records: 3, tornBytesDropped: 0, corruptRecords: 0, duplicateRecords: 0 });
    expect(again.get(w0.ticket, w0.block.hash)).toEqual({ winner: w0, outcome: voted(w0) });
    expect(again.get(w1.ticket, w1.block.hash)).toEqual({ winner: w1 });
    expect(again.get(w1.ticket, 'nope')).toBeUndefined();
  });

  it('stores only known fields and returns immutable records', async () => {
    const l = await openL();
    const w = { ...winner(0), extra: 'x' } as WinnerRecord;
    await l.recordWinner(w);
    const got = l.get(w.ticket, w.block.hash)!;
    expect(got.winner).not.toHaveProperty('extra');
    expect(() => {
      (got.winner.block as { height: number }).height = 1;
    }).toThrow();
    expect(readFileSync(join(dir, LEDGER_FILE), 'utf8')).not.toContain('extra');
  });

  it('refuses duplicate winners and duplicate outcomes without writing', async () => {
    const l = await openL();
    const w = winner(0);
    expect(await l.recordWinner(w)).toBe(true);
    const size = statSync(join(dir, LEDGER_FILE)).size;
    expect(await l.recordWinner({ ...w, notifiedAt: w.notifiedAt + 1 })).toBe(false);
    expect(statSync(join(dir, LEDGER_FILE)).size).toBe(size);
    // Same ticket winning in another block is a different entry.
    expect(await l.recordWinner({ ...w, block: { hash: hash('e', 1), height: 2000 } })).toBe(true);

    expect(await l.recordOutcome(voted(w))).toBe(true);
    const size2 = statSync(join(dir, LEDGER_FILE)).size;
    expect(await l.recordOutcome(missed(w, 'not_included'))).toBe(false);
    expect(statSync(join(dir, LEDGER_FILE)).size).toBe(size2);
    expect(l.get(w.ticket, w.block.hash)?.outcome?.outcome).toBe('voted');
  });

  it('concurrent duplicate appends resolve to exactly one write', async () => {
    const l = await openL();
    const w = winner(7);
    const results = await Promise.all([l.recordWinner(w), l.recordWinner(w), l.recordWinner(w)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const lines = readFileSync(join(dir, LEDGER_FILE), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
  });

  it('throws on an outcome without winner, and on invalid records', async () => {
    const l = await openL();
    const w = winner(0);
    await expect(l.recordOutcome(voted(w))).rejects.toThrow(/no winner record/);
    await l.recordWinner(w);
    await expect(l.recordOutcome({ ...voted(w), block: { hash: w.block.hash, height: 5 } })).rejects.toThrow(/height/);
    await expect(l.recordOutcome({ ...missed(w, 'wallet_locked'), reason: undefined })).rejects.toThrow(/needs a reason/);
    await expect(l.recordOutcome({ ...voted(w), reason: 'wallet_locked' })).rejects.toThrow(/no miss reason/);
    await expect(l.recordWinner({ ...winner(1), ticket: '' })).rejects.toThrow(TypeError);
    await expect(l.recordWinner({ ...winner(1), notifiedAt: Number.NaN })).rejects.toThrow(/notifiedAt/);
    // The ledger keeps working after rejected calls.
    expect(await l.recordOutcome(voted(w))).toBe(true);
    expect(l.counts().voted).toBe(1);
  });

  it('counts outcomes and miss reasons', async () => {
    const l = await openL();
    const ws = Array.from({ length: 7 }, (_, i) => winner(i));
    for (const w of ws) await l.recordWinner(w);
    await l.recordOutcome(voted(ws[0]!));
    await l.recordOutcome(voted(ws[1]!));
    await l.recordOutcome(missed(ws[2]!, 'wallet_locked'));
    await l.recordOutcome(missed(ws[3]!, 'wallet_locked'));
    await l.recordOutcome(missed(ws[4]!, 'not_included'));
    await l.recordOutcome({ kind: 'outcome', ticket: ws[5]!.ticket, block: ws[5]!.block, outcome: 'superseded', decidedAt: 1 });
    const expected = {
      voted: 2,
      missed: 3,
      superseded: 1,
      pending: 1,
      byReason: { wallet_locked: 2, wallet_unreachable: 0, wallet_not_voting: 0, vote_not_broadcast: 0, late: 0, not_included: 1 },
      revised: 0,
    };
    expect(l.counts()).toEqual(expected);
    await l.close();
    expect((await openL()).counts()).toEqual(expected);
    expect((await readLedger(dir)).counts()).toEqual(expected);
  });

  it('a reorg revises a decided outcome: reopened, decided again, or superseded; the counts follow and survive reopening the file', async () => {
    const l = await openL();
    const [a, b] = [winner(1), winner(2)];
    await l.recordWinner(a);
    await l.recordWinner(b);
    const gone = { hash: hash('e', 1), height: a.block.height + 1 };
    await l.recordOutcome({ ...missed(a, 'wallet_locked'), decidedBy: gone });
    await l.recordOutcome(voted(b));
    // The deciding block went away: a is pending again, then decided anew.
    expect(await l.recordReopen({ kind: 'reopened', ticket: a.ticket, block: a.block, revision: 1, because: gone, at: 5 })).toBe(true);
    expect(l.get(a.ticket, a.block.hash)).toEqual({ winner: a, revision: 1 });
    expect(l.pending().map((e) => e.winner.ticket)).toEqual([a.ticket]);
    expect(await l.recordOutcome({ ...voted(a), revision: 2 })).toBe(true);
    // b's own block went away: superseded.
    expect(await l.recordOutcome({ kind: 'outcome', ticket: b.ticket, block: b.block, outcome: 'superseded', decidedAt: 6, revision: 1 })).toBe(true);
    // A stale revision is a duplicate and writes nothing.
    expect(await l.recordOutcome({ ...missed(a, 'wallet_locked'), revision: 2 })).toBe(false);
    expect(await l.recordOutcome(missed(a, 'wallet_locked'))).toBe(false);
    const expected = {
      voted: 1,
      missed: 0,
      superseded: 1,
      pending: 0,
      byReason: { wallet_locked: 0, wallet_unreachable: 0, wallet_not_voting: 0, vote_not_broadcast: 0, late: 0, not_included: 0 },
      revised: 2,
    };
    expect(l.counts()).toEqual(expected);
    await l.close();
    const again = await openL();
    expect(again.recovery.duplicateRecords).toBe(0);
    expect(again.counts()).toEqual(expected);
    expect(again.get(a.ticket, a.block.hash)?.outcome?.outcome).toBe('voted');
    expect(again.get(b.ticket, b.block.hash)).toMatchObject({ outcome: { outcome: 'superseded' }, revision: 1 });
  });

  it('orders recent newest first and pending oldest first', async () => {
    const l = await openL();
    const ws = Array.from({ length: 5 }, (_, i) => winner(i));
    for (const w of ws) await l.recordWinner(w);
    await l.recordOutcome(voted(ws[1]!));
    await l.recordOutcome(missed(ws[3]!, 'wallet_unreachable'));
    expect(l.recent(3).map((e) => e.winner.ticket)).toEqual([ws[4]!.ticket, ws[3]!.ticket, ws[2]!.ticket]);
    expect(l.recent(100)).toHaveLength(5);
    expect(l.recent(0)).toEqual([]);
    expect(l.recent(2)[1]?.outcome?.reason).toBe('wallet_unreachable');
    expect(l.pending().map((e) => e.winner.ticket)).toEqual([ws[0]!.ticket, ws[2]!.ticket, ws[4]!.ticket]);
    expect(l.pending().every((e) => e.outcome === undefined)).toBe(true);
  });

  it('rejects appends after close; close is idempotent', async () => {
    const l = await openL();
    await l.close();
    await l.close();
    await expect(l.recordWinner(winner(0))).rejects.toThrow(/closed/);
  });

  it('close waits for queued appends', async () => {
    const l = await Ledger.open(dir, { fsync: true });
    const ps = Array.from({ length: 20 }, (_, i) => l.recordWinner(winner(i)));
    await l.close();
    expect(await Promise.all(ps)).toEqual(Array(20).fill(true));
    const r = await readLedger(dir);
    expect(r.size).toBe(20);
    expect(r.recent(20).map((e) => e.winner.block.height)).toEqual(Array.from({ length: 20 }, (_, i) => 1019 - i));
  });
});

describe('Ledger recovery', () => {
  async function seed(n: number): Promise<WinnerRecord[]> {
    const l = await Ledger.open(dir, { fsync: false });
    const ws = Array.from({ length: n }, (_, i) => winner(i));
    for (const w of ws) {
      await l.recordWinner(w);
      if (w.block.height % 2 === 0) await l.recordOutcome(voted(w));
    }
    await l.close();
    return ws;
  }

  it('drops and truncates a torn last record, keeps earlier ones, appends after it', async () => {
    const ws = await seed(4);
    const file = join(dir, LEDGER_FILE);
    const goodSize = statSync(file).size;
    const full = encodeRecord(canonicalWinner(winner(99)));
    const torn = full.subarray(0, full.length - 7);
    appendFileSync(file, torn);

    const l = await openL();
    expect(l.recovery).toMatchObject({ records: 6, tornBytesDropped: torn.length, corruptRecords: 0 });
    expect(statSync(file).size).toBe(goodSize);
    for (const w of ws) expect(l.get(w.ticket, w.block.hash)?.winner).toEqual(w);
    expect(l.get(winner(99).ticket, winner(99).block.hash)).toBeUndefined();

    expect(await l.recordWinner(winner(99))).toBe(true);
    await l.close();
    const again = await openL();
    expect(again.recovery).toMatchObject({ records: 7, tornBytesDropped: 0, corruptRecords: 0 });
    expect(again.get(winner(99).ticket, winner(99).block.hash)?.winner).toEqual(winner(99));
  });

  it('treats a complete-looking but unterminated last line (and zero fill) as torn', async () => {
    await seed(2);
    const file = join(dir, LEDGER_FILE);
    const goodSize = statSync(file).size;
    const full = encodeRecord(canonicalWinner(winner(50)));
    appendFileSync(file, full.subarray(0, full.length - 1)); // everything but '\n'
    let l = await openL();
    expect(l.recovery.tornBytesDropped).toBe(full.length - 1);
    expect(l.size).toBe(2);
    await l.close();

    appendFileSync(file, Buffer.alloc(4096)); // power-loss style zero tail
    l = await openL();
    expect(l.recovery).toMatchObject({ tornBytesDropped: 4096, corruptRecords: 0, records: 3 });
    expect(statSync(file).size).toBe(goodSize);
  });

  it('reports a corrupted middle record and keeps the records after it', async () => {
    const ws = await seed(5);
    const file = join(dir, LEDGER_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    // lines: w0 o0 w1 w2 o2 w3 w4 o4 ''. Flip a digit inside w1's JSON.
    expect(lines[2]).toContain(ws[1]!.ticket);
    lines[2] = lines[2]!.replace('"height":1001', '"height":1009');
    writeFileSync(file, lines.join('\n'));
    const sizeBefore = statSync(file).size;

    const l = await openL();
    expect(l.recovery).toMatchObject({ corruptRecords: 1, records: 7, tornBytesDropped: 0 });
    expect(l.recovery.problems).toEqual([{ line: 3, offset: expect.any(Number), reason: 'checksum mismatch' }]);
    expect(l.get(ws[1]!.ticket, ws[1]!.block.hash)).toBeUndefined();
    for (const i of [0, 2, 3, 4]) expect(l.get(ws[i]!.ticket, ws[i]!.block.hash)?.winner).toEqual(ws[i]);
    expect(l.get(ws[4]!.ticket, ws[4]!.block.hash)?.outcome?.outcome).toBe('voted');
    // Nothing was cut: the damaged line stays as evidence, appends continue.
    expect(statSync(file).size).toBe(sizeBefore);
    expect(await l.recordWinner(winner(5))).toBe(true);
    await l.close();
    const again = await openL();
    expect(again.recovery).toMatchObject({ corruptRecords: 1, records: 8 });
  });

  it('survives garbage lines, a lost winner (orphan outcome) and duplicated lines', async () => {
    const ws = await seed(3);
    const file = join(dir, LEDGER_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    // lines: w0 o0 w1 w2 o2 ''. Destroy w2 (its outcome becomes an orphan),
    // duplicate w0 and add junk.
    lines[3] = 'not a record at all';
    lines.splice(1, 0, lines[0]!, '{}', '');
    writeFileSync(file, lines.join('\n'));

    const l = await openL();
    expect(l.recovery).toMatchObject({ records: 3, corruptRecords: 3, duplicateRecords: 1, orphanOutcomes: 1, tornBytesDropped: 0 });
    expect(l.recovery.problems).toHaveLength(5);
    expect(l.size).toBe(2);
    expect(l.get(ws[0]!.ticket, ws[0]!.block.hash)?.outcome?.outcome).toBe('voted');
  });

  it('rejects a line whose checksum matches but whose content is not a valid record', () => {
    const body = JSON.stringify({ kind: 'winner', ticket: 'x' });
    const line = encodeRecord(JSON.parse(body));
    const res = decodeLine(line, 0, line.length - 1);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toMatch(/invalid winner record/);
  });

  it('opens 100k records with every one in the index (the time it takes is in npm run bench)', async () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 50_000; i++) {
      const w = canonicalWinner(winner(i));
      parts.push(encodeRecord(w));
      parts.push(encodeRecord(voted(w)));
    }
    writeFileSync(join(dir, LEDGER_FILE), Buffer.concat(parts));
    parts.length = 0;
    const l = await Ledger.open(dir, { fsync: false });
    expect(l.recovery.records).toBe(100_000);
    expect(l.counts().voted).toBe(50_000);
    expect(l.recent(1)[0]?.winner.block.height).toBe(1000 + 49_999);
    await l.close();
  });
});

describe('readLedger', () => {
  it('reads without locking or modifying, ignoring an in-progress tail', async () => {
    const l = await openL();
    await l.recordWinner(winner(0));
    await l.recordOutcome(missed(winner(0), 'vote_not_broadcast'));
    await l.recordWinner(winner(1));
    const file = join(dir, LEDGER_FILE);
    const partial = encodeRecord(canonicalWinner(winner(2))).subarray(0, 20);
    appendFileSync(file, partial);
    const size = statSync(file).size;

    const r = await readLedger(dir);
    expect(r.exists).toBe(true);
    expect(r.recovery).toMatchObject({ records: 3, tornBytesDropped: 20, corruptRecords: 0 });
    expect(statSync(file).size).toBe(size);
    expect(r.recent(5).map((e) => e.winner.block.height)).toEqual([1001, 1000]);
    expect(r.pending()).toHaveLength(1);
    expect(r.get(winner(0).ticket, winner(0).block.hash)?.outcome?.reason).toBe('vote_not_broadcast');
  });

  it('returns an empty snapshot when there is no ledger', async () => {
    const r = await readLedger(join(dir, 'missing'));
    expect(r.exists).toBe(false);
    expect(r.size).toBe(0);
    expect(r.counts().pending).toBe(0);
  });
});

describe('lock', () => {
  it('refuses a second open of the same directory, naming the directory and pid', async () => {
    const l = await openL();
    await expect(Ledger.open(dir)).rejects.toThrow(LedgerLockedError);
    await expect(Ledger.open(dir)).rejects.toThrow(new RegExp(`${dir}.*pid ${process.pid}`));
    await l.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await openL(); // free again after close
  });

  it('refuses a lock held by another live process', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid }) + '\n');
    const err = await Ledger.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerLockedError);
    expect((err as LedgerLockedError).pid).toBe(process.ppid);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(`pid ${process.ppid}`);
    // The other process's lock is untouched.
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.ppid);
  });

  it('takes over a stale lock from a dead pid', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: 'x' }) + '\n');
    const l = await openL();
    expect(l.recovery.staleLockFrom?.pid).toBe(dead);
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(lock.pid).toBe(process.pid);
    await l.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a stale lock carrying our own pid (container restart) and a plain-pid lock', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid }) + '\n');
    const l = await openL();
    expect(l.recovery.staleLockFrom?.pid).toBe(process.pid);
    await l.close();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, LOCK_FILE), `${dead}\n`);
    expect((await openL()).recovery.staleLockFrom?.pid).toBe(dead);
  });

  it('treats a live pid with a different start time as a reused pid (stale)', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, startTime: '1' }) + '\n');
    if (!existsSync(`/proc/${process.ppid}/stat`)) return; // not Linux
    const l = await openL();
    expect(l.recovery.staleLockFrom?.pid).toBe(process.ppid);
  });
});
