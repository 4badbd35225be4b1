// Is the ticket input of a signed vote signed the way a vote must be, by the
// key the ticket names? Checked on the signature script's shape, not by
// verifying the ECDSA signature: the canary asks "did the wallet produce a
// signature with the ticket's voting key", and a wallet that signs at all
// signs correctly (dcrwallet checks its own signatures by executing the
// script, wallet/wallet.go SignTransaction).
//
// Facts (dcrd txscript): a P2PKH spend is `<sig> <pubkey>`, two data pushes;
// a signature is strict DER (engine.go checkSignatureEncoding: 0x30 len 0x02
// rlen r 0x02 slen s, minimal, non-negative) followed by one hash type byte,
// SigHashAll = 0x01; the public key is 33 bytes compressed (0x02 / 0x03).
// A ticket's output 0 is OP_SSTX + P2PKH (ba 76 a9 14 <hash160> 88 ac) or
// OP_SSTX + P2SH (ba a9 14 <hash160> 87); Hash160 is RIPEMD-160 of BLAKE-256
// (dcrutil Hash160).

import { blake256 } from '@noble/hashes/blake1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { decodeTx } from './tx.js';

export type VoteSignatureCheck =
  | { ok: true; pubKey: string }
  /** A P2SH voting script: signed by the wallet, but not a single key this check can match. */
  | { ok: true; pubKey: null }
  | { ok: false; why: string };

const SIGHASH_ALL = 0x01;

export function checkVoteSignature(signedVote: Uint8Array, ticketTx: Uint8Array): VoteSignatureCheck {
  const vote = decodeTx(signedVote);
  if (!vote.ok) return { ok: false, why: `the signed vote does not decode: ${vote.reason}` };
  const ticket = decodeTx(ticketTx);
  if (!ticket.ok) return { ok: false, why: `the ticket does not decode: ${ticket.reason}` };
  const input = vote.value.tx.txIn[1];
  if (!input) return { ok: false, why: 'the vote has no ticket input' };
  const out0 = ticket.value.tx.txOut[0];
  if (!out0) return { ok: false, why: 'the ticket has no output 0' };
  const voting = votingHash(out0.pkScript);
  if (voting === null) return { ok: false, why: 'ticket output 0 is not a stake submission script' };
  const pushes = dataPushes(input.signatureScript);
  if (pushes === null || pushes.length === 0) return { ok: false, why: 'the ticket input has no signature script' };
  if (voting.p2sh) return { ok: true, pubKey: null };
  if (pushes.length !== 2) return { ok: false, why: `the ticket input's signature script has ${pushes.length} pushes, not <signature> <public key>` };
  const [sig, pubKey] = pushes as [Uint8Array, Uint8Array];
  const der = derProblem(sig.subarray(0, -1));
  if (der) return { ok: false, why: `the signature is not strict DER: ${der}` };
  if (sig.at(-1) !== SIGHASH_ALL) return { ok: false, why: `the signature's hash type is 0x${(sig.at(-1) ?? 0).toString(16)}, not SigHashAll` };
  if (pubKey.length !== 33 || (pubKey[0] !== 0x02 && pubKey[0] !== 0x03)) return { ok: false, why: 'the public key is not a 33-byte compressed key' };
  if (!equal(ripemd160(blake256(pubKey)), voting.hash)) return { ok: false, why: "the public key is not the ticket's voting key (hash160 differs from output 0)" };
  return { ok: true, pubKey: Buffer.from(pubKey).toString('hex') };
}

function votingHash(script: Uint8Array): { hash: Uint8Array; p2sh: boolean } | null {
  if (script.length === 26 && script[0] === 0xba && script[1] === 0x76 && script[2] === 0xa9 && script[3] === 0x14 && script[24] === 0x88 && script[25] === 0xac) {
    return { hash: script.subarray(4, 24), p2sh: false };
  }
  if (script.length === 24 && script[0] === 0xba && script[1] === 0xa9 && script[2] === 0x14 && script[23] === 0x87) {
    return { hash: script.subarray(3, 23), p2sh: true };
  }
  return null;
}

/** The data of a script made only of small data pushes (OP_DATA_1 … OP_DATA_75); null otherwise. */
function dataPushes(script: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < script.length) {
    const op = script[i] ?? 0;
    if (op < 0x01 || op > 0x4b || i + 1 + op > script.length) return null;
    out.push(script.subarray(i + 1, i + 1 + op));
    i += 1 + op;
  }
  return out;
}

/** What breaks strict DER in a signature without its hash type byte; null when none. */
function derProblem(sig: Uint8Array): string | null {
  if (sig.length < 8 || sig.length > 72) return `length ${sig.length}`;
  if (sig[0] !== 0x30) return 'no sequence tag';
  if (sig[1] !== sig.length - 2) return 'wrong sequence length';
  const rLen = sig[3] ?? 0;
  const sAt = 4 + rLen;
  if (sig[2] !== 0x02) return 'no integer tag for R';
  if (rLen === 0 || sAt + 2 > sig.length) return 'bad R length';
  const sLen = sig[sAt + 1] ?? 0;
  if (sig[sAt] !== 0x02) return 'no integer tag for S';
  if (sLen === 0 || sAt + 2 + sLen !== sig.length) return 'bad S length';
  for (const [at, len, name] of [[4, rLen, 'R'], [sAt + 2, sLen, 'S']] as const) {
    const first = sig[at] ?? 0;
    if (first & 0x80) return `${name} is negative`;
    if (len > 1 && first === 0 && !((sig[at + 1] ?? 0) & 0x80)) return `${name} has excess padding`;
  }
  return null;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
