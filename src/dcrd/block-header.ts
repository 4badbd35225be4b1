// Decred block header codec and block hash.
//
// Layout (dcrd wire/blockheader.go, readBlockHeader/writeBlockHeader; all
// integers little-endian, total 180 bytes = MaxBlockHeaderPayload):
//   off len field
//     0   4 version       int32
//     4  32 prevBlock     hash, internal order
//    36  32 merkleRoot    hash, internal order
//    68  32 stakeRoot     hash, internal order
//   100   2 voteBits      uint16
//   102   6 finalState    [6]byte
//   108   2 voters        uint16
//   110   1 freshStake    uint8
//   111   1 revocations   uint8
//   112   4 poolSize      uint32
//   116   4 bits          uint32
//   120   8 sbits         int64 (atoms)
//   128   4 height        uint32
//   132   4 size          uint32
//   136   4 timestamp     uint32 (unix seconds)
//   140   4 nonce         uint32
//   144  32 extraData     [32]byte
//   176   4 stakeVersion  uint32
// BlockHash() = BLAKE-256 (chainhash.HashH) over exactly these 180 bytes;
// shown reversed (display order) like every other hash.

import { blake256 } from '@noble/hashes/blake1.js';
import { bytesToHex, displayHashToInternal, hexToBytes, internalToDisplayHash, type Decoded } from './hex.js';

export const BLOCK_HEADER_SIZE = 180;

export interface BlockHeader {
  version: number;
  /** Display order. */
  prevBlock: string;
  merkleRoot: string;
  stakeRoot: string;
  voteBits: number;
  /** 6 bytes as 12 hex chars. */
  finalState: string;
  voters: number;
  freshStake: number;
  revocations: number;
  poolSize: number;
  bits: number;
  /** Ticket price in atoms. Always < 2^53 on any real network. */
  sbits: number;
  height: number;
  size: number;
  /** Unix seconds. */
  timestamp: number;
  nonce: number;
  /** 32 bytes as 64 hex chars. */
  extraData: string;
  stakeVersion: number;
}

/** Display-order block hash of a serialized header. */
export function blockHashOfBytes(serialized: Uint8Array): string {
  return internalToDisplayHash(blake256(serialized));
}

export function decodeBlockHeader(bytes: Uint8Array): Decoded<BlockHeader> {
  if (bytes.length !== BLOCK_HEADER_SIZE) {
    return { ok: false, reason: `block header must be ${BLOCK_HEADER_SIZE} bytes, got ${bytes.length}` };
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sbits = v.getBigInt64(120, true);
  if (sbits < 0n || sbits > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, reason: `block header sbits out of range: ${sbits}` };
  }
  return {
    ok: true,
    value: {
      version: v.getInt32(0, true),
      prevBlock: internalToDisplayHash(bytes.subarray(4, 36)),
      merkleRoot: internalToDisplayHash(bytes.subarray(36, 68)),
      stakeRoot: internalToDisplayHash(bytes.subarray(68, 100)),
      voteBits: v.getUint16(100, true),
      finalState: bytesToHex(bytes.subarray(102, 108)),
      voters: v.getUint16(108, true),
      freshStake: v.getUint8(110),
      revocations: v.getUint8(111),
      poolSize: v.getUint32(112, true),
      bits: v.getUint32(116, true),
      sbits: Number(sbits),
      height: v.getUint32(128, true),
      size: v.getUint32(132, true),
      timestamp: v.getUint32(136, true),
      nonce: v.getUint32(140, true),
      extraData: bytesToHex(bytes.subarray(144, 176)),
      stakeVersion: v.getUint32(176, true),
    },
  };
}

/** Decode header hex as sent by dcrd (hex.EncodeToString of Header.Bytes()). */
export function decodeBlockHeaderHex(hex: string): Decoded<{ header: BlockHeader; hash: string }> {
  if (hex.length !== BLOCK_HEADER_SIZE * 2) {
    return { ok: false, reason: `block header hex must be ${BLOCK_HEADER_SIZE * 2} chars, got ${hex.length}` };
  }
  const bytes = hexToBytes(hex);
  if (!bytes) return { ok: false, reason: 'block header is not valid hex' };
  const decoded = decodeBlockHeader(bytes);
  if (!decoded.ok) return decoded;
  return { ok: true, value: { header: decoded.value, hash: blockHashOfBytes(bytes) } };
}

/** Serialize a header (used by the test fake and round-trip tests). */
export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  const out = new Uint8Array(BLOCK_HEADER_SIZE);
  const v = new DataView(out.buffer);
  const fixedHex = (hex: string, len: number, name: string): Uint8Array => {
    const b = hexToBytes(hex);
    if (!b || b.length !== len) throw new TypeError(`${name} must be ${len} bytes of hex`);
    return b;
  };
  v.setInt32(0, h.version, true);
  out.set(displayHashToInternal(h.prevBlock), 4);
  out.set(displayHashToInternal(h.merkleRoot), 36);
  out.set(displayHashToInternal(h.stakeRoot), 68);
  v.setUint16(100, h.voteBits, true);
  out.set(fixedHex(h.finalState, 6, 'finalState'), 102);
  v.setUint16(108, h.voters, true);
  v.setUint8(110, h.freshStake);
  v.setUint8(111, h.revocations);
  v.setUint32(112, h.poolSize, true);
  v.setUint32(116, h.bits, true);
  v.setBigInt64(120, BigInt(h.sbits), true);
  v.setUint32(128, h.height, true);
  v.setUint32(132, h.size, true);
  v.setUint32(136, h.timestamp, true);
  v.setUint32(140, h.nonce, true);
  out.set(fixedHex(h.extraData, 32, 'extraData'), 144);
  v.setUint32(176, h.stakeVersion, true);
  return out;
}
