// Ticket purchases (SStx) whose voting key the test holds, so the fake
// wallet can sign their votes with it. Shape as dcrd
// blockchain/stake/staketx.go CheckSStx wants it: output 0 OP_SSTX + P2PKH to
// the voting key, then per commitment an OP_RETURN commitment and an
// OP_SSTXCHANGE output.

import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { blake256 } from '@noble/hashes/blake1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { internalToDisplayHash } from '../../src/dcrd/hex.js';
import { serializeTx, txHash, type MsgTx } from '../../src/vote/tx.js';

export interface VotingKey {
  privateKey: KeyObject;
  /** 33-byte compressed public key. */
  pubKey: Buffer;
}

export function newVotingKey(): VotingKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  return { privateKey, pubKey: Buffer.concat([Buffer.from([(y.at(-1) ?? 0) & 1 ? 0x03 : 0x02]), x]) };
}

export function hash160(b: Uint8Array): Uint8Array {
  return ripemd160(blake256(b));
}

/** `<DER signature || SigHashAll> <pubkey>`: the shape of a P2PKH spend (the signature is not over Decred's sighash). */
export function p2pkhSigScript(key: VotingKey, message: Uint8Array): Buffer {
  const der = sign('sha256', message, { key: key.privateKey, dsaEncoding: 'der' });
  const sig = Buffer.concat([der, Buffer.from([0x01])]);
  return Buffer.concat([Buffer.from([sig.length]), sig, Buffer.from([key.pubKey.length]), key.pubKey]);
}

let nonce = 0;

/** A one-commitment ticket paying its vote rights to `key`. */
export function makeTicket(key: VotingKey, price = 100_000_000n): { hash: string; hex: string } {
  const voting = hash160(key.pubKey);
  const commitment = new Uint8Array(32);
  commitment.set([0x6a, 0x1e]);
  commitment.set(hash160(Buffer.from(`reward ${nonce}`)), 2);
  new DataView(commitment.buffer).setBigUint64(22, price, true);
  new DataView(commitment.buffer).setUint16(30, 0x5800, true);
  const tx: MsgTx = {
    version: 1,
    txIn: [{ prevOut: { hash: new Uint8Array(32).fill(++nonce % 256), index: 0, tree: 0 }, sequence: 0xffffffff, valueIn: price + 10_000n, blockHeight: 0, blockIndex: 0, signatureScript: new Uint8Array(0) }],
    txOut: [
      { value: price, version: 0, pkScript: Uint8Array.from([0xba, 0x76, 0xa9, 0x14, ...voting, 0x88, 0xac]) },
      { value: 0n, version: 0, pkScript: commitment },
      { value: 0n, version: 0, pkScript: Uint8Array.from([0xbd, 0x76, 0xa9, 0x14, ...new Uint8Array(20), 0x88, 0xac]) },
    ],
    lockTime: 0,
    expiry: 0,
  };
  return { hash: internalToDisplayHash(txHash(tx)), hex: Buffer.from(serializeTx(tx)).toString('hex') };
}
