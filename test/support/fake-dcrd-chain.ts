// In-memory chain model for the fake dcrd: real serialized headers (so block
// hashes are true BLAKE-256 hashes) and real serialized stake transactions (so
// txids are true prefix hashes), exposed in dcrd's verbose JSON shapes.
//
// Where each fact comes from in dcrd:
// - header layout and hash: wire/blockheader.go (see src/dcrd/block-header.ts)
// - tx serialization: wire/msgtx.go — uint32 LE (version | serType<<16),
//   varint #in, per input outpoint(hash 32, index u32, tree u8) + sequence
//   u32, varint #out, per output value i64 + script version u16 + varbytes
//   script, locktime u32, expiry u32; the full form then repeats varint #in
//   and per input valueIn i64, blockHeight u32, blockIndex u32, varbytes
//   sigScript. TxHash = BLAKE-256 of the prefix-only form (serType 1).
// - vote/revocation layout: blockchain/stake/staketx.go (IsSSGen, IsSSRtx)
// - verbose JSON: rpc/jsonrpc/types/chainsvrresults.go (TxRawResult, Vin,
//   Vout, ScriptPubKeyResult, GetBlockVerboseResult,
//   GetBlockHeaderVerboseResult), filled like internal/rpcserver/rpcserver.go
//   createVinList/createVoutList/createTxRawResult/handleGetBlock.
// - script type names: txscript/stdscript ("nulldata", "stakegen",
//   "stakerevoke").

import { blake256 } from '@noble/hashes/blake1.js';
import { randomBytes } from 'node:crypto';
import type { BlockRef } from '../../src/domain.js';
import { blockHashOfBytes, encodeBlockHeader, type BlockHeader } from '../../src/dcrd/block-header.js';
import { bytesToHex, displayHashToInternal, internalToDisplayHash } from '../../src/dcrd/hex.js';
import { OP_SSGEN, OP_SSRTX } from '../../src/dcrd/opcodes.js';
import { encodeVoteBitsScript, encodeVoteReferenceScript } from '../../src/dcrd/vote-script.js';

export const ZERO_HASH = '0'.repeat(64);
const ATOMS_PER_COIN = 1e8;
const NULL_BLOCK_INDEX = 0xffffffff; // wire.NullBlockIndex
const TICKET_PRICE = 100 * ATOMS_PER_COIN;
const VOTE_SUBSIDY = 2 * ATOMS_PER_COIN;

export function randomHash(): string {
  return randomBytes(32).toString('hex');
}

interface TxIn {
  prevHash: string; // display order
  prevIndex: number;
  tree: number;
  sequence: number;
  valueIn: number;
  blockHeight: number;
  blockIndex: number;
  sigScript: Uint8Array;
  stakebase: boolean;
  /** A coinbase input (vin[0] of a block's first regular tx). */
  coinbase?: boolean;
}

interface TxOut {
  value: number;
  version: number;
  script: Uint8Array;
  type: string;
  asm: string;
  /** scriptPubKey.addresses (omitempty: absent for nulldata and treasury scripts). */
  addresses?: string[];
}

export interface FakeTx {
  txid: string;
  hex: string;
  version: number;
  vin: TxIn[];
  vout: TxOut[];
  kind: 'vote' | 'revocation' | 'coinbase';
  /** A vote's version (its vote-bits output); 0 for other kinds. */
  voteVersion: number;
  /** The ticket a vote or revocation spends ('' for a coinbase). */
  ticket: string;
}

export interface FakeBlock {
  hash: string;
  height: number;
  prevHash: string;
  header: BlockHeader;
  headerHex: string;
  /** Regular tree: just the coinbase (dcrd's getblock always lists one). */
  tx: FakeTx[];
  stx: FakeTx[];
  winners: string[];
}

function varint(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >> 8);
  const b = new Uint8Array(5);
  b[0] = 0xfe;
  new DataView(b.buffer).setUint32(1, n, true);
  return b;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function i64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
  return b;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function serializeTx(version: number, vin: TxIn[], vout: TxOut[], serType: 0 | 1): Uint8Array {
  const parts: Uint8Array[] = [u32(version | (serType << 16)), varint(vin.length)];
  for (const i of vin) parts.push(displayHashToInternal(i.prevHash), u32(i.prevIndex), Uint8Array.of(i.tree), u32(i.sequence));
  parts.push(varint(vout.length));
  for (const o of vout) parts.push(i64(o.value), u16(o.version), varint(o.script.length), o.script);
  parts.push(u32(0), u32(0)); // locktime, expiry
  if (serType === 0) {
    parts.push(varint(vin.length));
    for (const i of vin) parts.push(i64(i.valueIn), u32(i.blockHeight), u32(i.blockIndex), varint(i.sigScript.length), i.sigScript);
  }
  return concat(parts);
}

function makeTx(kind: FakeTx['kind'], ticket: string, version: number, vin: TxIn[], vout: TxOut[], voteVersion = 0): FakeTx {
  const txid = internalToDisplayHash(blake256(serializeTx(version, vin, vout, 1)));
  return { txid, hex: bytesToHex(serializeTx(version, vin, vout, 0)), version, vin, vout, kind, ticket, voteVersion };
}

/** Deterministic fake 20-byte payout hash per ticket, so identical votes serialize identically. */
function payoutHash160(ticket: string): Uint8Array {
  return blake256(Buffer.from(`payout:${ticket}`)).subarray(0, 20);
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/**
 * A simnet P2PKH address ("Ss…"): base58check of the 2-byte net id 0x0e91
 * (chaincfg/simnetparams.go PubKeyHashAddrID) and the hash160, checksum the
 * first 4 bytes of BLAKE-256(BLAKE-256(payload)) (dcrd base58 CheckEncode).
 */
export function simnetP2PKHAddress(h160: Uint8Array): string {
  const payload = concat([Uint8Array.of(0x0e, 0x91), h160]);
  const bytes = concat([payload, blake256(blake256(payload)).subarray(0, 4)]);
  let n = BigInt('0x' + bytesToHex(bytes));
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

function taggedP2PKH(tag: number, h160: Uint8Array): Uint8Array {
  // <tag> OP_DUP OP_HASH160 OP_DATA_20 <h160> OP_EQUALVERIFY OP_CHECKSIG
  return concat([Uint8Array.of(tag, 0x76, 0xa9, 0x14), h160, Uint8Array.of(0x88, 0xac)]);
}

function ticketInput(ticket: string, valueIn: number): TxIn {
  return {
    prevHash: ticket,
    prevIndex: 0,
    tree: 1,
    sequence: 0xffffffff,
    valueIn,
    blockHeight: 0,
    blockIndex: 0,
    sigScript: Uint8Array.of(0x00), // not a real signature; nothing here checks it
    stakebase: false,
  };
}

/** An SSGen voting on `votedBlock` (the parent of the block that will include it). */
export function buildVoteTx(ticket: string, votedBlock: BlockRef, voteBits: number, voteVersion = 10): FakeTx {
  const ref = encodeVoteReferenceScript(votedBlock);
  const bits = encodeVoteBitsScript(voteBits, voteVersion);
  const h160 = payoutHash160(ticket);
  const vin: TxIn[] = [
    {
      prevHash: ZERO_HASH,
      prevIndex: 0xffffffff,
      tree: 0,
      sequence: 0xffffffff,
      valueIn: VOTE_SUBSIDY,
      blockHeight: 0, // wire.NullBlockHeight
      blockIndex: NULL_BLOCK_INDEX,
      sigScript: Uint8Array.of(0x00, 0x00),
      stakebase: true,
    },
    ticketInput(ticket, TICKET_PRICE),
  ];
  const vout: TxOut[] = [
    { value: 0, version: 0, script: ref, type: 'nulldata', asm: `OP_RETURN ${bytesToHex(ref.subarray(2))}` },
    { value: 0, version: 0, script: bits, type: 'nulldata', asm: `OP_RETURN ${bytesToHex(bits.subarray(2))}` },
    {
      value: TICKET_PRICE + VOTE_SUBSIDY,
      version: 0,
      script: taggedP2PKH(OP_SSGEN, h160),
      // dcrd 2.1.6 names tagged P2PKH scripts "<tag>-pubkeyhash" and lists
      // their address (txscript/stdscript STStakeGenPubKeyHash; checked
      // against a real simnet vote by test/e2e/agreement.test.ts).
      type: 'stakegen-pubkeyhash',
      addresses: [simnetP2PKHAddress(h160)],
      asm: `OP_SSGEN OP_DUP OP_HASH160 ${bytesToHex(h160)} OP_EQUALVERIFY OP_CHECKSIG`,
    },
  ];
  return makeTx('vote', ticket, 1, vin, vout, voteVersion);
}

/** An SSRtx (version 2, automatic revocations) for `ticket`. */
export function buildRevocationTx(ticket: string): FakeTx {
  const h160 = payoutHash160(ticket);
  const vout: TxOut[] = [
    {
      value: TICKET_PRICE,
      version: 0,
      script: taggedP2PKH(OP_SSRTX, h160),
      // "stakerevoke-pubkeyhash" with its address, as dcrd 2.1.6 reports it.
      type: 'stakerevoke-pubkeyhash',
      addresses: [simnetP2PKHAddress(h160)],
      asm: `OP_SSRTX OP_DUP OP_HASH160 ${bytesToHex(h160)} OP_EQUALVERIFY OP_CHECKSIG`,
    },
  ];
  return makeTx('revocation', ticket, 2, [ticketInput(ticket, TICKET_PRICE)], vout);
}

/**
 * A coinbase (wire/msgtx.go, blockchain/validate.go): one input spending the
 * null outpoint with the height and an extra nonce in its signature script,
 * output 0 the OP_RETURN height commitment, then the PoW reward.
 */
export function buildCoinbaseTx(height: number, nonce: number): FakeTx {
  const commitment = concat([u32(height), i64(nonce)]);
  const script = concat([Uint8Array.of(0x6a, commitment.length), commitment]);
  const h160 = payoutHash160(`coinbase:${height}`);
  const vin: TxIn[] = [
    {
      prevHash: ZERO_HASH,
      prevIndex: 0xffffffff,
      tree: 0,
      sequence: 0xffffffff,
      valueIn: 10 * ATOMS_PER_COIN,
      blockHeight: 0,
      blockIndex: NULL_BLOCK_INDEX,
      sigScript: concat([Uint8Array.of(0x00, 0x00), commitment]),
      stakebase: false,
      coinbase: true,
    },
  ];
  const vout: TxOut[] = [
    { value: 0, version: 0, script, type: 'nulldata', asm: `OP_RETURN ${bytesToHex(commitment)}` },
    {
      value: 10 * ATOMS_PER_COIN,
      version: 0,
      script: concat([Uint8Array.of(0x76, 0xa9, 0x14), h160, Uint8Array.of(0x88, 0xac)]),
      type: 'pubkeyhash',
      asm: `OP_DUP OP_HASH160 ${bytesToHex(h160)} OP_EQUALVERIFY OP_CHECKSIG`,
      addresses: [simnetP2PKHAddress(h160)],
    },
  ];
  return makeTx('coinbase', '', 1, vin, vout);
}

export interface BlockLocation {
  block: FakeBlock;
  index: number;
  confirmations: number;
}

/** TxRawResult JSON; block fields only for mined txs (they are omitempty). */
export function verboseTx(tx: FakeTx, at?: BlockLocation): Record<string, unknown> {
  const vin = tx.vin.map((i) =>
    i.coinbase
      ? {
          coinbase: bytesToHex(i.sigScript),
          sequence: i.sequence,
          amountin: i.valueIn / ATOMS_PER_COIN,
          blockheight: i.blockHeight,
          blockindex: i.blockIndex,
        }
      : i.stakebase
      ? {
          stakebase: bytesToHex(i.sigScript),
          sequence: i.sequence,
          amountin: i.valueIn / ATOMS_PER_COIN,
          blockheight: i.blockHeight,
          blockindex: i.blockIndex,
        }
      : {
          txid: i.prevHash,
          vout: i.prevIndex,
          tree: i.tree,
          sequence: i.sequence,
          amountin: i.valueIn / ATOMS_PER_COIN,
          blockheight: i.blockHeight,
          blockindex: i.blockIndex,
          scriptSig: { asm: bytesToHex(i.sigScript), hex: bytesToHex(i.sigScript) },
        },
  );
  const vout = tx.vout.map((o, n) => ({
    value: o.value / ATOMS_PER_COIN,
    n,
    version: o.version,
    scriptPubKey: {
      asm: o.asm,
      hex: bytesToHex(o.script),
      ...(o.type === 'nulldata' ? {} : { reqSigs: 1 }),
      type: o.type,
      ...(o.addresses ? { addresses: o.addresses } : {}),
      version: o.version,
    },
  }));
  const result: Record<string, unknown> = {
    hex: tx.hex,
    txid: tx.txid,
    version: tx.version,
    locktime: 0,
    expiry: 0,
    vin,
    vout,
  };
  if (at) {
    result['blockhash'] = at.block.hash;
    result['blockheight'] = at.block.height;
    // TxRawResult.BlockIndex is omitempty: real dcrd 2.1.6 leaves it out
    // for the tx at index 0 (the coinbase, the first stake tx).
    if (at.index !== 0) result['blockindex'] = at.index;
    result['confirmations'] = at.confirmations;
    result['time'] = at.block.header.timestamp;
    result['blocktime'] = at.block.header.timestamp;
  }
  return result;
}

export interface BuildBlockOptions {
  winners?: string[];
  /** Votes included in the new block, voting on its parent (vote version default 10). */
  votesFor?: { ticket: string; voteBits: number; voteVersion?: number }[];
  /** The header's stake version (default 10). */
  stakeVersion?: number;
  revocations?: string[];
  /** Unix seconds; default parent time + 300. */
  time?: number;
}

let nonceCounter = 1;

/** A new block on top of `parent` (not yet attached to any chain). */
export function buildBlock(parent: { hash: string; height: number; timestamp: number }, opts: BuildBlockOptions): FakeBlock {
  const parentRef = { hash: parent.hash, height: parent.height };
  const stx: FakeTx[] = [
    ...(opts.votesFor ?? []).map((v) => buildVoteTx(v.ticket, parentRef, v.voteBits, v.voteVersion)),
    ...(opts.revocations ?? []).map((t) => buildRevocationTx(t)),
  ];
  const header: BlockHeader = {
    version: 10,
    prevBlock: parent.hash,
    merkleRoot: randomHash(),
    stakeRoot: randomHash(),
    voteBits: 1,
    finalState: randomBytes(6).toString('hex'),
    voters: opts.votesFor?.length ?? 0,
    freshStake: 0,
    revocations: opts.revocations?.length ?? 0,
    poolSize: 40960,
    bits: 0x207fffff,
    sbits: TICKET_PRICE,
    height: parent.height + 1,
    size: 1000 + 300 * stx.length,
    timestamp: opts.time ?? parent.timestamp + 300,
    nonce: nonceCounter++,
    extraData: '0'.repeat(64),
    stakeVersion: opts.stakeVersion ?? 10,
  };
  const bytes = encodeBlockHeader(header);
  return {
    hash: blockHashOfBytes(bytes),
    height: header.height,
    prevHash: parent.hash,
    header,
    headerHex: bytesToHex(bytes),
    tx: [buildCoinbaseTx(header.height, header.nonce)],
    stx,
    winners: opts.winners ?? Array.from({ length: 5 }, randomHash),
  };
}

/** The first block of the fake chain; its parent is the all-zero hash. */
export function buildBaseBlock(height: number, time: number): FakeBlock {
  return buildBlock({ hash: ZERO_HASH, height: height - 1, timestamp: time - 300 }, { winners: [] });
}
