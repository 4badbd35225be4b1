// JSON-RPC 1.0 framing as dcrd speaks it over its websocket.
//
// dcrd marshals replies with dcrjson.MarshalResponse → {"jsonrpc":"1.0",
// "result":…, "error":{code,message}|null, "id":<echoed>} and notifications
// with dcrjson.MarshalCmd("1.0", nil, ntfn) → {"jsonrpc":"1.0","method":…,
// "params":[…],"id":null} (dcrd dcrjson, internal/rpcserver/rpcwebsocket.go).

import { describe, isPlainObject } from './hex.js';
import { errorMessage } from '../errors.js';

export interface RpcErrorObject {
  code: number;
  message: string;
}

export type Frame =
  | { type: 'response'; id: number; result: unknown; error: RpcErrorObject | null }
  | { type: 'notification'; method: string; params: unknown[] }
  | { type: 'malformed'; reason: string; method?: string };

/** An error object returned by dcrd for one request. */
export class DcrdRpcError extends Error {
  override readonly name = 'DcrdRpcError';
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
  ) {
    super(`dcrd ${method} failed (code ${code}): ${rpcMessage}`);
  }
}

/**
 * Longest error message or method name kept from a frame. dcrd's own are a
 * few dozen characters; a peer's megabyte of text must not travel on into
 * errors, log lines and metric labels.
 */
export const MAX_PEER_TEXT = 256;

/** A peer's string cut to MAX_PEER_TEXT characters. */
export function peerText(text: string): string {
  return text.length > MAX_PEER_TEXT ? `${text.slice(0, MAX_PEER_TEXT)}…` : text;
}

/** dcrjson ErrRPCBlockNotFound / ErrRPCNoTxInfo share code -5. */
export const RPC_CODE_NOT_FOUND = -5;
/** dcrjson ErrRPCInvalidParameter. */
export const RPC_CODE_INVALID_PARAMETER = -8;

export function classifyFrame(text: string): Frame {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return { type: 'malformed', reason: `invalid JSON: ${errorMessage(err)}` };
  }
  if (!isPlainObject(msg)) return { type: 'malformed', reason: `message is ${describe(msg)}, not an object` };

  const id = msg['id'];
  const method = msg['method'];
  if (id === null || id === undefined) {
    if (typeof method !== 'string' || method.length === 0) {
      return { type: 'malformed', reason: 'message has neither an id nor a method' };
    }
    const params = msg['params'];
    if (!Array.isArray(params)) {
      return { type: 'malformed', method: peerText(method), reason: `params is ${describe(params)}, not an array` };
    }
    return { type: 'notification', method, params };
  }

  // We only ever send positive integer ids.
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return { type: 'malformed', reason: `response id ${describe(id)} is not one we could have sent` };
  }
  const error = msg['error'];
  if (error === null || error === undefined) {
    return { type: 'response', id, result: msg['result'] ?? null, error: null };
  }
  if (!isPlainObject(error) || typeof error['code'] !== 'number' || typeof error['message'] !== 'string') {
    return { type: 'malformed', reason: `response ${id} has an unreadable error ${describe(error)}` };
  }
  return { type: 'response', id, result: null, error: { code: error['code'], message: peerText(error['message']) } };
}
