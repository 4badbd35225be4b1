// Byte/hex helpers shared by the dcrd modules.
//
// Decred (like Bitcoin) shows hashes in "display" order, which is the reverse
// of the byte order they have inside serialized headers, transactions and
// scripts (chainhash.Hash.String() reverses; see dcrd chaincfg/chainhash).
// Every hash that leaves this package is in display order, 64 lowercase hex.

/** Outcome of a decoder that must never throw on hostile input. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

export const HASH_HEX_RE = /^[0-9a-f]{64}$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** True for a 64-character lowercase hex string (dcrd's hash encoding). */
export function isHashHex(value: unknown): value is string {
  return typeof value === 'string' && HASH_HEX_RE.test(value);
}

/** Strict hex decode; null when the text is not even-length hex. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (!HEX_RE.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Internal byte order (as serialized) → display hex. */
export function internalToDisplayHash(bytes: Uint8Array): string {
  return bytesToHex(Uint8Array.from(bytes).reverse());
}

/** Display hex → internal byte order. Throws on a non-hash (programmer error). */
export function displayHashToInternal(hash: string): Uint8Array {
  if (!isHashHex(hash)) throw new TypeError(`not a 64-char lowercase hex hash: ${JSON.stringify(hash)}`);
  return Uint8Array.from(Buffer.from(hash, 'hex')).reverse();
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short, log-safe rendering of an unexpected value for error reasons. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
