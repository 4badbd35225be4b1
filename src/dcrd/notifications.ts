// Pure parsing of the dcrd websocket notifications dcrvoted subscribes to.
// Never throws: every shape problem becomes { kind: 'malformed' }.
//
// Shapes (dcrd rpc/jsonrpc/types/chainsvrwsntfns.go and
// internal/rpcserver/rpcwebsocket.go):
//   winningtickets    [blockHash, blockHeight(int32), {"0": ticket, "1": …}]
//                     (notifyWinningTickets keys the map with strconv.Itoa(i))
//   blockconnected    [headerHex, subscribedTxs] — subscribedTxs is a Go nil
//                     slice (JSON null) unless a tx filter is loaded
//   blockdisconnected [headerHex]
// headerHex is hex.EncodeToString(Header.Bytes()): the 180-byte header.
//
// dcrd sends winningtickets when a block is *accepted* (server.go,
// NTBlockAccepted; also for side-chain blocks close to the tip), and only
// from StakeValidationHeight-1. Observed on dcrd 2.1.6 (test/e2e/
// agreement.test.ts): the block's blockconnected arrives first, then its
// winningtickets. The vote tracker does not depend on either order.

import type { BlockRef } from '../domain.js';
import { decodeBlockHeaderHex, type BlockHeader } from './block-header.js';
import { describe, isHashHex, isPlainObject } from './hex.js';

/** chaincfg TicketsPerBlock: 5 on mainnet, testnet3, simnet and regnet. */
export const TICKETS_PER_BLOCK = 5;
const MAX_INT32 = 0x7fffffff;

export type DcrdNotification =
  | { kind: 'winningtickets'; block: BlockRef; tickets: string[] }
  | { kind: 'blockconnected'; block: BlockRef; previousHash: string; header: BlockHeader; subscribedTxs: string[] }
  | { kind: 'blockdisconnected'; block: BlockRef; previousHash: string; header: BlockHeader };

export type ParsedNotification =
  | DcrdNotification
  | { kind: 'unhandled'; method: string }
  | { kind: 'malformed'; method: string; reason: string };

export function parseNotification(method: string, params: unknown): ParsedNotification {
  const bad = (reason: string): ParsedNotification => ({ kind: 'malformed', method, reason });
  if (!Array.isArray(params)) return bad(`params is ${describe(params)}, not an array`);
  switch (method) {
    case 'winningtickets':
      return parseWinningTickets(params, bad);
    case 'blockconnected':
      return parseBlockConnected(params, bad);
    case 'blockdisconnected':
      return parseBlockDisconnected(params, bad);
    default:
      return { kind: 'unhandled', method };
  }
}

type Bad = (reason: string) => ParsedNotification;

function parseWinningTickets(params: unknown[], bad: Bad): ParsedNotification {
  if (params.length !== 3) return bad(`want 3 params, got ${params.length}`);
  const [hash, height, map] = params;
  if (!isHashHex(hash)) return bad(`block hash is ${describe(hash)}, want 64 lowercase hex`);
  if (typeof height !== 'number' || !Number.isInteger(height) || height < 0 || height > MAX_INT32) {
    return bad(`block height is ${describe(height)}, want a non-negative int32`);
  }
  if (!isPlainObject(map)) return bad(`tickets is ${describe(map)}, want an object keyed "0".."n-1"`);
  const keys = Object.keys(map);
  if (keys.length === 0 || keys.length > TICKETS_PER_BLOCK) {
    return bad(`got ${keys.length} winning tickets, want 1..${TICKETS_PER_BLOCK}`);
  }
  const tickets: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < keys.length; i++) {
    const ticket = map[String(i)];
    if (ticket === undefined) return bad(`tickets map is missing key "${i}" (keys: ${describe(keys)})`);
    if (!isHashHex(ticket)) return bad(`ticket "${i}" is ${describe(ticket)}, want 64 lowercase hex`);
    if (seen.has(ticket)) return bad(`ticket ${ticket} is listed twice`);
    seen.add(ticket);
    tickets.push(ticket);
  }
  return { kind: 'winningtickets', block: { hash, height }, tickets };
}

function parseHeader(value: unknown, bad: Bad) {
  if (typeof value !== 'string') return bad(`header is ${describe(value)}, want hex string`);
  const decoded = decodeBlockHeaderHex(value);
  if (!decoded.ok) return bad(decoded.reason);
  return decoded.value;
}

function parseBlockConnected(params: unknown[], bad: Bad): ParsedNotification {
  if (params.length !== 2) return bad(`want 2 params, got ${params.length}`);
  const parsed = parseHeader(params[0], bad);
  if ('kind' in parsed) return parsed;
  const txs = params[1];
  let subscribedTxs: string[] = [];
  if (txs !== null) {
    if (!Array.isArray(txs) || !txs.every((t) => typeof t === 'string' && /^(?:[0-9a-f]{2})+$/.test(t))) {
      return bad(`subscribedTxs is ${describe(txs)}, want null or an array of tx hex`);
    }
    subscribedTxs = txs as string[];
  }
  const { header, hash } = parsed;
  return {
    kind: 'blockconnected',
    block: { hash, height: header.height },
    previousHash: header.prevBlock,
    header,
    subscribedTxs,
  };
}

function parseBlockDisconnected(params: unknown[], bad: Bad): ParsedNotification {
  if (params.length !== 1) return bad(`want 1 param, got ${params.length}`);
  const parsed = parseHeader(params[0], bad);
  if ('kind' in parsed) return parsed;
  const { header, hash } = parsed;
  return { kind: 'blockdisconnected', block: { hash, height: header.height }, previousHash: header.prevBlock, header };
}
