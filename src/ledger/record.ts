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

/** One dcrd node's moment in a vote's timeline, ms after the notification. */
export interface NodeTime {
  node: string;
  ms: number;
}

/** A dcrd node that refused our broadcast. */
export interface NodeRefusal extends NodeTime {
  error: string;
}

/** Who builds and signs the vote: the wallet's votingMode. */
export type TimelineCaster = 'wallet' | 'daemon' | 'both';

/**
 * What happened to one winner's vote, stage by stage, assembled from what
 * the daemon observed and written after the outcome (diagnostics: a lost
 * timeline loses no outcome). Every time is ms after `notifiedAt`, the
 * first dcrd's winningtickets. A stage nobody observed is absent, never
 * guessed: the wallet's own vote has no build or sign time.
 */
export interface TimelineRecord {
  kind: 'timeline';
  ticket: string;
  block: BlockRef;
  notifiedAt: number;
  /** The dcrd node whose winningtickets came first; absent when not known. */
  firstNode?: string;
  /** Each other node's winningtickets, ms after the first node's. */
  otherNodes: NodeTime[];
  caster: TimelineCaster;
  /** dcrvoted's own vote: built (inputs gathered, unsigned transaction ready), then signed. */
  builtMs?: number;
  signedMs?: number;
  /** Who signed dcrvoted's vote: dcrvoted itself with the ticket's voting key, or the wallet. */
  signer?: 'local' | 'wallet';
  /** dcrvoted could not cast: the signing failure's reason. */
  castFailed?: string;
  /** Nodes that accepted dcrvoted's broadcast, and when each answered. */
  accepted: NodeTime[];
  rejected: NodeRefusal[];
  /** The first time the vote was found in each node's mempool. */
  mempool: NodeTime[];
  /** Nodes whose mempool lacked the vote and got it sent again. */
  rebroadcast: NodeTime[];
  /** The block that decided the outcome: when it arrived (absent when not watched live) and how many votes it carried. */
  nextBlock?: { hash: string; height: number; ms?: number; votes: number };
}

export type LedgerRecord = WinnerRecord | OutcomeRecord | ReopenRecord | TimelineRecord;

/** Bounds that keep a timeline record small whatever happened: one entry per node, short names and errors. */
export const TIMELINE_LIMITS = Object.freeze({ nodes: 16, name: 128, error: 200 });

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

const CASTERS: readonly TimelineCaster[] = ['wallet', 'daemon', 'both'];

function isOffset(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function nodeTimesProblem(x: unknown, field: string, withError = false): string | null {
  if (!Array.isArray(x)) return `${field} must be an array`;
  if (x.length > TIMELINE_LIMITS.nodes) return `${field} must have at most ${TIMELINE_LIMITS.nodes} entries`;
  for (const [i, e] of x.entries()) {
    if (!isObject(e)) return `${field}[${i}] must be an object {node, ms}`;
    if (!isNonEmptyString(e.node) || e.node.length > TIMELINE_LIMITS.name) return `${field}[${i}].node must be a name of 1 to ${TIMELINE_LIMITS.name} characters`;
    if (!isOffset(e.ms)) return `${field}[${i}].ms must be a finite number`;
    if (withError && (typeof e.error !== 'string' || e.error.length > TIMELINE_LIMITS.error)) return `${field}[${i}].error must be a string of at most ${TIMELINE_LIMITS.error} characters`;
  }
  return null;
}

/** Why `x` is not a valid timeline record, or null if it is. */
export function timelineProblem(x: unknown): string | null {
  if (!isObject(x)) return 'timeline record must be an object';
  if (x.kind !== 'timeline') return "timeline record kind must be 'timeline'";
  if (!isNonEmptyString(x.ticket)) return 'ticket must be a non-empty string';
  const b = blockProblem(x.block, 'block');
  if (b) return b;
  if (!isTimestamp(x.notifiedAt)) return 'notifiedAt must be a finite ms timestamp';
  if (x.firstNode !== undefined && (!isNonEmptyString(x.firstNode) || x.firstNode.length > TIMELINE_LIMITS.name)) {
    return `firstNode must be a name of 1 to ${TIMELINE_LIMITS.name} characters when present`;
  }
  if (typeof x.caster !== 'string' || !CASTERS.includes(x.caster as TimelineCaster)) return `caster must be one of ${CASTERS.join(', ')}`;
  for (const k of ['builtMs', 'signedMs'] as const) {
    if (x[k] !== undefined && !isOffset(x[k])) return `${k} must be a finite number when present`;
  }
  if (x.signer !== undefined && x.signer !== 'local' && x.signer !== 'wallet') return "signer must be 'local' or 'wallet' when present";
  if (x.castFailed !== undefined && (!isNonEmptyString(x.castFailed) || x.castFailed.length > TIMELINE_LIMITS.error)) {
    return `castFailed must be a string of 1 to ${TIMELINE_LIMITS.error} characters when present`;
  }
  const lists = nodeTimesProblem(x.otherNodes, 'otherNodes') ?? nodeTimesProblem(x.accepted, 'accepted') ?? nodeTimesProblem(x.rejected, 'rejected', true) ?? nodeTimesProblem(x.mempool, 'mempool') ?? nodeTimesProblem(x.rebroadcast, 'rebroadcast');
  if (lists) return lists;
  if (x.nextBlock !== undefined) {
    const p = blockProblem(x.nextBlock, 'nextBlock');
    if (p) return p;
    const nb = x.nextBlock as Record<string, unknown>;
    if (nb.ms !== undefined && !isOffset(nb.ms)) return 'nextBlock.ms must be a finite number when present';
    if (typeof nb.votes !== 'number' || !Number.isSafeInteger(nb.votes) || nb.votes < 0) return 'nextBlock.votes must be a non-negative integer';
  }
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

function nodeTimes(list: readonly NodeTime[]): readonly NodeTime[] {
  return Object.freeze(list.map((e) => Object.freeze({ node: e.node, ms: e.ms })));
}

export function canonicalTimeline(r: TimelineRecord): TimelineRecord {
  const out: TimelineRecord = { kind: 'timeline', ticket: r.ticket, block: block(r.block), notifiedAt: r.notifiedAt } as TimelineRecord;
  if (r.firstNode !== undefined) out.firstNode = r.firstNode;
  out.otherNodes = nodeTimes(r.otherNodes) as NodeTime[];
  out.caster = r.caster;
  if (r.builtMs !== undefined) out.builtMs = r.builtMs;
  if (r.signedMs !== undefined) out.signedMs = r.signedMs;
  if (r.signer !== undefined) out.signer = r.signer;
  if (r.castFailed !== undefined) out.castFailed = r.castFailed;
  out.accepted = nodeTimes(r.accepted) as NodeTime[];
  out.rejected = Object.freeze(r.rejected.map((e) => Object.freeze({ node: e.node, ms: e.ms, error: e.error }))) as NodeRefusal[];
  out.mempool = nodeTimes(r.mempool) as NodeTime[];
  out.rebroadcast = nodeTimes(r.rebroadcast) as NodeTime[];
  if (r.nextBlock !== undefined) {
    const nb = r.nextBlock;
    out.nextBlock = Object.freeze(nb.ms !== undefined ? { hash: nb.hash, height: nb.height, ms: nb.ms, votes: nb.votes } : { hash: nb.hash, height: nb.height, votes: nb.votes });
  }
  return Object.freeze(out);
}

function deepFreeze(x: unknown): void {
  if (typeof x !== 'object' || x === null) return;
  for (const v of Object.values(x)) deepFreeze(v);
  Object.freeze(x);
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
  if (isObject(parsed) && parsed.kind === 'timeline') {
    const p = timelineProblem(parsed);
    if (p) return { ok: false, reason: `invalid timeline record: ${p}` };
    deepFreeze(parsed);
    return { ok: true, record: parsed as unknown as TimelineRecord };
  }
  return { ok: false, reason: 'unknown record kind' };
}

/** Decode the line buf[start, end) (without its newline). */
export function decodeLine(buf: Buffer, start: number, end: number): DecodeResult {
  const bad = checkLine(buf, start, end);
  if (bad) return { ok: false, reason: bad };
  return parseBody(buf.toString('utf8', start + BODY_OFFSET, end));
}
