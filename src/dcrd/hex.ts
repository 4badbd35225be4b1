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

/**
 * Short, log-safe rendering of an unexpected value for error reasons.
 *
 * The value may be anything a peer sent: a 10,000-deep `[[[…]]]` or a
 * megabyte string. JSON.stringify and String() both recurse through nested
 * arrays and overflow the stack on such input (String() of a deep array
 * threw outside any try and killed the daemon), so this renders only the
 * first few items of the first few levels and never walks further.
 */
export function describe(value: unknown, max = 80): string {
  const text = render(value, DESCRIBE_DEPTH, max);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

const DESCRIBE_DEPTH = 3;
const DESCRIBE_ITEMS = 4;

function render(value: unknown, depth: number, max: number): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      // Cut before quoting: quoting a huge string would copy all of it.
      return JSON.stringify(value.length > max ? value.slice(0, max) : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      break;
    default:
      return typeof value;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (depth === 0) return '[…]';
    const items: string[] = [];
    for (let i = 0; i < value.length && i < DESCRIBE_ITEMS; i++) items.push(render(value[i], depth - 1, max));
    return `[${items.join(',')}${value.length > DESCRIBE_ITEMS ? ',…' : ''}]`;
  }
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  const items: string[] = [];
  let more = false;
  // for…in stops early; Object.keys would list a million keys first.
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (items.length === DESCRIBE_ITEMS || depth === 0) {
      more = true;
      break;
    }
    items.push(`${render(key, 0, max)}:${render((value as Record<string, unknown>)[key], depth - 1, max)}`);
  }
  if (items.length === 0) return more ? '{…}' : '{}';
  return `{${items.join(',')}${more ? ',…' : ''}}`;
}
