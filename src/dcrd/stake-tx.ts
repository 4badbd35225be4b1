// Classify a verbose transaction (TxRawResult JSON from getrawtransaction or
// getblock's "rawstx") as a vote, a revocation or something else.
//
// JSON names come from dcrd rpc/jsonrpc/types/chainsvrresults.go (TxRawResult:
// txid, vin, vout; Vin: stakebase, txid, vout, tree; Vout: n, scriptPubKey;
// ScriptPubKeyResult: hex, type). dcrd's createVinList
// (internal/rpcserver/rpcserver.go) fills "stakebase" on vin[0] only when
// stake.IsSSGen(tx) holds, so a non-empty vin[0].stakebase is dcrd's own
// verdict that the tx is a vote; everything else is decoded from the script
// hex, never from the human "type" strings.
//
// Structure (dcrd blockchain/stake/staketx.go):
//   vote (SSGen): vin[0] stakebase, vin[1] spends ticket output 0 in the stake
//     tree (tree 1); vout[0] block reference, vout[1] vote bits, vout[2..]
//     OP_SSGEN-tagged payouts (an optional trailing OP_RETURN treasury vote).
//   revocation (SSRtx): exactly one input spending ticket output 0 (tree 1);
//     every output OP_SSRTX-tagged.

import type { BlockRef } from '../domain.js';
import { describe, hexToBytes, isHashHex, isPlainObject, type Decoded } from './hex.js';
import { OP_SSGEN, OP_SSRTX } from './opcodes.js';
import { decodeVoteBitsScript, decodeVoteReferenceScript, hasStakeTag } from './vote-script.js';

/** dcrd wire.TxTreeStake. */
export const TX_TREE_STAKE = 1;

export interface DecodedVote {
  txid: string;
  ticketHash: string;
  votedBlock: BlockRef;
  voteBits: number;
  voteVersion: number | null;
}

export interface DecodedRevocation {
  txid: string;
  ticketHash: string;
}

export type StakeTxClass =
  | { kind: 'vote'; vote: DecodedVote }
  | { kind: 'revocation'; revocation: DecodedRevocation }
  | { kind: 'other'; txid: string }
  | { kind: 'malformed'; reason: string };

function outputScript(vout: unknown, index: number): Decoded<Uint8Array> {
  if (!isPlainObject(vout)) return { ok: false, reason: `vout[${index}] is not an object` };
  const spk = vout['scriptPubKey'];
  if (!isPlainObject(spk)) return { ok: false, reason: `vout[${index}].scriptPubKey is not an object` };
  const hex = spk['hex'];
  // "hex" is omitempty in ScriptPubKeyResult: an empty script has no field.
  if (hex === undefined) return { ok: true, value: new Uint8Array(0) };
  if (typeof hex !== 'string') return { ok: false, reason: `vout[${index}].scriptPubKey.hex is ${describe(hex)}` };
  const bytes = hexToBytes(hex);
  if (!bytes) return { ok: false, reason: `vout[${index}].scriptPubKey.hex is not hex` };
  return { ok: true, value: bytes };
}

/** The ticket an input spends: must be output 0 of a tx in the stake tree. */
function ticketInput(vin: unknown, index: number): Decoded<string> {
  if (!isPlainObject(vin)) return { ok: false, reason: `vin[${index}] is not an object` };
  const txid = vin['txid'];
  if (!isHashHex(txid)) return { ok: false, reason: `vin[${index}].txid is ${describe(txid)}` };
  if (vin['vout'] !== 0) return { ok: false, reason: `vin[${index}].vout is ${describe(vin['vout'])}, want 0 (ticket submission)` };
  if (vin['tree'] !== TX_TREE_STAKE) return { ok: false, reason: `vin[${index}].tree is ${describe(vin['tree'])}, want 1 (stake)` };
  return { ok: true, value: txid };
}

export function classifyVerboseTx(tx: unknown): StakeTxClass {
  if (!isPlainObject(tx)) return { kind: 'malformed', reason: `transaction is ${describe(tx)}` };
  const txid = tx['txid'];
  if (!isHashHex(txid)) return { kind: 'malformed', reason: `txid is ${describe(txid)}` };
  const vin = tx['vin'];
  const vout = tx['vout'];
  if (!Array.isArray(vin)) return { kind: 'malformed', reason: `tx ${txid}: vin is not an array` };
  if (!Array.isArray(vout)) return { kind: 'malformed', reason: `tx ${txid}: vout is not an array` };

  const first: unknown = vin[0];
  const stakebase = isPlainObject(first) ? first['stakebase'] : undefined;
  if (typeof stakebase === 'string' && stakebase.length > 0) {
    const vote = decodeVote(txid, vin, vout);
    return vote.ok ? { kind: 'vote', vote: vote.value } : { kind: 'malformed', reason: `vote ${txid}: ${vote.reason}` };
  }

  if (vin.length === 1 && vout.length > 0) {
    const scripts = vout.map((o, i) => outputScript(o, i));
    if (scripts.every((s) => s.ok && hasStakeTag(s.value, OP_SSRTX))) {
      const ticket = ticketInput(vin[0], 0);
      if (!ticket.ok) return { kind: 'malformed', reason: `revocation ${txid}: ${ticket.reason}` };
      return { kind: 'revocation', revocation: { txid, ticketHash: ticket.value } };
    }
  }
  return { kind: 'other', txid };
}

function decodeVote(txid: string, vin: unknown[], vout: unknown[]): Decoded<DecodedVote> {
  if (vin.length !== 2) return { ok: false, reason: `has ${vin.length} inputs, want 2` };
  if (vout.length < 3) return { ok: false, reason: `has ${vout.length} outputs, want at least 3` };
  const ticket = ticketInput(vin[1], 1);
  if (!ticket.ok) return ticket;

  const refScript = outputScript(vout[0], 0);
  if (!refScript.ok) return refScript;
  const ref = decodeVoteReferenceScript(refScript.value);
  if (!ref.ok) return { ok: false, reason: `vout[0]: ${ref.reason}` };

  const bitsScript = outputScript(vout[1], 1);
  if (!bitsScript.ok) return bitsScript;
  const bits = decodeVoteBitsScript(bitsScript.value);
  if (!bits.ok) return { ok: false, reason: `vout[1]: ${bits.reason}` };

  const payout = outputScript(vout[2], 2);
  if (!payout.ok) return payout;
  if (!hasStakeTag(payout.value, OP_SSGEN)) return { ok: false, reason: 'vout[2] is not an OP_SSGEN payout' };

  return {
    ok: true,
    value: {
      txid,
      ticketHash: ticket.value,
      votedBlock: ref.value,
      voteBits: bits.value.voteBits,
      voteVersion: bits.value.voteVersion,
    },
  };
}
