// Builds the unsigned vote (SSGen) transaction for one ticket, byte for byte
// as dcrwallet v5 does (wallet/createtx.go createUnsignedVote plus the
// treasury-vote output added in wallet/chainntfns.go VoteOnOwnedTickets), so
// that once the wallet signs the ticket input it equals the wallet's own vote.
//
// Layout (also what dcrd consensus requires, blockchain/stake/staketx.go
// CheckSSGenVotes):
//   version   1 (wire.TxVersion); 3 (wire.TxVersionTreasury) iff a treasury
//             vote output is present
//   input 0   stakebase: null hash, index 0xffffffff, tree regular, sequence
//             0xffffffff; witness: value in = vote subsidy, block height 0,
//             block index 0xffffffff, sig script = chaincfg StakeBaseSigScript
//             (0x0000 on mainnet, testnet3 and simnet)
//   input 1   ticket: ticket hash, index 0, tree stake, sequence 0xffffffff;
//             witness: value in = ticket output 0 value, height 0, index
//             0xffffffff, sig script empty until the wallet signs it
//   output 0  value 0, script version 0: OP_RETURN OP_DATA_36 <voted block
//             hash, internal order> <u32 LE voted height>
//   output 1  value 0, script version 0: OP_RETURN OP_DATA_6 <u16 LE vote
//             bits> <u32 LE vote version> (dcrwallet's ExtendedBits are always
//             the 4-byte vote version)
//   output 2+ one per ticket commitment, in commitment order: reward amount,
//             script version 0, OP_SSGEN + P2PKH (bb 76 a9 14 <h160> 88 ac) or
//             OP_SSGEN + P2SH (bb a9 14 <h160> 87)
//   last      only with treasury votes: value 0, version 0, OP_RETURN + a
//             canonical push of 'T' 'V' (<tspend hash, internal order> <vote
//             byte 1 yes / 2 no>)...
//   lock time 0, expiry 0
//
// Ticket commitments (stake.SStxStakeOutputInfo): the ticket's odd outputs
// are OP_RETURN OP_DATA_30 <20-byte hash160> <u64 LE amount; its top bit set
// means P2SH> <u16 LE fee limits>. Rewards (stake.CalculateRewards): for
// each commitment c, floor((c * (ticketPrice + subsidy)) << 32 / sum(c)) >> 32,
// ticketPrice being the value of ticket output 0.
//
// The txid covers only the prefix (see tx.ts), which holds no signature
// script, so the unsigned vote's txid IS the signed vote's txid.

import type { BlockRef, NetworkName } from '../domain.js';
import { bytesToHex, displayHashToInternal, hexToBytes, internalToDisplayHash, isHashHex } from '../dcrd/hex.js';
import { encodeVoteBitsScript, encodeVoteReferenceScript } from '../dcrd/vote-script.js';
import { OP_CHECKSIG, OP_DATA_20, OP_DATA_30, OP_DUP, OP_EQUAL, OP_EQUALVERIFY, OP_HASH160, OP_PUSHDATA1, OP_RETURN, OP_SSGEN, OP_SSTX } from '../dcrd/opcodes.js';
import { voteSubsidy, type SubsidySplit } from './subsidy.js';
import {
  DEFAULT_SCRIPT_VERSION,
  MAX_TX_IN_SEQUENCE,
  NULL_BLOCK_HEIGHT,
  NULL_BLOCK_INDEX,
  TX_TREE_REGULAR,
  TX_TREE_STAKE,
  TX_VERSION,
  TX_VERSION_TREASURY,
  decodeTx,
  serializeTx,
  txHash,
  type MsgTx,
} from './tx.js';

/** chaincfg StakeBaseSigScript for the supported networks. */
export const STAKE_BASE_SIG_SCRIPT: Readonly<Record<NetworkName, Uint8Array>> = {
  mainnet: Uint8Array.of(0x00, 0x00),
  testnet: Uint8Array.of(0x00, 0x00),
  simnet: Uint8Array.of(0x00, 0x00),
};

/** stake.SStxPKHMinOutSize: OP_RETURN OP_DATA_30 + 30 bytes. */
const COMMITMENT_SCRIPT_SIZE = 32;
/** stake.MaxInputsPerSStx: at most this many commitments. */
const MAX_COMMITMENTS = 64;
/**
 * A 'T','V' push longer than 255 bytes would need OP_PUSHDATA2, which
 * stake.GetSSGenTreasuryVotes rejects: 2 + 33 * 7 = 233 is the largest fit.
 */
export const MAX_TREASURY_VOTES = 7;

export class VoteBuildError extends Error {
  override readonly name = 'VoteBuildError';
}

export interface TicketCommitment {
  /** 20-byte hash160 of the reward address (pubkey hash or script hash). */
  hash160: Uint8Array;
  isP2SH: boolean;
  /** Committed contribution in atoms (P2SH flag cleared). */
  amount: bigint;
  /** Fee limits field (u16 LE after the amount). */
  feeLimits: number;
}

export interface TicketInfo {
  /** Ticket hash, display order. */
  hash: string;
  /** Value of output 0 (the ticket price). */
  price: bigint;
  commitments: TicketCommitment[];
}

/**
 * Reads a ticket purchase (SStx): output 0 must be OP_SSTX-tagged, each odd
 * output a commitment. Throws VoteBuildError when it is not shaped like one.
 */
export function readTicket(ticket: MsgTx): TicketInfo {
  const out0 = ticket.txOut[0];
  if (!out0 || out0.pkScript[0] !== OP_SSTX) throw new VoteBuildError('ticket output 0 is not OP_SSTX-tagged');
  if (ticket.txOut.length < 3 || ticket.txOut.length % 2 !== 1) {
    throw new VoteBuildError(`ticket has ${ticket.txOut.length} outputs, want 1 + 2 per commitment`);
  }
  const commitments: TicketCommitment[] = [];
  for (let i = 1; i < ticket.txOut.length; i += 2) {
    const s = (ticket.txOut[i] as { pkScript: Uint8Array }).pkScript;
    if (s.length < COMMITMENT_SCRIPT_SIZE || s[0] !== OP_RETURN || s[1] !== OP_DATA_30) {
      throw new VoteBuildError(`ticket output ${i} is not a commitment (OP_RETURN OP_DATA_30 ...)`);
    }
    const view = new DataView(s.buffer, s.byteOffset, s.byteLength);
    const raw = view.getBigUint64(22, true);
    commitments.push({
      hash160: s.slice(2, 22),
      isP2SH: (raw & (1n << 63n)) !== 0n,
      amount: raw & ~(1n << 63n),
      feeLimits: view.getUint16(30, true),
    });
  }
  if (commitments.length > MAX_COMMITMENTS) throw new VoteBuildError(`ticket has ${commitments.length} commitments, max ${MAX_COMMITMENTS}`);
  return { hash: internalToDisplayHash(txHash(ticket)), price: out0.value, commitments };
}

/** stake.CalculateRewards: each commitment's share of ticketPrice + subsidy (64.32 fixed point). */
export function calculateVoteRewards(contributions: readonly bigint[], ticketPrice: bigint, subsidy: bigint): bigint[] {
  const total = contributions.reduce((a, b) => a + b, 0n);
  if (total <= 0n) throw new VoteBuildError('ticket commitments sum to zero');
  const out = ticketPrice + subsidy;
  return contributions.map((c) => (((c * out) << 32n) / total) >> 32n);
}

/** OP_SSGEN-tagged pay-to-pubkey-hash or pay-to-script-hash (stdaddr PayVoteCommitmentScript). */
export function voteRewardScript(hash160: Uint8Array, isP2SH: boolean): Uint8Array {
  if (hash160.length !== 20) throw new VoteBuildError('reward hash160 must be 20 bytes');
  return isP2SH
    ? Uint8Array.of(OP_SSGEN, OP_HASH160, OP_DATA_20, ...hash160, OP_EQUAL)
    : Uint8Array.of(OP_SSGEN, OP_DUP, OP_HASH160, OP_DATA_20, ...hash160, OP_EQUALVERIFY, OP_CHECKSIG);
}

export type TreasuryVoteChoice = 'yes' | 'no';

export interface TreasuryVote {
  /** Treasury spend (tspend) txid, display order. */
  tspend: string;
  vote: TreasuryVoteChoice;
}

/** stake.TreasuryVoteYes / TreasuryVoteNo. */
const TREASURY_VOTE_BYTE: Readonly<Record<TreasuryVoteChoice, number>> = { yes: 0x01, no: 0x02 };

/**
 * The treasury vote output script: OP_RETURN + a canonical data push
 * (txscript.ScriptBuilder.AddData: OP_DATA_n below 76 bytes, else
 * OP_PUSHDATA1 n) of 'T','V' followed by <hash><vote> per tspend, in the
 * given order.
 */
export function treasuryVoteScript(votes: readonly TreasuryVote[]): Uint8Array {
  if (votes.length === 0) throw new VoteBuildError('no treasury votes');
  if (votes.length > MAX_TREASURY_VOTES) throw new VoteBuildError(`${votes.length} treasury votes, max ${MAX_TREASURY_VOTES}`);
  const data = new Uint8Array(2 + 33 * votes.length);
  data[0] = 0x54; // 'T'
  data[1] = 0x56; // 'V'
  const seen = new Set<string>();
  votes.forEach((v, i) => {
    if (!isHashHex(v.tspend)) throw new VoteBuildError(`treasury vote ${i}: tspend ${JSON.stringify(v.tspend)} is not a hash`);
    if (seen.has(v.tspend)) throw new VoteBuildError(`treasury vote ${i}: duplicate tspend ${v.tspend}`);
    seen.add(v.tspend);
    const b = TREASURY_VOTE_BYTE[v.vote];
    if (b === undefined) throw new VoteBuildError(`treasury vote ${i}: choice ${JSON.stringify(v.vote)} is not yes/no`);
    data.set(displayHashToInternal(v.tspend), 2 + 33 * i);
    data[2 + 33 * i + 32] = b;
  });
  const push = data.length < OP_PUSHDATA1 ? [data.length] : [OP_PUSHDATA1, data.length];
  return Uint8Array.of(OP_RETURN, ...push, ...data);
}

export interface BuildVoteParams {
  network: NetworkName;
  /** Ticket purchase transaction: raw hex (getrawtransaction verbose=0), bytes or decoded. */
  ticket: string | Uint8Array | MsgTx;
  /** The block voted on (the winning-tickets block); the vote is mined on top of it. */
  block: BlockRef;
  /** Vote bits (uint16); bit 0 = previous block's regular tree approved. */
  voteBits: number;
  /** Vote version written after the bits (dcrwallet: its stake/vote version, e.g. 12 on simnet). */
  voteVersion: number;
  /** Subsidy split for the block that includes the vote (see subsidySplitFor). */
  subsidySplit: SubsidySplit;
  /** Treasury (tspend) votes, in output order; omit or empty for none. */
  treasuryVotes?: readonly TreasuryVote[];
}

export interface UnsignedVote {
  /** The unsigned vote; input 1's signature script is empty. */
  tx: MsgTx;
  /** Full serialization of the unsigned vote (what the wallet's SignTransaction takes). */
  hex: string;
  /** No-witness serialization (hashed into the txid). */
  prefixHex: string;
  /** Final vote txid (display order): signing does not change it. */
  txid: string;
  /** Ticket hash (display order). */
  ticketHash: string;
  /** Stakebase value in: the vote subsidy. */
  subsidy: bigint;
  /** Reward per commitment, in output order from output 2. */
  rewards: bigint[];
}

function toTicketTx(ticket: BuildVoteParams['ticket']): MsgTx {
  if (typeof ticket !== 'string' && !(ticket instanceof Uint8Array)) return ticket;
  const bytes = typeof ticket === 'string' ? hexToBytes(ticket) : ticket;
  if (!bytes) throw new VoteBuildError('ticket is not hex');
  const decoded = decodeTx(bytes);
  if (!decoded.ok) throw new VoteBuildError(`ticket does not decode: ${decoded.reason}`);
  if (decoded.value.type === 'onlyWitness') throw new VoteBuildError('ticket serialization has no prefix');
  return decoded.value.tx;
}

/** Builds the unsigned vote. Throws VoteBuildError on bad input. */
export function buildUnsignedVote(p: BuildVoteParams): UnsignedVote {
  if (!isHashHex(p.block.hash)) throw new VoteBuildError(`block hash ${JSON.stringify(p.block.hash)} is not a hash`);
  if (!Number.isInteger(p.block.height) || p.block.height < 0 || p.block.height > 0xffffffff) {
    throw new VoteBuildError(`block height ${p.block.height} is not a uint32`);
  }
  if (!Number.isInteger(p.voteBits) || p.voteBits < 0 || p.voteBits > 0xffff) throw new VoteBuildError(`vote bits ${p.voteBits} are not a uint16`);
  if (!Number.isInteger(p.voteVersion) || p.voteVersion < 0 || p.voteVersion > 0xffffffff) {
    throw new VoteBuildError(`vote version ${p.voteVersion} is not a uint32`);
  }

  const ticketTx = toTicketTx(p.ticket);
  const ticket = readTicket(ticketTx);
  const subsidy = voteSubsidy(p.network, p.block.height, p.subsidySplit);
  const rewards = calculateVoteRewards(
    ticket.commitments.map((c) => c.amount),
    ticket.price,
    subsidy,
  );

  const tx: MsgTx = {
    version: TX_VERSION,
    txIn: [
      {
        prevOut: { hash: new Uint8Array(32), index: 0xffffffff, tree: TX_TREE_REGULAR },
        sequence: MAX_TX_IN_SEQUENCE,
        valueIn: subsidy,
        blockHeight: NULL_BLOCK_HEIGHT,
        blockIndex: NULL_BLOCK_INDEX,
        signatureScript: Uint8Array.from(STAKE_BASE_SIG_SCRIPT[p.network]),
      },
      {
        prevOut: { hash: displayHashToInternal(ticket.hash), index: 0, tree: TX_TREE_STAKE },
        sequence: MAX_TX_IN_SEQUENCE,
        valueIn: ticket.price,
        blockHeight: NULL_BLOCK_HEIGHT,
        blockIndex: NULL_BLOCK_INDEX,
        signatureScript: new Uint8Array(0),
      },
    ],
    txOut: [
      { value: 0n, version: DEFAULT_SCRIPT_VERSION, pkScript: encodeVoteReferenceScript(p.block) },
      { value: 0n, version: DEFAULT_SCRIPT_VERSION, pkScript: encodeVoteBitsScript(p.voteBits, p.voteVersion) },
      ...ticket.commitments.map((c, i) => ({
        value: rewards[i] as bigint,
        version: DEFAULT_SCRIPT_VERSION,
        pkScript: voteRewardScript(c.hash160, c.isP2SH),
      })),
    ],
    lockTime: 0,
    expiry: 0,
  };

  if (p.treasuryVotes && p.treasuryVotes.length > 0) {
    tx.txOut.push({ value: 0n, version: DEFAULT_SCRIPT_VERSION, pkScript: treasuryVoteScript(p.treasuryVotes) });
    tx.version = TX_VERSION_TREASURY;
  }

  return {
    tx,
    hex: bytesToHex(serializeTx(tx, 'full')),
    prefixHex: bytesToHex(serializeTx(tx, 'noWitness')),
    txid: internalToDisplayHash(txHash(tx)),
    ticketHash: ticket.hash,
    subsidy,
    rewards,
  };
}
