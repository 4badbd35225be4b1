// Typed helpers over a JSON-RPC request function (normally DcrdClient.request).
// Each helper validates the result shape and throws DcrdResultShapeError when
// dcrd answers with something we cannot interpret, so callers never act on a
// half-understood reply.
//
// Parameter and result shapes: dcrd rpc/jsonrpc/types/chainsvrcmds.go and
// chainsvrresults.go; handlers in internal/rpcserver/rpcserver.go.

import type { BlockRef, NetworkName } from '../domain.js';
import { describe, hexToBytes, isHashHex, isPlainObject } from './hex.js';
import { DcrdRpcError, RPC_CODE_INVALID_PARAMETER, RPC_CODE_NOT_FOUND } from './jsonrpc.js';
import { classifyVerboseTx, type DecodedRevocation, type DecodedVote } from './stake-tx.js';

export type RequestFn = <T = unknown>(
  method: string,
  params?: readonly unknown[],
  opts?: { timeoutMs?: number },
) => Promise<T>;

export class DcrdResultShapeError extends Error {
  override readonly name = 'DcrdResultShapeError';
  constructor(
    readonly method: string,
    detail: string,
  ) {
    super(`dcrd ${method} returned an unexpected result: ${detail}`);
  }
}

/** wire.CurrencyNet magic values (dcrd wire/protocol.go). RegNet is not supported. */
export const CURRENCY_NET: Readonly<Record<NetworkName, number>> = {
  mainnet: 0xd9b400f9,
  testnet: 0xb194aa75,
  simnet: 0x12141c16,
};

export interface HeaderInfo {
  hash: string;
  height: number;
  previousHash: string;
  /** Unix seconds. */
  time: number;
  /** -1 when the block is not on the main chain (side chain). */
  confirmations: number;
  /** Live tickets in the pool as of this block (the header's PoolSize). */
  poolSize: number;
}

export interface BlockVotes {
  block: { hash: string; height: number; previousHash: string; time: number; confirmations: number };
  votes: DecodedVote[];
  revocations: DecodedRevocation[];
}

export interface AgendaInfo {
  status: string;
  since?: number;
  starttime: number;
  expiretime: number;
}

export interface BlockchainInfo {
  chain: string;
  blocks: number;
  headers: number;
  syncHeight: number;
  bestBlockHash: string;
  initialBlockDownload: boolean;
  verificationProgress: number;
  deployments: Record<string, AgendaInfo>;
}

/** getvoteinfo <version> (dcrd types.GetVoteInfoResult). */
export interface VoteInfo {
  currentHeight: number;
  /** First and last block of the rule-change interval the tip is in. */
  startHeight: number;
  endHeight: number;
  hash: string;
  voteVersion: number;
  quorum: number;
  totalVotes: number;
  agendas: VoteInfoAgenda[];
}

export interface VoteInfoAgenda {
  id: string;
  description: string;
  /** defined | started | lockedin | active | failed */
  status: string;
  starttime: number;
  expiretime: number;
  quorumProgress: number;
  choices: { id: string; isAbstain: boolean; isNo: boolean; count: number; progress: number }[];
}

/** One block of getstakeversions (dcrd types.StakeVersions). */
export interface BlockStakeVersions {
  hash: string;
  height: number;
  stakeVersion: number;
  /** The version each vote in the block carries. */
  voteVersions: number[];
}

/**
 * Agenda start/expire times: Unix seconds, except that "never expires" is
 * math.MaxInt64 (simnet agendas), which JSON parsing rounds past any safe
 * integer. Clamp it rather than reject a healthy node's answer.
 */
function unixTime(method: string, o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DcrdResultShapeError(method, `${key} is ${describe(v)}, want a time`);
  return Math.min(v, Number.MAX_SAFE_INTEGER);
}

/** True for dcrd's "no such block / no such transaction" error (code -5). */
export function isNotFoundError(err: unknown): boolean {
  return err instanceof DcrdRpcError && err.code === RPC_CODE_NOT_FOUND;
}

function num(method: string, obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DcrdResultShapeError(method, `${key} is ${describe(v)}`);
  return v;
}

function int(method: string, obj: Record<string, unknown>, key: string): number {
  const v = num(method, obj, key);
  if (!Number.isSafeInteger(v)) throw new DcrdResultShapeError(method, `${key} is ${v}, want an integer`);
  return v;
}

function hash(method: string, obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (!isHashHex(v)) throw new DcrdResultShapeError(method, `${key} is ${describe(v)}, want 64 lowercase hex`);
  return v;
}

function object(method: string, v: unknown): Record<string, unknown> {
  if (!isPlainObject(v)) throw new DcrdResultShapeError(method, `result is ${describe(v)}, want an object`);
  return v;
}

function hashList(method: string, v: unknown): string[] {
  if (!Array.isArray(v) || !v.every(isHashHex)) throw new DcrdResultShapeError(method, `want an array of hashes, got ${describe(v)}`);
  return v as string[];
}

export class DcrdRpc {
  readonly #request: RequestFn;

  constructor(request: RequestFn) {
    this.#request = request;
  }

  async getBestBlock(): Promise<BlockRef> {
    const r = object('getbestblock', await this.#request('getbestblock', []));
    return { hash: hash('getbestblock', r, 'hash'), height: int('getbestblock', r, 'height') };
  }

  async getBlockHash(height: number): Promise<string> {
    const r = await this.#request('getblockhash', [height]);
    if (!isHashHex(r)) throw new DcrdResultShapeError('getblockhash', `result is ${describe(r)}`);
    return r;
  }

  async getBlockHeader(blockHash: string): Promise<HeaderInfo> {
    const m = 'getblockheader';
    const r = object(m, await this.#request(m, [blockHash, true]));
    const previousHash = r['previousblockhash'];
    return {
      hash: hash(m, r, 'hash'),
      height: int(m, r, 'height'),
      // previousblockhash is omitempty; only the genesis block lacks it.
      previousHash: isHashHex(previousHash) ? previousHash : '0'.repeat(64),
      time: int(m, r, 'time'),
      confirmations: int(m, r, 'confirmations'),
      poolSize: int(m, r, 'poolsize'),
    };
  }

  /** getblock <hash> true true: the block's stake txs decoded into votes and revocations. */
  async getBlockVotes(blockHash: string): Promise<BlockVotes> {
    const m = 'getblock';
    const r = object(m, await this.#request(m, [blockHash, true, true]));
    const previousHash = r['previousblockhash'];
    const block = {
      hash: hash(m, r, 'hash'),
      height: int(m, r, 'height'),
      previousHash: isHashHex(previousHash) ? previousHash : '0'.repeat(64),
      time: int(m, r, 'time'),
      confirmations: int(m, r, 'confirmations'),
    };
    // rawstx is omitempty: a block without stake transactions has no field.
    const rawstx = r['rawstx'] ?? [];
    if (!Array.isArray(rawstx)) throw new DcrdResultShapeError(m, `rawstx is ${describe(rawstx)}`);
    const votes: DecodedVote[] = [];
    const revocations: DecodedRevocation[] = [];
    for (const tx of rawstx) {
      const c = classifyVerboseTx(tx);
      if (c.kind === 'vote') votes.push(c.vote);
      else if (c.kind === 'revocation') revocations.push(c.revocation);
      else if (c.kind === 'malformed') throw new DcrdResultShapeError(m, `block ${block.hash}: ${c.reason}`);
    }
    return { block, votes, revocations };
  }

  /** Txids of the votes currently in dcrd's mempool. */
  async getRawMempoolVotes(): Promise<string[]> {
    return hashList('getrawmempool', await this.#request('getrawmempool', [false, 'votes']));
  }

  /** A vote decoded from getrawtransaction <txid> 1; null when the tx is not a vote. */
  async getVoteTx(txid: string): Promise<DecodedVote | null> {
    const c = classifyVerboseTx(await this.#request('getrawtransaction', [txid, 1]));
    if (c.kind === 'malformed') throw new DcrdResultShapeError('getrawtransaction', c.reason);
    return c.kind === 'vote' ? c.vote : null;
  }

  /** existsmempooltxs: dcrd answers with a hex bitset, bit i (LSB first) for txids[i]. */
  async existsMempoolTxs(txids: readonly string[]): Promise<boolean[]> {
    if (txids.length === 0) return [];
    const m = 'existsmempooltxs';
    const r = await this.#request(m, [txids]);
    const bits = typeof r === 'string' ? hexToBytes(r) : null;
    if (!bits || bits.length !== Math.ceil(txids.length / 8)) {
      throw new DcrdResultShapeError(m, `bitset ${describe(r)} does not cover ${txids.length} txids`);
    }
    return txids.map((_, i) => ((bits[i >> 3] ?? 0) & (1 << (i & 7))) !== 0);
  }

  async getBlockchainInfo(): Promise<BlockchainInfo> {
    const m = 'getblockchaininfo';
    const r = object(m, await this.#request(m, []));
    const chain = r['chain'];
    if (typeof chain !== 'string') throw new DcrdResultShapeError(m, `chain is ${describe(chain)}`);
    const deployments = r['deployments'] ?? {};
    if (!isPlainObject(deployments)) throw new DcrdResultShapeError(m, `deployments is ${describe(deployments)}`);
    const agendas: Record<string, AgendaInfo> = {};
    for (const [id, raw] of Object.entries(deployments)) {
      const a = object(m, raw);
      if (typeof a['status'] !== 'string') throw new DcrdResultShapeError(m, `deployments.${id}.status is ${describe(a['status'])}`);
      agendas[id] = {
        status: a['status'],
        ...(a['since'] !== undefined ? { since: int(m, a, 'since') } : {}),
        starttime: unixTime(m, a, 'starttime'),
        expiretime: unixTime(m, a, 'expiretime'),
      };
    }
    const ibd = r['initialblockdownload'];
    if (typeof ibd !== 'boolean') throw new DcrdResultShapeError(m, `initialblockdownload is ${describe(ibd)}`);
    return {
      chain,
      blocks: int(m, r, 'blocks'),
      headers: int(m, r, 'headers'),
      syncHeight: int(m, r, 'syncheight'),
      bestBlockHash: hash(m, r, 'bestblockhash'),
      initialBlockDownload: ibd,
      verificationProgress: num(m, r, 'verificationprogress'),
      deployments: agendas,
    };
  }

  /**
   * getvoteinfo for one vote version; null when dcrd does not know that
   * version (it answers "unrecognized vote version", rpcInvalidError -8).
   */
  async getVoteInfo(version: number): Promise<VoteInfo | null> {
    const m = 'getvoteinfo';
    let raw: unknown;
    try {
      raw = await this.#request(m, [version]);
    } catch (err) {
      if (err instanceof DcrdRpcError && err.code === RPC_CODE_INVALID_PARAMETER && /unrecognized vote version/i.test(err.message)) return null;
      throw err;
    }
    const r = object(m, raw);
    // agendas is omitempty: a version without agendas has no field.
    const rawAgendas = r['agendas'] ?? [];
    if (!Array.isArray(rawAgendas)) throw new DcrdResultShapeError(m, `agendas is ${describe(rawAgendas)}`);
    const agendas = rawAgendas.map((raw, i): VoteInfoAgenda => {
      const a = object(m, raw);
      const id = a['id'];
      const status = a['status'];
      if (typeof id !== 'string' || id === '') throw new DcrdResultShapeError(m, `agendas[${i}].id is ${describe(id)}`);
      if (typeof status !== 'string') throw new DcrdResultShapeError(m, `agendas[${i}].status is ${describe(status)}`);
      const choices = a['choices'];
      if (!Array.isArray(choices)) throw new DcrdResultShapeError(m, `agendas[${i}].choices is ${describe(choices)}`);
      return {
        id,
        description: typeof a['description'] === 'string' ? a['description'] : '',
        status,
        starttime: unixTime(m, a, 'starttime'),
        expiretime: unixTime(m, a, 'expiretime'),
        quorumProgress: num(m, a, 'quorumprogress'),
        choices: choices.map((rc, j) => {
          const c = object(m, rc);
          if (typeof c['id'] !== 'string') throw new DcrdResultShapeError(m, `agendas[${i}].choices[${j}].id is ${describe(c['id'])}`);
          return { id: c['id'], isAbstain: c['isabstain'] === true, isNo: c['isno'] === true, count: int(m, c, 'count'), progress: num(m, c, 'progress') };
        }),
      };
    });
    return {
      currentHeight: int(m, r, 'currentheight'),
      startHeight: int(m, r, 'startheight'),
      endHeight: int(m, r, 'endheight'),
      hash: hash(m, r, 'hash'),
      voteVersion: int(m, r, 'voteversion'),
      quorum: int(m, r, 'quorum'),
      totalVotes: int(m, r, 'totalvotes'),
      agendas,
    };
  }

  /** getstakeversions <hash> <count>: that block and its ancestors, newest first. */
  async getStakeVersions(blockHash: string, count: number): Promise<BlockStakeVersions[]> {
    const m = 'getstakeversions';
    const r = object(m, await this.#request(m, [blockHash, count]));
    const list = r['stakeversions'];
    if (!Array.isArray(list)) throw new DcrdResultShapeError(m, `stakeversions is ${describe(list)}`);
    return list.map((raw, i) => {
      const b = object(m, raw);
      const votes = b['votes'];
      if (!Array.isArray(votes)) throw new DcrdResultShapeError(m, `stakeversions[${i}].votes is ${describe(votes)}`);
      return {
        hash: hash(m, b, 'hash'),
        height: int(m, b, 'height'),
        stakeVersion: int(m, b, 'stakeversion'),
        voteVersions: votes.map((v) => int(m, object(m, v), 'version')),
      };
    });
  }

  /** Hashes of the treasury spends in dcrd's mempool. */
  async getRawMempoolTSpends(): Promise<string[]> {
    return hashList('getrawmempool', await this.#request('getrawmempool', [false, 'tspend']));
  }

  /** A raw transaction's hex; null when dcrd does not know it (mined, and no --txindex). */
  async getRawTransactionHex(txid: string): Promise<string | null> {
    try {
      const r = await this.#request('getrawtransaction', [txid, 0]);
      if (typeof r !== 'string' || hexToBytes(r) === null) throw new DcrdResultShapeError('getrawtransaction', `result is ${describe(r)}, want hex`);
      return r;
    } catch (err) {
      if (isNotFoundError(err)) return null;
      throw err;
    }
  }

  /** getcurrentnet returns wire.CurrencyNet as a JSON number. */
  async getNetworkName(): Promise<NetworkName> {
    const r = await this.#request('getcurrentnet', []);
    for (const [name, magic] of Object.entries(CURRENCY_NET) as [NetworkName, number][]) {
      if (r === magic) return name;
    }
    throw new DcrdResultShapeError('getcurrentnet', `unknown network magic ${describe(r)}`);
  }
}
