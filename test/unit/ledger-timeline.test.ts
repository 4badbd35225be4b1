// Timelines in the ledger: written beside the outcome, read back by the
// writer and the read-only reader, and never at the cost of anything else:
// a ledger from before timelines opens as it was, and a torn or corrupt
// timeline line loses only itself.

import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEDGER_FILE, Ledger, readLedger, type TimelineRecord, type WinnerRecord } from '../../src/ledger/ledger.js';
import { crc32, encodeRecord, timelineProblem } from '../../src/ledger/record.js';

const READY = { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true };
const T0 = 1_700_000_000_000;

function hash(prefix: string, n: number): string {
  return (prefix + n.toString(16)).padStart(64, '0');
}

function winner(i: number): WinnerRecord {
  return { kind: 'winner', ticket: hash('a', i), wallet: 'main', block: { hash: hash('b', i), height: 1000 + i }, notifiedAt: T0 + i, readiness: READY };
}

function timeline(w: WinnerRecord, over: Partial<TimelineRecord> = {}): TimelineRecord {
  return {
    kind: 'timeline',
    ticket: w.ticket,
    block: w.block,
    notifiedAt: w.notifiedAt,
    firstNode: 'alpha',
    otherNodes: [{ node: 'beta', ms: 3.5 }],
    caster: 'daemon',
    builtMs: 1.2,
    signedMs: 6,
    accepted: [{ node: 'alpha', ms: 7 }],
    rejected: [{ node: 'beta', ms: 8, error: 'rejected' }],
    mempool: [{ node: 'alpha', ms: 20 }],
    rebroadcast: [{ node: 'beta', ms: 1000 }],
    nextBlock: { hash: hash('d', 1), height: w.block.height + 1, ms: 2500, votes: 5 },
    ...over,
  };
}

/** A line exactly as any dcrvoted version writes it: crc32 of the JSON, a space, the JSON. */
function line(json: string): string {
  return `${crc32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`;
}

let dir: string;
const opened: Ledger[] = [];

async function openL(): Promise<Ledger> {
  const l = await Ledger.open(dir, { fsync: false });
  opened.push(l);
  return l;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcrvoted-ledger-timeline-'));
});

afterEach(async () => {
  for (const l of opened.splice(0)) await l.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ledger timelines', () => {
  it('round trip: a timeline written after the outcome is read back by the next open and by readLedger', async () => {
    const w = winner(1);
    const l = await openL();
    await l.recordWinner(w);
    await l.recordOutcome({ kind: 'outcome', ticket: w.ticket, block: w.block, outcome: 'voted', decidedAt: T0 + 3000 });
    expect(await l.recordTimeline(timeline(w))).toBe(true);
    expect(l.timeline(w.ticket, w.block.hash)).toEqual(timeline(w));
    await l.close();
    const again = await openL();
    expect(again.recovery).toMatchObject({ records: 3, corruptRecords: 0, orphanOutcomes: 0 });
    expect(again.timeline(w.ticket, w.block.hash)).toEqual(timeline(w));
    expect(again.get(w.ticket, w.block.hash)?.outcome?.outcome).toBe('voted');
    const snap = await readLedger(dir);
    expect(snap.timeline(w.ticket, w.block.hash)).toEqual(timeline(w));
    expect(snap.entriesFor(w.ticket)).toHaveLength(1);
    // Entries themselves stay as they were (/status lists 200 of them).
    expect(snap.entriesFor(w.ticket)[0]).not.toHaveProperty('timeline');
  });

  it('a later timeline of the same winner replaces the earlier one', async () => {
    const w = winner(1);
    const l = await openL();
    await l.recordWinner(w);
    await l.recordTimeline(timeline(w, { builtMs: undefined, signedMs: undefined }));
    await l.recordTimeline(timeline(w));
    await l.close();
    expect((await readLedger(dir)).timeline(w.ticket, w.block.hash)).toEqual(timeline(w));
  });

  it('opens a ledger written before timelines existed, with every record and no timeline', async () => {
    const tk = 'a1'.repeat(32);
    const blk = '00'.repeat(4) + '1c'.repeat(28);
    writeFileSync(
      join(dir, LEDGER_FILE),
      line(`{"kind":"winner","ticket":"${tk}","wallet":"w1","block":{"hash":"${blk}","height":812345},"notifiedAt":1700000000000,"readiness":{"reachable":true,"unlocked":true,"voting":true,"daemonConnected":true,"synced":true}}`) +
        line(`{"kind":"outcome","ticket":"${tk}","block":{"hash":"${blk}","height":812345},"outcome":"missed","reason":"wallet_locked","decidedAt":1700000004000}`),
    );
    const l = await openL();
    expect(l.recovery).toMatchObject({ records: 2, corruptRecords: 0, tornBytesDropped: 0, orphanOutcomes: 0, duplicateRecords: 0 });
    expect(l.get(tk, blk)?.outcome?.reason).toBe('wallet_locked');
    expect(l.timeline(tk, blk)).toBeUndefined();
    // And it takes timelines from now on.
    expect(await l.recordTimeline(timeline(l.get(tk, blk)!.winner))).toBe(true);
  });

  it('a corrupt timeline line in the middle loses only itself', async () => {
    const [a, b] = [winner(1), winner(2)];
    const l = await openL();
    await l.recordWinner(a);
    await l.recordTimeline(timeline(a));
    await l.close();
    const file = join(dir, LEDGER_FILE);
    // Flip a digit inside the timeline's JSON: its checksum no longer matches.
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    lines[1] = lines[1]!.replace('"votes":5', '"votes":6');
    writeFileSync(file, lines.join('\n'));
    // A timeline whose checksum matches but whose shape is impossible.
    appendFileSync(file, line(JSON.stringify({ ...timeline(a), otherNodes: 'beta' })));
    appendFileSync(file, encodeRecord(b));
    appendFileSync(file, encodeRecord({ kind: 'outcome', ticket: b.ticket, block: b.block, outcome: 'voted', decidedAt: T0 }));
    const again = await openL();
    expect(again.recovery.corruptRecords).toBe(2);
    expect(again.recovery.problems.map((p) => p.reason)).toEqual(['checksum mismatch', 'invalid timeline record: otherNodes must be an array']);
    expect(again.get(a.ticket, a.block.hash)?.winner).toEqual(a);
    expect(again.timeline(a.ticket, a.block.hash)).toBeUndefined();
    expect(again.get(b.ticket, b.block.hash)?.outcome?.outcome).toBe('voted');
    expect(again.size).toBe(2);
  });

  it('a torn timeline at the end is cut and the records before it stay', async () => {
    const w = winner(1);
    const l = await openL();
    await l.recordWinner(w);
    await l.close();
    const file = join(dir, LEDGER_FILE);
    const full = encodeRecord(timeline(w));
    appendFileSync(file, full.subarray(0, full.length - 20));
    const again = await openL();
    expect(again.recovery.tornBytesDropped).toBe(full.length - 20);
    expect(again.get(w.ticket, w.block.hash)?.winner).toEqual(w);
    expect(again.timeline(w.ticket, w.block.hash)).toBeUndefined();
    expect(await again.recordTimeline(timeline(w))).toBe(true);
    await again.close();
    expect((await readLedger(dir)).timeline(w.ticket, w.block.hash)).toEqual(timeline(w));
  });

  it('refuses a timeline without its winner, or out of bounds, and writes nothing', async () => {
    const w = winner(1);
    const l = await openL();
    await expect(l.recordTimeline(timeline(w))).rejects.toThrow(/no winner record for ticket/);
    await l.recordWinner(w);
    const many = Array.from({ length: 17 }, (_, i) => ({ node: `n${i}`, ms: i }));
    await expect(l.recordTimeline(timeline(w, { mempool: many }))).rejects.toThrow('mempool must have at most 16 entries');
    await expect(l.recordTimeline(timeline(w, { caster: 'someone' as 'wallet' }))).rejects.toThrow('caster must be one of wallet, daemon, both');
    await expect(l.recordTimeline(timeline(w, { rejected: [{ node: 'a', ms: 1, error: 'e'.repeat(201) }] }))).rejects.toThrow(/error must be a string of at most 200/);
    expect(timelineProblem(timeline(w, { signer: 'someone' as 'local' }))).toBe("signer must be 'local' or 'wallet' when present");
    expect(timelineProblem(timeline(w, { nextBlock: { hash: 'x', height: 2, votes: -1 } }))).toBe('nextBlock.votes must be a non-negative integer');
    await l.close();
    expect((await readLedger(dir)).recovery.records).toBe(1);
  });

  it('a timeline line whose winner is gone is counted as an orphan, the rest kept', async () => {
    const w = winner(1);
    writeFileSync(join(dir, LEDGER_FILE), Buffer.concat([encodeRecord(timeline(winner(9))), encodeRecord(w)]));
    const l = await openL();
    expect(l.recovery).toMatchObject({ records: 1, orphanOutcomes: 1, corruptRecords: 0 });
    expect(l.get(w.ticket, w.block.hash)?.winner).toEqual(w);
  });
});
