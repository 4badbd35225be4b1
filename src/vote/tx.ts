// Decred transaction model, serialization and hashing.
//
// Wire format (dcrd wire/msgtx.go, wire/common.go):
//
//   u32 LE   version | (serialization type << 16)
//   prefix   (types "full" and "no witness"):
//     varint  input count
//     per input:  32-byte previous tx hash (internal order) | u32 LE index |
//                 u8 tree | u32 LE sequence
//     varint  output count
//     per output: u64 LE value | u16 LE script version | varint + script
//     u32 LE lock time | u32 LE expiry
//   witness  (types "full" and "only witness"):
//     varint  input count
//     per input:  u64 LE value in | u32 LE block height | u32 LE block index |
//                 varint + signature script
//
// Serialization types: 0 full, 1 no witness (prefix only), 2 only witness.
// Varints are Bitcoin's CompactSize; dcrd rejects non-canonical encodings.
//
// Hashes (BLAKE-256):
//   txid          = BLAKE-256(serialize(no witness)), shown byte-reversed.
//                   It covers the version word (with type 1 in the upper 16
//                   bits) and the prefix only: no value in, no block
//                   height/index, no signature script. So a transaction's id
//                   is fixed before it is signed.
//   witness hash  = BLAKE-256(serialize(only witness)).
//   full hash     = BLAKE-256(prefix hash || witness hash).

import { blake256 } from '@noble/hashes/blake1.js';
import { bytesToHex, hexToBytes, internalToDisplayHash, type Decoded } from '../dcrd/hex.js';

/** wire.TxVersion: the initial transaction version. */
export const TX_VERSION = 1;
/** wire.TxVersionTreasury: required for votes that carry treasury (tspend) votes. */
export const TX_VERSION_TREASURY = 3;

/** wire.TxTreeRegular / wire.TxTreeStake. */
export const TX_TREE_REGULAR = 0;
export const TX_TREE_STAKE = 1;

/** wire.MaxTxInSequenceNum. */
export const MAX_TX_IN_SEQUENCE = 0xffffffff;
/** wire.NullValueIn, wire.NullBlockHeight, wire.NullBlockIndex. */
export const NULL_VALUE_IN = -1n;
export const NULL_BLOCK_HEIGHT = 0;
export const NULL_BLOCK_INDEX = 0xffffffff;
/** wire.DefaultPkScriptVersion. */
export const DEFAULT_SCRIPT_VERSION = 0;

export type SerializeType = 'full' | 'noWitness' | 'onlyWitness';
const SER_TYPE_CODE: Readonly<Record<SerializeType, number>> = { full: 0, noWitness: 1, onlyWitness: 2 };

export interface OutPoint {
  /** Previous transaction hash, INTERNAL byte order (32 bytes). */
  hash: Uint8Array;
  index: number;
  /** TX_TREE_REGULAR or TX_TREE_STAKE (int8 on the wire). */
  tree: number;
}

export interface TxIn {
  prevOut: OutPoint;
  sequence: number;
  /** Witness: amount of the spent output, in atoms (int64). */
  valueIn: bigint;
  blockHeight: number;
  blockIndex: number;
  signatureScript: Uint8Array;
}

export interface TxOut {
  /** Atoms (int64). */
  value: bigint;
  /** Script version (uint16). */
  version: number;
  pkScript: Uint8Array;
}

export interface MsgTx {
  /** Real transaction version (uint16), without the serialization type. */
  version: number;
  txIn: TxIn[];
  txOut: TxOut[];
  lockTime: number;
  expiry: number;
}

// ---------------------------------------------------------------- writing

class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#reserve(1);
    this.#view.setUint8(this.#len, v);
    this.#len += 1;
  }

  u16(v: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.#len, v, true);
    this.#len += 2;
  }

  u32(v: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#len, v, true);
    this.#len += 4;
  }

  /** Writes an int64 as its two's-complement uint64 (how Go's uint64(int64) casts). */
  i64(v: bigint): void {
    this.#reserve(8);
    this.#view.setBigUint64(this.#len, BigInt.asUintN(64, v), true);
    this.#len += 8;
  }

  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  varInt(n: number): void {
    if (n < 0xfd) {
      this.u8(n);
    } else if (n <= 0xffff) {
      this.u8(0xfd);
      this.u16(n);
    } else if (n <= 0xffffffff) {
      this.u8(0xfe);
      this.u32(n);
    } else {
      this.u8(0xff);
      this.#reserve(8);
      this.#view.setBigUint64(this.#len, BigInt(n), true);
      this.#len += 8;
    }
  }

  varBytes(b: Uint8Array): void {
    this.varInt(b.length);
    this.bytes(b);
  }

  result(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function checkTx(tx: MsgTx): void {
  const u = (v: number, bits: 8 | 16 | 32, what: string): void => {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`${what} ${v} is not a uint${bits}`);
  };
  u(tx.version, 16, 'tx version');
  u(tx.lockTime, 32, 'lock time');
  u(tx.expiry, 32, 'expiry');
  tx.txIn.forEach((ti, i) => {
    if (ti.prevOut.hash.length !== 32) throw new RangeError(`input ${i}: previous hash must be 32 bytes`);
    u(ti.prevOut.index, 32, `input ${i} index`);
    if (!Number.isInteger(ti.prevOut.tree) || ti.prevOut.tree < -128 || ti.prevOut.tree > 127) {
      throw new RangeError(`input ${i}: tree ${ti.prevOut.tree} is not an int8`);
    }
    u(ti.sequence, 32, `input ${i} sequence`);
    u(ti.blockHeight, 32, `input ${i} block height`);
    u(ti.blockIndex, 32, `input ${i} block index`);
  });
  tx.txOut.forEach((to, i) => u(to.version, 16, `output ${i} script version`));
}

function writePrefix(w: Writer, tx: MsgTx): void {
  w.varInt(tx.txIn.length);
  for (const ti of tx.txIn) {
    w.bytes(ti.prevOut.hash);
    w.u32(ti.prevOut.index);
    w.u8(ti.prevOut.tree & 0xff);
    w.u32(ti.sequence);
  }
  w.varInt(tx.txOut.length);
  for (const to of tx.txOut) {
    w.i64(to.value);
    w.u16(to.version);
    w.varBytes(to.pkScript);
  }
  w.u32(tx.lockTime);
  w.u32(tx.expiry);
}

function writeWitness(w: Writer, tx: MsgTx): void {
  w.varInt(tx.txIn.length);
  for (const ti of tx.txIn) {
    w.i64(ti.valueIn);
    w.u32(ti.blockHeight);
    w.u32(ti.blockIndex);
    w.varBytes(ti.signatureScript);
  }
}

/** Serializes a transaction (default: full, the form dcrd's sendrawtransaction takes). */
export function serializeTx(tx: MsgTx, type: SerializeType = 'full'): Uint8Array {
  checkTx(tx);
  const w = new Writer();
  w.u32((tx.version | (SER_TYPE_CODE[type] << 16)) >>> 0);
  if (type !== 'onlyWitness') writePrefix(w, tx);
  if (type !== 'noWitness') writeWitness(w, tx);
  return w.result();
}

/** Transaction hash in INTERNAL byte order: BLAKE-256 of the no-witness serialization. */
export function txHash(tx: MsgTx): Uint8Array {
  return blake256(serializeTx(tx, 'noWitness'));
}

/** Transaction id as dcrd shows it (display order, 64 lowercase hex). */
export function txid(tx: MsgTx): string {
  return internalToDisplayHash(txHash(tx));
}

/** BLAKE-256 of the only-witness serialization, internal order. */
export function txHashWitness(tx: MsgTx): Uint8Array {
  return blake256(serializeTx(tx, 'onlyWitness'));
}

/** BLAKE-256(prefix hash || witness hash), internal order (wire.TxHashFull). */
export function txHashFull(tx: MsgTx): Uint8Array {
  const both = new Uint8Array(64);
  both.set(txHash(tx), 0);
  both.set(txHashWitness(tx), 32);
  return blake256(both);
}

// ---------------------------------------------------------------- reading

class ShortRead extends Error {}

class Reader {
  #pos = 0;
  readonly #view: DataView;
  readonly #buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #need(n: number, what: string): void {
    if (this.#pos + n > this.#buf.length) throw new ShortRead(`short read of ${what} at byte ${this.#pos}`);
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.#view.getUint8(this.#pos++);
  }

  u16(what: string): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }

  u32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  i64(what: string): bigint {
    this.#need(8, what);
    const v = this.#view.getBigInt64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  bytes(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const out = this.#buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  varInt(what: string): number {
    const d = this.u8(what);
    let v: bigint;
    let min: bigint;
    if (d < 0xfd) return d;
    if (d === 0xfd) {
      v = BigInt(this.u16(what));
      min = 0xfdn;
    } else if (d === 0xfe) {
      v = BigInt(this.u32(what));
      min = 0x10000n;
    } else {
      this.#need(8, what);
      v = this.#view.getBigUint64(this.#pos, true);
      this.#pos += 8;
      min = 0x100000000n;
    }
    if (v < min) throw new ShortRead(`non-canonical varint for ${what}: ${v} encoded with discriminant 0x${d.toString(16)}`);
    // Nothing countable in a transaction can exceed the bytes left.
    if (v > BigInt(this.remaining)) throw new ShortRead(`${what} ${v} exceeds the ${this.remaining} bytes left`);
    return Number(v);
  }

  varBytes(what: string): Uint8Array {
    const n = this.varInt(what);
    return this.bytes(n, what);
  }
}

export interface DecodedTx {
  tx: MsgTx;
  /** The serialization type found in the version word. */
  type: SerializeType;
}

function emptyIn(): TxIn {
  return {
    prevOut: { hash: new Uint8Array(32), index: 0, tree: 0 },
    sequence: 0,
    valueIn: 0n,
    blockHeight: 0,
    blockIndex: 0,
    signatureScript: new Uint8Array(0),
  };
}

/**
 * Decodes a serialized transaction of any serialization type. Never throws:
 * malformed input yields { ok: false, reason }. Trailing bytes are an error.
 * For "only witness" input the prefix fields are zero and there are no outputs.
 */
export function decodeTx(input: Uint8Array | string): Decoded<DecodedTx> {
  const bytes = typeof input === 'string' ? hexToBytes(input) : input;
  if (!bytes) return { ok: false, reason: 'transaction is not hex' };
  const r = new Reader(bytes);
  try {
    const word = r.u32('version');
    const version = word & 0xffff;
    const code = word >>> 16;
    const type = (Object.keys(SER_TYPE_CODE) as SerializeType[]).find((k) => SER_TYPE_CODE[k] === code);
    if (!type) return { ok: false, reason: `unsupported serialization type ${code}` };
    const tx: MsgTx = { version, txIn: [], txOut: [], lockTime: 0, expiry: 0 };
    if (type !== 'onlyWitness') {
      const nIn = r.varInt('input count');
      for (let i = 0; i < nIn; i++) {
        const ti = emptyIn();
        ti.prevOut.hash = r.bytes(32, `input ${i} previous hash`);
        ti.prevOut.index = r.u32(`input ${i} previous index`);
        const tree = r.u8(`input ${i} tree`);
        ti.prevOut.tree = tree > 127 ? tree - 256 : tree;
        ti.sequence = r.u32(`input ${i} sequence`);
        tx.txIn.push(ti);
      }
      const nOut = r.varInt('output count');
      for (let i = 0; i < nOut; i++) {
        const value = r.i64(`output ${i} value`);
        const scriptVersion = r.u16(`output ${i} script version`);
        const pkScript = r.varBytes(`output ${i} script`);
        tx.txOut.push({ value, version: scriptVersion, pkScript });
      }
      tx.lockTime = r.u32('lock time');
      tx.expiry = r.u32('expiry');
    }
    if (type !== 'noWitness') {
      const nWit = r.varInt('witness count');
      if (type === 'full' && nWit !== tx.txIn.length) {
        return { ok: false, reason: `witness count ${nWit} differs from input count ${tx.txIn.length}` };
      }
      for (let i = 0; i < nWit; i++) {
        const ti = type === 'full' ? (tx.txIn[i] as TxIn) : emptyIn();
        ti.valueIn = r.i64(`witness ${i} value in`);
        ti.blockHeight = r.u32(`witness ${i} block height`);
        ti.blockIndex = r.u32(`witness ${i} block index`);
        ti.signatureScript = r.varBytes(`witness ${i} signature script`);
        if (type === 'onlyWitness') tx.txIn.push(ti);
      }
    }
    if (r.remaining !== 0) return { ok: false, reason: `${r.remaining} trailing bytes after the transaction` };
    return { ok: true, value: { tx, type } };
  } catch (err) {
    if (err instanceof ShortRead) return { ok: false, reason: err.message };
    throw err;
  }
}

/** Deep copy (scripts and hashes are copied too). */
export function cloneTx(tx: MsgTx): MsgTx {
  return {
    version: tx.version,
    lockTime: tx.lockTime,
    expiry: tx.expiry,
    txIn: tx.txIn.map((ti) => ({
      prevOut: { hash: Uint8Array.from(ti.prevOut.hash), index: ti.prevOut.index, tree: ti.prevOut.tree },
      sequence: ti.sequence,
      valueIn: ti.valueIn,
      blockHeight: ti.blockHeight,
      blockIndex: ti.blockIndex,
      signatureScript: Uint8Array.from(ti.signatureScript),
    })),
    txOut: tx.txOut.map((to) => ({ value: to.value, version: to.version, pkScript: Uint8Array.from(to.pkScript) })),
  };
}

/** Hex of the full serialization. */
export function txToHex(tx: MsgTx, type: SerializeType = 'full'): string {
  return bytesToHex(serializeTx(tx, type));
}
