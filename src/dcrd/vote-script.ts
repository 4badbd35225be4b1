// Byte-level decoding of the two OP_RETURN outputs every vote (SSGen) carries.
//
// Source: dcrd blockchain/stake/staketx.go (validSSGenReferenceOutPrefix,
// validSSGenVoteOutMinPrefix, SSGenBlockVotedOn, SSGenVoteBits, SSGenVersion,
// SSGenBlockReferenceOutSize = 38, SSGenVoteBitsOutputMinSize = 4,
// SSGenVoteBitsOutputMaxSize = 77, MaxSingleBytePushLength = 75).
//
// vout[0], block reference, exactly 38 bytes:
//   0x6a OP_RETURN | 0x24 OP_DATA_36 | 32-byte hash of the voted block in
//   INTERNAL byte order (not display order) | uint32 LE height of that block
// vout[1], vote bits, 4..77 bytes:
//   0x6a OP_RETURN | OP_DATA_n (n = 2..75, equal to the remaining length) |
//   uint16 LE vote bits | [uint32 LE vote version when n >= 6] | [rest: extended bits]

import type { BlockRef } from '../domain.js';
import { displayHashToInternal, internalToDisplayHash, type Decoded } from './hex.js';
import { OP_DATA_36, OP_RETURN } from './opcodes.js';

export const VOTE_REFERENCE_SCRIPT_SIZE = 38;
export const VOTE_BITS_SCRIPT_MIN_SIZE = 4;
export const VOTE_BITS_SCRIPT_MAX_SIZE = 77;

export interface VoteBits {
  voteBits: number;
  /** Stake/vote version; null when the push is too short to carry one (dcrd treats it as 0). */
  voteVersion: number | null;
}

export function decodeVoteReferenceScript(script: Uint8Array): Decoded<BlockRef> {
  if (script.length !== VOTE_REFERENCE_SCRIPT_SIZE) {
    return { ok: false, reason: `vote reference script must be ${VOTE_REFERENCE_SCRIPT_SIZE} bytes, got ${script.length}` };
  }
  if (script[0] !== OP_RETURN || script[1] !== OP_DATA_36) {
    return { ok: false, reason: 'vote reference script must start with OP_RETURN OP_DATA_36 (6a24)' };
  }
  const view = new DataView(script.buffer, script.byteOffset, script.byteLength);
  return {
    ok: true,
    value: { hash: internalToDisplayHash(script.subarray(2, 34)), height: view.getUint32(34, true) },
  };
}

export function encodeVoteReferenceScript(ref: BlockRef): Uint8Array {
  const out = new Uint8Array(VOTE_REFERENCE_SCRIPT_SIZE);
  out[0] = OP_RETURN;
  out[1] = OP_DATA_36;
  out.set(displayHashToInternal(ref.hash), 2);
  new DataView(out.buffer).setUint32(34, ref.height, true);
  return out;
}

export function decodeVoteBitsScript(script: Uint8Array): Decoded<VoteBits> {
  if (script.length < VOTE_BITS_SCRIPT_MIN_SIZE || script.length > VOTE_BITS_SCRIPT_MAX_SIZE) {
    return {
      ok: false,
      reason: `vote bits script must be ${VOTE_BITS_SCRIPT_MIN_SIZE}..${VOTE_BITS_SCRIPT_MAX_SIZE} bytes, got ${script.length}`,
    };
  }
  if (script[0] !== OP_RETURN) return { ok: false, reason: 'vote bits script must start with OP_RETURN (6a)' };
  // A single-byte push opcode OP_DATA_n is the byte value n itself; it must
  // cover exactly the rest of the script.
  if (script[1] !== script.length - 2) {
    return { ok: false, reason: `vote bits push length ${script[1]} does not match script length ${script.length}` };
  }
  const view = new DataView(script.buffer, script.byteOffset, script.byteLength);
  return {
    ok: true,
    value: {
      voteBits: view.getUint16(2, true),
      voteVersion: script.length >= 8 ? view.getUint32(4, true) : null,
    },
  };
}

export function encodeVoteBitsScript(voteBits: number, voteVersion?: number): Uint8Array {
  const withVersion = voteVersion !== undefined;
  const out = new Uint8Array(withVersion ? 8 : 4);
  out[0] = OP_RETURN;
  out[1] = out.length - 2;
  const view = new DataView(out.buffer);
  view.setUint16(2, voteBits, true);
  if (withVersion) view.setUint32(4, voteVersion, true);
  return out;
}

/** True when the script is tagged with the given stake opcode (first byte). */
export function hasStakeTag(script: Uint8Array, opcode: number): boolean {
  return script.length > 1 && script[0] === opcode;
}
