// In-memory view of a ledger file: the index both the writer (Ledger) and the
// read-only reader (readLedger) build, and the scan that builds it.

import { MISS_REASONS, type MissReason } from '../domain.js';
import {
  BODY_OFFSET,
  checkLine,
  parseBody,
  type DecodeResult,
  type OutcomeRecord,
  type ReopenRecord,
  type TimelineRecord,
  type WinnerRecord,
} from './record.js';

export interface LedgerEntry {
  winner: WinnerRecord;
  outcome?: OutcomeRecord;
  /** The revision of the last outcome or reopening; absent for a first outcome (or none yet). */
  revision?: number;
}

export interface LedgerCounts {
  voted: number;
  missed: number;
  superseded: number;
  pending: number;
  byReason: Record<MissReason, number>;
  /** Outcomes later replaced or withdrawn because a reorg removed the block they were decided on. */
  revised: number;
}

/** One line that could not be used, for the operator's log. */
export interface RecoveryProblem {
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  reason: string;
}

/** What reading the file found. */
export interface LedgerRecovery {
  /** Valid records loaded into the index. */
  records: number;
  /** Bytes of an unterminated last line. The writer truncates them on open;
   *  a reader just ignores them (they may be an append in progress). */
  tornBytesDropped: number;
  /** Complete lines that failed their checksum or validation. They stay in
   *  the file (evidence) and are skipped; records after them are kept. */
  corruptRecords: number;
  /** Valid records repeating a winner or outcome already loaded (ignored). */
  duplicateRecords: number;
  /** Valid outcome, reopen or timeline records whose winner record is missing (ignored). */
  orphanOutcomes: number;
  /** Details of the first problems (corrupt, duplicate, orphan), capped. */
  problems: RecoveryProblem[];
}

/** Read access shared by the writer and the read-only snapshot. */
export interface LedgerView {
  pending(): LedgerEntry[];
  recent(limit: number): LedgerEntry[];
  get(ticket: string, blockHash: string): LedgerEntry | undefined;
  /** Every entry of this ticket (one per block it won in; more than one only across reorgs), oldest first. */
  entriesFor(ticket: string): LedgerEntry[];
  /** The vote's stage-by-stage timeline, when one was recorded. */
  timeline(ticket: string, blockHash: string): TimelineRecord | undefined;
  counts(): LedgerCounts;
  readonly size: number;
}

export const MAX_REPORTED_PROBLEMS = 100;

export interface Slot {
  winner: WinnerRecord;
  outcome?: OutcomeRecord;
  /** The same ticket's entry for another block (reorgs), rarely set. */
  sameTicket?: Slot;
  /** Revision of the last outcome or reopening applied; -1 before the first outcome. */
  revision: number;
  /** The last timeline written for it (a later decision writes a newer one). */
  timeline?: TimelineRecord;
}

function copy(s: Slot): LedgerEntry {
  const e: LedgerEntry = s.outcome ? { winner: s.winner, outcome: s.outcome } : { winner: s.winner };
  if (s.revision > 0) e.revision = s.revision;
  return e;
}

function zeroByReason(): Record<MissReason, number> {
  const r = {} as Record<MissReason, number>;
  for (const m of MISS_REASONS) r[m] = 0;
  return r;
}

/**
 * Keyed by ticket, then block hash. A ticket wins in one block except across
 * reorgs, so the per-ticket chain is almost always one slot long; keying the
 * Map by the 64-char ticket alone keeps a 100k-record open cheap.
 */
export class LedgerIndex implements LedgerView {
  /** Every winner in append order. */
  readonly #slots: Slot[] = [];
  readonly #byTicket = new Map<string, Slot>();
  /** Winners without outcome; a Set keeps insertion (= append) order. */
  readonly #open = new Set<Slot>();
  #voted = 0;
  #missed = 0;
  #superseded = 0;
  #revised = 0;
  readonly #byReason = zeroByReason();

  get size(): number {
    return this.#slots.length;
  }

  lookup(ticket: string, blockHash: string): Slot | undefined {
    for (let s = this.#byTicket.get(ticket); s; s = s.sameTicket) {
      if (s.winner.block.hash === blockHash) return s;
    }
    return undefined;
  }

  /** Add a winner; false if one with the same ticket and block hash exists. */
  addWinner(w: WinnerRecord): boolean {
    const first = this.#byTicket.get(w.ticket);
    for (let s = first; s; s = s.sameTicket) {
      if (s.winner.block.hash === w.block.hash) return false;
    }
    const slot: Slot = first ? { winner: w, sameTicket: first, revision: -1 } : { winner: w, revision: -1 };
    this.#slots.push(slot);
    this.#byTicket.set(w.ticket, slot);
    this.#open.add(slot);
    return true;
  }

  /**
   * Whether an outcome would be taken: the first one, or a revision newer
   * than everything applied so far. Anything else is a duplicate.
   */
  accepts(o: OutcomeRecord | ReopenRecord): boolean {
    const slot = this.lookup(o.ticket, o.block.hash);
    if (!slot) return false;
    if (o.kind === 'reopened') return slot.outcome !== undefined && o.revision > slot.revision;
    return (o.revision ?? 0) > slot.revision;
  }

  /** Attach an outcome. 'orphan': no such winner; 'duplicate': already decided (at this revision or a later one). */
  addOutcome(o: OutcomeRecord): 'ok' | 'orphan' | 'duplicate' {
    const slot = this.lookup(o.ticket, o.block.hash);
    if (!slot) return 'orphan';
    if (!this.accepts(o)) return 'duplicate';
    if (slot.outcome) this.#withdraw(slot);
    slot.outcome = o;
    slot.revision = o.revision ?? 0;
    this.#open.delete(slot);
    this.#count(o, 1);
    return 'ok';
  }

  /** Attach a timeline; the newest one wins. 'orphan': no such winner. */
  addTimeline(t: TimelineRecord): 'ok' | 'orphan' {
    const slot = this.lookup(t.ticket, t.block.hash);
    if (!slot) return 'orphan';
    slot.timeline = t;
    return 'ok';
  }

  timeline(ticket: string, blockHash: string): TimelineRecord | undefined {
    return this.lookup(ticket, blockHash)?.timeline;
  }

  entriesFor(ticket: string): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (let s = this.#byTicket.get(ticket); s; s = s.sameTicket) out.push(copy(s));
    return out.reverse();
  }

  /** Withdraw an outcome: the winner is pending again. */
  addReopen(r: ReopenRecord): 'ok' | 'orphan' | 'duplicate' {
    const slot = this.lookup(r.ticket, r.block.hash);
    if (!slot) return 'orphan';
    if (!this.accepts(r)) return 'duplicate';
    this.#withdraw(slot);
    slot.revision = r.revision;
    this.#open.add(slot);
    return 'ok';
  }

  #withdraw(slot: Slot): void {
    if (!slot.outcome) return;
    this.#count(slot.outcome, -1);
    this.#revised++;
    delete slot.outcome;
  }

  #count(o: OutcomeRecord, by: 1 | -1): void {
    switch (o.outcome) {
      case 'voted':
        this.#voted += by;
        break;
      case 'superseded':
        this.#superseded += by;
        break;
      case 'missed':
        this.#missed += by;
        if (o.reason) this.#byReason[o.reason] += by;
        break;
    }
  }

  pending(): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (const s of this.#open.values()) out.push(copy(s));
    return out;
  }

  recent(limit: number): LedgerEntry[] {
    const n = Math.max(0, Math.min(Math.floor(limit), this.#slots.length));
    const out: LedgerEntry[] = [];
    for (let i = this.#slots.length - 1; out.length < n; i--) out.push(copy(this.#slots[i] as Slot));
    return out;
  }

  get(ticket: string, blockHash: string): LedgerEntry | undefined {
    const s = this.lookup(ticket, blockHash);
    return s ? copy(s) : undefined;
  }

  counts(): LedgerCounts {
    return {
      voted: this.#voted,
      missed: this.#missed,
      superseded: this.#superseded,
      pending: this.#open.size,
      byReason: { ...this.#byReason },
      revised: this.#revised,
    };
  }
}

export interface ScanResult {
  index: LedgerIndex;
  recovery: LedgerRecovery;
  /** Length of the file up to and including its last newline. */
  validLength: number;
}

/**
 * Build the index from the whole file content. Never throws on bad data:
 * an unterminated tail is torn, a bad complete line is corrupt and skipped.
 */
export function scanLedger(buf: Buffer): ScanResult {
  const index = new LedgerIndex();
  const recovery: LedgerRecovery = {
    records: 0,
    tornBytesDropped: 0,
    corruptRecords: 0,
    duplicateRecords: 0,
    orphanOutcomes: 0,
    problems: [],
  };
  const report = (line: number, offset: number, reason: string): void => {
    if (recovery.problems.length < MAX_REPORTED_PROBLEMS) recovery.problems.push({ line, offset, reason });
  };

  // JSON is parsed from slices of one decoded string (much cheaper than a
  // Buffer-to-string per line); checksums are over the bytes. '\n' is one
  // byte and one UTF-16 unit and is never part of a multi-byte sequence (an
  // invalid sequence decodes to U+FFFD without eating it), so the k-th newline
  // of the bytes is the k-th newline of the text.
  const text = buf.toString('utf8');
  let start = 0;
  let tStart = 0;
  let lineNo = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break; // unterminated tail: handled below
    const tNl = text.indexOf('\n', tStart);
    lineNo++;
    const bad = checkLine(buf, start, nl);
    const res: DecodeResult = bad ? { ok: false, reason: bad } : parseBody(text.slice(tStart + BODY_OFFSET, tNl));
    if (!res.ok) {
      recovery.corruptRecords++;
      report(lineNo, start, res.reason);
    } else if (res.record.kind === 'winner') {
      if (index.addWinner(res.record)) recovery.records++;
      else {
        recovery.duplicateRecords++;
        report(lineNo, start, `duplicate winner ${res.record.ticket} @ ${res.record.block.hash}`);
      }
    } else if (res.record.kind === 'timeline') {
      if (index.addTimeline(res.record) === 'ok') recovery.records++;
      else {
        recovery.orphanOutcomes++;
        report(lineNo, start, `timeline without winner ${res.record.ticket} @ ${res.record.block.hash}`);
      }
    } else {
      const r = res.record.kind === 'outcome' ? index.addOutcome(res.record) : index.addReopen(res.record);
      if (r === 'ok') recovery.records++;
      else if (r === 'duplicate') {
        recovery.duplicateRecords++;
        report(lineNo, start, `duplicate outcome ${res.record.ticket} @ ${res.record.block.hash}`);
      } else {
        recovery.orphanOutcomes++;
        report(lineNo, start, `outcome without winner ${res.record.ticket} @ ${res.record.block.hash}`);
      }
    }
    start = nl + 1;
    tStart = tNl + 1;
  }
  recovery.tornBytesDropped = buf.length - start;
  return { index, recovery, validLength: start };
}
