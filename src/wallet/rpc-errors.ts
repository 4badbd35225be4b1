// Errors from the wallet client: WalletRpcError and the translation of
// grpc-js failures into it.
//
// - Errors come out as WalletRpcError with a `kind` the supervisor can act on
//   and a message an operator can act on. grpc-js reports connection failures
//   as UNAVAILABLE with racy, loosely worded details, so on UNAVAILABLE we run
//   one plain TLS handshake with the same credentials (tls-diagnosis.ts) to
//   tell "wallet down" from "wallet refuses our certificate" from "we do not
//   trust the wallet's certificate".
// - No secret (passphrase, dcrd password, client key) is ever put into an
//   error: server details are redacted for calls that carried one.
import * as grpc from '@grpc/grpc-js';
import { diagnoseTls } from './tls-diagnosis.js';
import { oneLine } from './wire.js';

export type WalletRpcErrorKind =
  /** No connection: refused, reset, timed out connecting, wrong port. */
  | 'unreachable'
  /** The wallet refused our client certificate (not in its clients.pem). */
  | 'tls_rejected'
  /** We refused the wallet's certificate (caCert is not the wallet's rpc.cert, or wrong host name). */
  | 'tls_untrusted'
  /** UnlockWallet/OpenWallet/RpcSync/SignTransaction: the wallet rejected a passphrase (InvalidArgument). */
  | 'wrong_passphrase'
  /** NotFound: e.g. GetTicket for a ticket that is not the wallet's. */
  | 'not_found'
  /** The wallet answered Unavailable itself (e.g. no peers). */
  | 'unavailable'
  /** FailedPrecondition: service not ready (wallet not opened), already syncing, locked. */
  | 'failed_precondition'
  /** InvalidArgument other than a passphrase: unknown agenda/choice, bad hash, bad policy. */
  | 'invalid_argument'
  /** Connected, but no answer within callTimeoutMs. */
  | 'deadline'
  | 'other';

export class WalletRpcError extends Error {
  override readonly name = 'WalletRpcError';
  constructor(
    message: string,
    readonly kind: WalletRpcErrorKind,
    /** gRPC status code, null when the failure was diagnosed below gRPC. */
    readonly code: grpc.status | null,
    /** gRPC method, e.g. 'WalletService.UnlockWallet'. */
    readonly method: string,
    readonly wallet: string,
    readonly address: string,
  ) {
    super(message);
  }
}

/** File paths, only to make error messages point at the right files. */
export interface WalletErrorHints {
  caCertPath?: string;
  clientCertPath?: string;
  passphraseFile?: string;
  publicPassphraseFile?: string;
}

/**
 * What translation needs from the client whose call failed: names for the
 * message, the channel's own TLS credentials for the diagnosis, and access to
 * the channel for a deadline that passed.
 */
export interface RpcErrorContext {
  /** Wallet name from the config. */
  name: string;
  address: string;
  callTimeoutMs: number;
  caCert: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  serverNameOverride?: string | undefined;
  hints?: WalletErrorHints | undefined;
  /** The channel's connectivity state, read without triggering a connection attempt. */
  channelState(): grpc.connectivityState;
  /** Replace the channel (after a hang); calls already in flight finish on the old one. */
  recycleChannel(): void;
}

/**
 * Server error text with every secret the request carried taken out. The
 * wallet's messages are fixed strings today, but a secret must not reach an
 * error even if one day it echoes input. Secrets too short to redact safely
 * drop the details altogether.
 */
export function redact(text: string, secrets: readonly Buffer[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    if (secret.length < 4) return '';
    const plain = secret.toString('utf8');
    out = out.split(plain).join('[redacted]');
    out = oneLine(out).split(oneLine(plain)).join('[redacted]');
  }
  return oneLine(out);
}

function error(
  ctx: RpcErrorContext,
  message: string,
  kind: WalletRpcErrorKind,
  code: grpc.status | null,
  method: string,
): WalletRpcError {
  return new WalletRpcError(message, kind, code, method, ctx.name, ctx.address);
}

/** Turn a grpc-js error into a WalletRpcError with an operator-actionable message. */
export async function translateRpcError(
  ctx: RpcErrorContext,
  err: grpc.ServiceError | Error,
  method: string,
  secrets: readonly Buffer[] = [],
): Promise<WalletRpcError> {
  const code = 'code' in err && typeof err.code === 'number' ? (err.code as grpc.status) : grpc.status.UNKNOWN;
  const rawDetails = 'details' in err && typeof err.details === 'string' ? err.details : err.message;
  const details = redact(rawDetails, secrets);
  const who = `wallet ${ctx.name} at ${ctx.address}`;
  const hints = ctx.hints ?? {};
  const withPath = (key: string, path?: string): string => (path ? `${key} (${path})` : key);

  switch (code) {
    case grpc.status.UNAVAILABLE:
      return diagnoseUnavailable(ctx, code, method, details);
    case grpc.status.DEADLINE_EXCEEDED: {
      const state = ctx.channelState();
      if (state !== grpc.connectivityState.READY) {
        // Never got a connection within the deadline (SYN dropped, host down).
        return error(
          ctx,
          `${who} is unreachable: no connection within ${ctx.callTimeoutMs} ms; check that dcrwallet is running and wallets[].grpcAddress`,
          'unreachable',
          code,
          method,
        );
      }
      // A hung connection (wallet killed without FIN) looks the same as a
      // slow wallet; start from a fresh channel next time either way.
      ctx.recycleChannel();
      return error(
        ctx,
        `${who} did not answer ${method} within ${ctx.callTimeoutMs} ms: the wallet may be busy (rescan) or hung; raise wallets[].callTimeoutMs if it is just slow`,
        'deadline',
        code,
        method,
      );
    }
    case grpc.status.INVALID_ARGUMENT:
      if (method === 'WalletService.UnlockWallet' || method === 'WalletLoaderService.RpcSync') {
        return error(
          ctx,
          `${who} rejected the private passphrase (${method}): check the file in ${withPath('wallets[].passphraseFile', hints.passphraseFile)}`,
          'wrong_passphrase',
          code,
          method,
        );
      }
      // A call that carried the passphrase for one operation (dcrwallet's
      // errors.Passphrase): the wallet is now locked if it was unlocked.
      if (method === 'WalletService.SignTransaction' && /passphrase/i.test(details)) {
        return error(
          ctx,
          `${who} rejected the private passphrase sent with ${method}: check the file in ${withPath('wallets[].passphraseFile', hints.passphraseFile)}`,
          'wrong_passphrase',
          code,
          method,
        );
      }
      if (method === 'WalletService.UnlockAccount') {
        return error(ctx, `${who} rejected the account passphrase (${method}): check the file in wallets[].accountPassphraseFiles`, 'wrong_passphrase', code, method);
      }
      if (method === 'WalletLoaderService.OpenWallet') {
        return error(
          ctx,
          `${who} rejected the public passphrase (${method}): check the file in ${withPath('wallets[].managed.publicPassphraseFile', hints.publicPassphraseFile)}`,
          'wrong_passphrase',
          code,
          method,
        );
      }
      return error(ctx, `${who} refused ${method} as invalid: ${details}`, 'invalid_argument', code, method);
    case grpc.status.NOT_FOUND:
      return error(ctx, `${who}: ${method} found nothing${details ? `: ${details}` : ''}`, 'not_found', code, method);
    case grpc.status.FAILED_PRECONDITION:
      // ServiceReady() answers "service walletrpc.X is not ready" until a
      // wallet is open; RpcSync answers "already synchronizing".
      return error(
        ctx,
        /not ready/.test(details)
          ? `${who} is not ready for ${method} (${details}): no wallet is open yet; a wallet started with --noinitialload is opened by dcrvoted when wallets[].mode = managed`
          : `${who} refused ${method}${details ? `: ${details}` : ''}`,
        'failed_precondition',
        code,
        method,
      );
    default:
      return error(
        ctx,
        `${who}: ${method} failed with ${grpc.status[code] ?? code}${details ? `: ${details}` : ''}`,
        'other',
        code,
        method,
      );
  }
}

async function diagnoseUnavailable(
  ctx: RpcErrorContext,
  code: grpc.status,
  method: string,
  details: string,
): Promise<WalletRpcError> {
  const who = `wallet ${ctx.name} at ${ctx.address}`;
  const hints = ctx.hints ?? {};
  const verdict = await diagnoseTls({
    address: ctx.address,
    caCert: ctx.caCert,
    ...(ctx.clientCert.length > 0 && ctx.clientKey.length > 0
      ? { clientCert: ctx.clientCert, clientKey: ctx.clientKey }
      : {}),
    ...(ctx.serverNameOverride !== undefined ? { serverName: ctx.serverNameOverride } : {}),
    timeoutMs: Math.min(ctx.callTimeoutMs, 3000),
  });
  switch (verdict.verdict) {
    case 'rejected':
      return error(
        ctx,
        `${who} rejected our client certificate (${verdict.detail}): append the certificate from ${
          hints.clientCertPath ? `wallets[].clientCert (${hints.clientCertPath})` : 'wallets[].clientCert'
        } to the wallet's clients.pem (or its --clientcafile) and restart the wallet`,
        'tls_rejected',
        code,
        method,
      );
    case 'untrusted':
      return error(
        ctx,
        `${who} presented a TLS certificate we do not trust (${verdict.detail}): set ${
          hints.caCertPath ? `wallets[].caCert (${hints.caCertPath})` : 'wallets[].caCert'
        } to the wallet's rpc.cert, and use an address the certificate names`,
        'tls_untrusted',
        code,
        method,
      );
    case 'unreachable':
      return error(
        ctx,
        `${who} is unreachable (${verdict.detail}): check that dcrwallet is running and that wallets[].grpcAddress is its gRPC listener`,
        'unreachable',
        code,
        method,
      );
    case 'ok': {
      if (verdict.alpn !== 'h2') {
        return error(
          ctx,
          `${who} speaks TLS but not gRPC (no HTTP/2): is wallets[].grpcAddress the wallet's gRPC port (9111 / 19111 / 19558) rather than its JSON-RPC port?`,
          'unreachable',
          code,
          method,
        );
      }
      // TLS is fine. Either the connection dropped mid-call (wallet
      // restarting) or the wallet itself answered Unavailable.
      const connectionLevel = /No connection established|Connection dropped|Failed to connect|ECONN|EPIPE|Socket closed|Connection closed|GOAWAY|RST_STREAM/i.test(details);
      if (connectionLevel) {
        return error(
          ctx,
          `${who} dropped the connection during ${method}; it may be restarting`,
          'unreachable',
          code,
          method,
        );
      }
      return error(
        ctx,
        `${who} is unavailable for ${method}${details ? `: ${details}` : ''}`,
        'unavailable',
        code,
        method,
      );
    }
  }
}

/**
 * Anything but a wallet-side refusal means the wallet (or the path to it)
 * is gone: set everything up again once it answers.
 */
export function isConnectivityError(err: unknown): boolean {
  if (!(err instanceof WalletRpcError)) return true;
  return ['unreachable', 'unavailable', 'deadline', 'tls_rejected', 'tls_untrusted'].includes(err.kind);
}
