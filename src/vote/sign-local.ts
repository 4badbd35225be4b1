// Signs a vote's ticket input ourselves, byte for byte as dcrwallet does, so
// that `signing: local` casts the very transaction the wallet would.
//
// Signature hash (dcrd txscript/sighash.go calcSignatureHash, SigHashAll
// without AnyOneCanPay, script version 0):
//   prefix hash  = BLAKE-256(u32 version | 1<<16, then the prefix): exactly
//                  the no-witness serialization, so it is the tx hash.
//   witness hash = BLAKE-256(u32 version | 3<<16, varint input count, per
//                  input varint + script: the signed input commits to the
//                  script it spends (the ticket's whole output 0 script, the
//                  OP_SSTX tag included), every other input to an empty one).
//   sighash      = BLAKE-256(u32 LE hash type || prefix hash || witness hash).
//
// Signature (dcrd dcrec/secp256k1/v4 ecdsa.Sign, nonce.go NonceRFC6979):
//   nonce k from RFC 6979 with HMAC-SHA256 (not BLAKE-256) over the 32-byte
//   key and the 32-byte sighash as they are (dcrd feeds the hash bytes
//   unreduced, where RFC 6979 would reduce them mod N first: we follow dcrd),
//   no extra data; r = (kG).x mod N, s = k⁻¹(e + d·r) mod N with e = sighash
//   mod N, retried with the next nonce if r or s is zero; s > N/2 is negated
//   (low S). DER as ecdsa.Signature.Serialize: minimal big-endian integers.
//
// Signature script (txscript sign.go for P2PKH): <DER || hash type>
// <33-byte compressed public key>, each a plain data push.
//
// The curve arithmetic is @noble/curves'. JavaScript cannot wipe a bigint:
// the key bytes are zeroed by their owner (voting-keys.ts), the bigint copy
// made here for one signature is left to the garbage collector.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { blake256 } from '@noble/hashes/blake1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { NetworkName } from '../domain.js';
import { decodeWif, hash160, KeyFormatError, ticketVotingKeyHash } from './keys.js';
import { cloneTx, txHash, type MsgTx } from './tx.js';

/** txscript.SigHashAll. */
export const SIGHASH_ALL = 0x01;
/** txscript SigHashSerializeWitness. */
const SIGHASH_SERIALIZE_WITNESS = 3;
/** The vote's ticket input (input 0 is the stakebase). */
export const VOTE_TICKET_INPUT = 1;

const Point = secp256k1.Point;
const N = Point.Fn.ORDER;
const HALF_N = N >> 1n;

export class LocalSignError extends Error {
  override readonly name = 'LocalSignError';
}

/** A voting key and its compressed public key. The owner zeroes privateKey when it drops the key. */
export interface VotingKey {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Decodes the wallet's WIF for this network into a key pair. */
export function votingKeyFromWif(wif: string | Uint8Array, network: NetworkName): VotingKey {
  const privateKey = decodeWif(wif, network);
  const d = bytesToBigInt(privateKey);
  if (d === 0n || d >= N) {
    privateKey.fill(0);
    throw new KeyFormatError('the private key is out of range for secp256k1');
  }
  return { privateKey, publicKey: secp256k1.getPublicKey(privateKey, true) };
}

function varIntBytes(n: number): number[] {
  if (n < 0xfd) return [n];
  if (n <= 0xffff) return [0xfd, n & 0xff, n >>> 8];
  return [0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** txscript.CalcSignatureHash for SigHashAll (the only type votes use). */
export function signatureHash(tx: MsgTx, inputIndex: number, script: Uint8Array): Uint8Array {
  if (!Number.isInteger(inputIndex) || inputIndex < 0 || inputIndex >= tx.txIn.length) {
    throw new LocalSignError(`input ${inputIndex} does not exist (the transaction has ${tx.txIn.length})`);
  }
  const prefixHash = txHash(tx);
  const witness: number[] = [...u32le((tx.version | (SIGHASH_SERIALIZE_WITNESS << 16)) >>> 0), ...varIntBytes(tx.txIn.length)];
  for (let i = 0; i < tx.txIn.length; i++) {
    if (i === inputIndex) witness.push(...varIntBytes(script.length), ...script);
    else witness.push(0);
  }
  const witnessHash = blake256(Uint8Array.from(witness));
  const msg = new Uint8Array(4 + 64);
  msg.set(u32le(SIGHASH_ALL), 0);
  msg.set(prefixHash, 4);
  msg.set(witnessHash, 36);
  return blake256(msg);
}

/** dcrd secp256k1.NonceRFC6979(key, hash, nil, nil, iteration). */
export function nonceRfc6979(privateKey: Uint8Array, hash: Uint8Array, iteration: number): bigint {
  if (privateKey.length !== 32 || hash.length !== 32) throw new LocalSignError('nonce input must be a 32-byte key and a 32-byte hash');
  const keyAndHash = new Uint8Array(64);
  keyAndHash.set(privateKey, 0);
  keyAndHash.set(hash, 32);
  let v: Uint8Array = new Uint8Array(32).fill(1);
  let k: Uint8Array = new Uint8Array(32);
  const mac = (key: Uint8Array, ...parts: Uint8Array[]): Uint8Array => {
    const h = hmac.create(sha256, key);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  try {
    k = mac(k, v, Uint8Array.of(0), keyAndHash);
    v = mac(k, v);
    k = mac(k, v, Uint8Array.of(1), keyAndHash);
    v = mac(k, v);
    let generated = 0;
    for (;;) {
      v = mac(k, v);
      const candidate = bytesToBigInt(v);
      if (candidate !== 0n && candidate < N) {
        generated++;
        if (generated > iteration) return candidate;
      }
      k = mac(k, v, Uint8Array.of(0));
      v = mac(k, v);
    }
  } finally {
    keyAndHash.fill(0);
    k.fill(0);
    v.fill(0);
  }
}

/** ecdsa.Sign: the deterministic, low-S signature dcrwallet makes, DER-encoded (no hash type). */
export function signDer(privateKey: Uint8Array, hash: Uint8Array): Uint8Array {
  const d = bytesToBigInt(privateKey);
  if (d === 0n || d >= N) throw new LocalSignError('the private key is out of range for secp256k1');
  const e = bytesToBigInt(hash) % N;
  for (let iteration = 0; ; iteration++) {
    const k = nonceRfc6979(privateKey, hash, iteration);
    const r = Point.BASE.multiply(k).toAffine().x % N;
    if (r === 0n) continue;
    let s = (Point.Fn.inv(k) * ((e + d * r) % N)) % N;
    if (s === 0n) continue;
    if (s > HALF_N) s = N - s;
    return derEncode(r, s);
  }
}

function derInteger(v: bigint): number[] {
  const bytes = [0, ...bigIntTo32(v)];
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && ((bytes[start + 1] as number) & 0x80) === 0) start++;
  return bytes.slice(start);
}

function derEncode(r: bigint, s: bigint): Uint8Array {
  const rb = derInteger(r);
  const sb = derInteger(s);
  return Uint8Array.from([0x30, 4 + rb.length + sb.length, 0x02, rb.length, ...rb, 0x02, sb.length, ...sb]);
}

/**
 * The vote with its ticket input signed: a copy of `vote` whose input 1
 * carries <DER sig || SIGHASH_ALL> <compressed pubkey>. `ticketScript` is the
 * ticket's output 0 script; only an OP_SSTX-tagged P2PKH paying to this key's
 * hash is signed (anything else is the wallet's job).
 */
export function signVoteTicketInput(vote: MsgTx, ticketScript: Uint8Array, key: VotingKey): MsgTx {
  const want = ticketVotingKeyHash(ticketScript);
  if (!want) throw new LocalSignError('the ticket output 0 is not an OP_SSTX-tagged pay-to-pubkey-hash script');
  const have = hash160(key.publicKey);
  if (!have.every((b, i) => b === want[i])) throw new LocalSignError("the key does not match the ticket's voting address");
  const signed = cloneTx(vote);
  const input = signed.txIn[VOTE_TICKET_INPUT];
  if (!input) throw new LocalSignError('the vote has no ticket input');
  const der = signDer(key.privateKey, signatureHash(vote, VOTE_TICKET_INPUT, ticketScript));
  input.signatureScript = Uint8Array.from([der.length + 1, ...der, SIGHASH_ALL, key.publicKey.length, ...key.publicKey]);
  return signed;
}

function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigIntTo32(v: bigint): number[] {
  const out = new Array<number>(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
