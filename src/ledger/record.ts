// Ledger record types and their on-disk encoding.
//
// One record per line: `<crc32 of the JSON bytes, 8 lowercase hex> <JSON>\n`.
// JSON.stringify never emits a raw newline, so '\n' only ever ends a record.
// The checksum lets recovery tell a good line from a torn or damaged one
// without trusting JSON.parse alone (a truncated number still parses).

import * as zlib from 'node:zlib';
import {
  MISS_REASONS,
  type BlockRef,
  type MissReason,
  type Outcome,
  type WalletReadiness,
} from '../domain.js';

/** A winning ticket of ours for one block, recorded when first noticed. */
export interface WinnerRecord {
  kind: 'winner';
  /** Ticket hash. */
  ticket: string;
  /** Name of the wallet that owns the ticket. */
  wallet: string;
  /** The block whose lottery selected the ticket. */
  block: BlockRef;
  /** When we learned about it (ms since epoch). */
  notifiedAt: number;
  /** The wallet's readiness as observed at notification time. */
  readiness: WalletReadiness;
}

/** The decided fate of one winner record. */
export interface OutcomeRecord {
  kind: 'outcome';
  ticket: string;
  /** The block the ticket won in (same as the winner record's block). */
  block: BlockRef;
  outcome: Outcome;
  /** Required when outcome is 'missed', absent otherwise. */
  reason?: MissReason;
  voteTxid?: string;
  /** The block that mined the vote. */
  includedIn?: BlockRef;
  /** Delay from notification to first seeing the vote, ms. */
  voteSeenMs?: number;
  /** When the outcome was decided (ms since epoch). */
  decidedAt: number;
  /** The block whose content decided it (the next block after `block`); absent for superseded. */
  decidedBy?: BlockRef;
  /**
   * 0 (absent) for the first outcome; a later outcome or reopening of the
   * same winner carries a higher number and replaces what came before (a
   * reorg removed the block the outcome was decided on).
   */
  revision?: number;
}

/**
 * A decided outcome withdrawn: the block that decided it was disconnected
 * while the block the ticket won in stayed (or that block, once superseded,
 * came back), so the winner is pending again and the next block decides it
 * anew.
 */
export interface ReopenRecord {
  kind: 'reopened';
  ticket: string;
  block: BlockRef;
  /** Greater than the revision of the outcome it withdraws. */
  revision: number;
  /** The disconnected block that had decided the outcome, or the ticket's own block back on the main chain. */
  because: BlockRef;
  at: number;
}

export type LedgerRecord = WinnerRecord | OutcomeRecord | ReopenRecord;

const OUTCOMES: readonly Outcome[] = ['voted', 'missed', 'superseded'];
const NL = 0x0a;
const SPACE = 0x20;
const CRC_HEX_LEN = 8;

// ---------------------------------------------------------------------------
// CRC-32 (IEEE). zlib.crc32 is native from Node 20.15; older 20.x falls back to
// a table-driven implementation with identical output.

let crcTable: Uint32Array | undefined;

function crc32Fallback(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    crc = (table[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (d) => zlib.crc32(d) >>> 0 : crc32Fallback;

// ---------------------------------------------------------------------------
// Validation. Used both for what callers hand us (throws) and for what we read
// back from disk (a line with a good checksum but an impossible shape is
// reported as corrupt).

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isNonEmptyString(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

function isTimestamp(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function blockProblem(x: unknown, field: string): string | null {
  if (!isObject(x)) return `${field} must be an object {hash, height}`;
  if (!isNonEmptyString(x.hash)) return `${field}.hash must be a non-empty string`;
  if (typeof x.height !== 'number' || !Number.isSafeInteger(x.height) || x.height < 0) {
    return `${field}.height must be a non-negative integer`;
  }
  return null;
}

function isTriState(x: unknown): boolean {
  return x === null || typeof x === 'boolean';
}

function readinessProblem(x: unknown): string | null {
  if (!isObject(x)) return 'readiness must be an object';
  if (typeof x.reachable !== 'boolean') return 'readiness.reachable must be a boolean';
  for (const k of ['unlocked', 'voting', 'daemonConnected', 'synced'] as const) {
    if (!isTriState(x[k])) return `readiness.${k} must be a boolean or null`;
  }
  return null;
}

/** Why `x` is not a valid winner record, or null if it is. */
export function winnerProblem(x: unknown): string | null {
  if (!isObject(x)) return 'winner record must be an object';
  if (x.kind !== 'winner') return "winner record kind must be 'winner'";
  if (!isNonEmptyString(x.ticket)) return 'ticket must be a non-empty string';
  if (!isNonEmptyString(x.wallet)) return 'wallet must be a non-empty string';
  const b = blockProblem(x.block, 'block');
  if (b) return b;
  if (!isTimestamp(x.notifiedAt)) return 'notifiedAt must be a finite ms timestamp';
  return readinessProblem(x.readiness);
}

/** Why `x` is not a valid outcome record, or null if it is. */
export function outcomeProblem(x: unknown): string | null {
  if (!isObject(x)) return 'outcome record must be an object';
  if (x.kind !== 'outcome') return "outcome record kind must be 'outcome'";
  if (!isNonEmptyString(x.ticket)) return 'ticket must be a non-empty string';
  const b = blockProblem(x.block, 'block');
  if (b) return b;
  if (typeof x.outcome !== 'string' || !OUTCOMES.includes(x.outcome as Outcome)) {
    return `outcome must be one of ${OUTCOMES.join(', ')}`;
  }
  if (x.outcome === 'missed') {
    if (typeof x.reason !== 'string' || !MISS_REASONS.includes(x.reason as MissReason)) {
      return `a missed outcome needs a reason, one of ${MISS_REASONS.join(', ')}`;
    }
  } else if (x.reason !== undefined) {
    return `a ${x.outcome} outcome has no miss reason`;
  }
  if (x.voteTxid !== undefined && !isNonEmptyString(x.voteTxid)) {
    return 'voteTxid must be a non-empty string when present';
  }
  if (x.includedIn !== undefined) {
    const p = blockProblem(x.includedIn, 'includedIn');
    if (p) return p;
  }
  if (x.voteSeenMs !== undefined && !isTimestamp(x.voteSeenMs)) {
    return 'voteSeenMs must be a non-negative finite number when present';
  }
  if (!isTimestamp(x.decidedAt)) return 'decidedAt must be a finite ms timestamp';
  if (x.decidedBy !== undefined) {
    const p = blockProblem(x.decidedBy, 'decidedBy');
    if (p) return p;
  }
  if (x.revision !== undefined && !isRevision(x.revision)) return 'revision must be a positive integer when present';
  return null;
}

function isRevision(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
}

/** Why `x` is not a valid reopen record, or null if it is. */
export function reopenProblem(x: unknown): string | null {
  if (!isObject(x)) return 'reopen record must be an object';
  if (x.kind !== 'reopened') return "reopen record kind must be 'reopened'";
  if (!isNonEmptyString(x.ticket)) return 'ticket must be a non-empty string';
  const b = blockProblem(x.block, 'block') ?? blockProblem(x.because, 'because');
  if (b) return b;
  if (!isRevision(x.revision)) return 'revision must be a positive integer';
  if (!isTimestamp(x.at)) return 'at must be a finite ms timestamp';
  return null;
}

// ---------------------------------------------------------------------------
// Canonical copies: only known fields, fixed key order, frozen. What we write
// is exactly what we keep in memory, and callers can't mutate either.

function block(b: BlockRef): BlockRef {
  return Object.freeze({ hash: b.hash, height: b.height });
}

export function canonicalWinner(r: WinnerRecord): WinnerRecord {
  return Object.freeze({
    kind: 'winner',
    ticket: r.ticket,
    wallet: r.wallet,
    block: block(r.block),
    notifiedAt: r.notifiedAt,
    readiness: Object.freeze({
      reachable: r.readiness.reachable,
      unlocked: r.readiness.unlocked,
      voting: r.readiness.voting,
      daemonConnected: r.readiness.daemonConnected,
      synced: r.readiness.synced,
    }),
  });
}

export function canonicalOutcome(r: OutcomeRecord): OutcomeRecord {
  const out: OutcomeRecord = {
    kind: 'outcome',
    ticket: r.ticket,
    block: block(r.block),
    outcome: r.outcome,
  } as OutcomeRecord;
  if (r.reason !== undefined) out.reason = r.reason;
  if (r.voteTxid !== undefined) out.voteTxid = r.voteTxid;
  if (r.includedIn !== undefined) out.includedIn = block(r.includedIn);
  if (r.voteSeenMs !== undefined) out.voteSeenMs = r.voteSeenMs;
  out.decidedAt = r.decidedAt;
  if (r.decidedBy !== undefined) out.decidedBy = block(r.decidedBy);
  if (r.revision !== undefined) out.revision = r.revision;
  return Object.freeze(out);
}

export function canonicalReopen(r: ReopenRecord): ReopenRecord {
  return Object.freeze({ kind: 'reopened', ticket: r.ticket, block: block(r.block), revision: r.revision, because: block(r.because), at: r.at });
}

// ---------------------------------------------------------------------------
// Encoding.

/** Encode one (already canonical) record as a complete line, newline included. */
export function encodeRecord(r: LedgerRecord): Buffer {
  const body = Buffer.from(JSON.stringify(r), 'utf8');
  const head = Buffer.from(crc32(body).toString(16).padStart(CRC_HEX_LEN, '0') + ' ', 'latin1');
  const line = Buffer.allocUnsafe(head.length + body.length + 1);
  head.copy(line, 0);
  body.copy(line, head.length);
  line[line.length - 1] = NL;
  return line;
}

export type DecodeResult =
  | { ok: true; record: LedgerRecord }
  | { ok: false; reason: string };

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x57; // a-f
  return -1;
}

/**
 * Check the line buf[start, end) (without its newline): its framing and
 * checksum. Returns null if good, else why not.
 */
export function checkLine(buf: Buffer, start: number, end: number): string | null {
  if (end - start < CRC_HEX_LEN + 2 || buf[start + CRC_HEX_LEN] !== SPACE) {
    return 'malformed line (expected "<crc32 hex> <json>")';
  }
  let want = 0;
  for (let i = 0; i < CRC_HEX_LEN; i++) {
    const v = hexVal(buf[start + i] as number);
    if (v < 0) return 'malformed checksum';
    want = want * 16 + v;
  }
  if (crc32(buf.subarray(start + CRC_HEX_LEN + 1, end)) !== want) return 'checksum mismatch';
  return null;
}

/** Offset of the JSON within a line. */
export const BODY_OFFSET = CRC_HEX_LEN + 1;

/** Parse and validate the JSON body of a line whose checksum matched. */
export function parseBody(json: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'checksum matches but JSON does not parse' };
  }
  if (isObject(parsed) && parsed.kind === 'winner') {
    const p = winnerProblem(parsed);
    if (p) return { ok: false, reason: `invalid winner record: ${p}` };
    // Our own bytes (the checksum matched): freeze in place rather than copy.
    Object.freeze(parsed.block);
    Object.freeze(parsed.readiness);
    return { ok: true, record: Object.freeze(parsed) as unknown as WinnerRecord };
  }
  if (isObject(parsed) && parsed.kind === 'outcome') {
    const p = outcomeProblem(parsed);
    if (p) return { ok: false, reason: `invalid outcome record: ${p}` };
    Object.freeze(parsed.block);
    if (parsed.includedIn !== undefined) Object.freeze(parsed.includedIn);
    if (parsed.decidedBy !== undefined) Object.freeze(parsed.decidedBy);
    return { ok: true, record: Object.freeze(parsed) as unknown as OutcomeRecord };
  }
  if (isObject(parsed) && parsed.kind === 'reopened') {
    const p = reopenProblem(parsed);
    if (p) return { ok: false, reason: `invalid reopen record: ${p}` };
    Object.freeze(parsed.block);
    Object.freeze(parsed.because);
    return { ok: true, record: Object.freeze(parsed) as unknown as ReopenRecord };
  }
  return { ok: false, reason: 'unknown record kind' };
}

/** Decode the line buf[start, end) (without its newline). */
export function decodeLine(buf: Buffer, start: number, end: number): DecodeResult {
  const bad = checkLine(buf, start, end);
  if (bad) return { ok: false, reason: bad };
  return parseBody(buf.toString('utf8', start + BODY_OFFSET, end));
}
