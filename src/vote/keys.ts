// Decred addresses and WIF private keys, as far as local signing needs them:
// the voting address of a ticket (to ask the wallet for its key) and the
// WIF the wallet answers with.
//
// Facts (dcrd chaincfg/v3 *params.go, dcrutil/v4 wif.go, decred/base58
// base58check.go, txscript/stdaddr):
// - base58 with the Bitcoin alphabet; a leading 0x00 byte is a leading '1'.
// - Address = base58(netID[2] || hash160 || checksum[4]), checksum = first 4
//   bytes of BLAKE-256(BLAKE-256(netID || hash160)).
// - hash160 = RIPEMD-160(BLAKE-256(33-byte compressed public key)).
// - WIF = base58(netID[2] || signature type[1] || key[32] || checksum[4]),
//   checksum = first 4 bytes of a SINGLE BLAKE-256 (chainhash.HashB), unlike
//   addresses. Signature type 0 is ECDSA secp256k1 (dcrec.STEcdsaSecp256k1).

import { blake256 } from '@noble/hashes/blake1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import type { NetworkName } from '../domain.js';
import { OP_CHECKSIG, OP_DATA_20, OP_DUP, OP_EQUALVERIFY, OP_HASH160, OP_SSTX } from '../dcrd/opcodes.js';

interface NetworkIds {
  /** PubKeyHashAddrID: ECDSA secp256k1 pay-to-pubkey-hash addresses. */
  pubKeyHash: readonly [number, number];
  /** PrivateKeyID: WIF private keys. */
  privateKey: readonly [number, number];
}

/** chaincfg/v3 mainnetparams.go, testnetparams.go, simnetparams.go. */
export const NETWORK_IDS: Readonly<Record<NetworkName, NetworkIds>> = {
  mainnet: { pubKeyHash: [0x07, 0x3f], privateKey: [0x22, 0xde] }, // Ds…, Pm…
  testnet: { pubKeyHash: [0x0f, 0x21], privateKey: [0x23, 0x0e] }, // Ts…, Pt…
  simnet: { pubKeyHash: [0x0e, 0x91], privateKey: [0x23, 0x07] }, // Ss…, Ps…
};

/** dcrec.STEcdsaSecp256k1. */
const SIGNATURE_TYPE_ECDSA_SECP256K1 = 0;

export class KeyFormatError extends Error {
  override readonly name = 'KeyFormatError';
}

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ALPHABET_INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

export function base58Encode(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/**
 * null when the text holds a character outside the alphabet. Text may come
 * as ASCII bytes, so that a secret read from the wallet never becomes a
 * JavaScript string (which cannot be wiped).
 */
export function base58Decode(text: string | Uint8Array): Uint8Array | null {
  const charAt = (i: number): string => (typeof text === 'string' ? (text[i] ?? '') : String.fromCharCode(text[i] ?? 0));
  let n = 0n;
  for (let i = 0; i < text.length; i++) {
    const v = ALPHABET_INDEX.get(charAt(i));
    if (v === undefined) return null;
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  let zeros = 0;
  while (zeros < text.length && charAt(zeros) === '1') zeros++;
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body]);
}

export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(blake256(data));
}

function addressChecksum(payload: Uint8Array): Uint8Array {
  return blake256(blake256(payload)).subarray(0, 4);
}

/** The P2PKH (ECDSA secp256k1) address of a 20-byte public key hash. */
export function pubKeyHashAddress(h160: Uint8Array, network: NetworkName): string {
  if (h160.length !== 20) throw new KeyFormatError('a public key hash is 20 bytes');
  const payload = Uint8Array.of(...NETWORK_IDS[network].pubKeyHash, ...h160);
  return base58Encode(Uint8Array.of(...payload, ...addressChecksum(payload)));
}

/**
 * The public key hash a ticket's output 0 pays to when it is an OP_SSTX-tagged
 * P2PKH (ba 76 a9 14 <h160> 88 ac); null for anything else (P2SH: a multisig
 * or VSP script the wallet signs itself).
 */
export function ticketVotingKeyHash(pkScript: Uint8Array): Uint8Array | null {
  if (pkScript.length !== 26) return null;
  const head = [OP_SSTX, OP_DUP, OP_HASH160, OP_DATA_20];
  if (head.some((op, i) => pkScript[i] !== op)) return null;
  if (pkScript[24] !== OP_EQUALVERIFY || pkScript[25] !== OP_CHECKSIG) return null;
  return pkScript.slice(4, 24);
}

/**
 * Decodes a WIF private key for this network (dcrutil DecodeWIF): length,
 * checksum, network and signature type are checked. The caller owns the
 * returned 32 bytes and zeroes them when done. Errors never carry the key.
 */
export function decodeWif(wif: string | Uint8Array, network: NetworkName): Uint8Array {
  // dcrutil: at most 54 characters; 39 bytes decoded.
  if (wif.length > 54) throw new KeyFormatError('the private key is not a WIF (too long)');
  const raw = base58Decode(wif);
  if (!raw || raw.length !== 39) throw new KeyFormatError('the private key is not a WIF (malformed)');
  try {
    const sum = blake256(raw.subarray(0, 35)).subarray(0, 4);
    if (!sum.every((b, i) => raw[35 + i] === b)) throw new KeyFormatError('the private key WIF has a bad checksum');
    const [a, b] = NETWORK_IDS[network].privateKey;
    if (raw[0] !== a || raw[1] !== b) throw new KeyFormatError(`the private key WIF is not for ${network}`);
    if (raw[2] !== SIGNATURE_TYPE_ECDSA_SECP256K1) {
      throw new KeyFormatError(`the private key WIF has signature type ${raw[2]}, not ECDSA secp256k1 (0)`);
    }
    return raw.slice(3, 35);
  } finally {
    raw.fill(0);
  }
}

/** Encodes a 32-byte secp256k1 key as WIF (tests and fixtures only). */
export function encodeWif(key: Uint8Array, network: NetworkName): string {
  if (key.length !== 32) throw new KeyFormatError('a private key is 32 bytes');
  const body = Uint8Array.of(...NETWORK_IDS[network].privateKey, SIGNATURE_TYPE_ECDSA_SECP256K1, ...key);
  return base58Encode(Uint8Array.of(...body, ...blake256(body).subarray(0, 4)));
}
