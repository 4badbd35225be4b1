// Wallet status over dcrwallet's JSON-RPC `walletinfo`.
//
// gRPC has no call for "is the wallet unlocked / voting / connected to dcrd",
// so this one JSON-RPC POST is the authoritative source for those facts.
//
// Facts (dcrwallet v5.1.0):
// - Result fields and JSON names: rpc/jsonrpc/types/results.go
//   WalletInfoResult (daemonconnected, spv, unlocked, cointype, txfee,
//   votebits, votebitsextended, voteversion, voting, vsp, manualtickets,
//   birthhash, birthheight).
// - `voting` is the wallet's --enablevoting setting; `daemonconnected` is a
//   live ping of dcrd (RPC mode) or "has peers" (SPV); `unlocked` is !Locked()
//   (internal/rpc/jsonrpc/methods.go walletInfo).
// - No wallet loaded yet (--noinitialload before OpenWallet): JSON-RPC error
//   code -4 (ErrRPCWallet) "request requires a wallet but wallet has not
//   loaded yet" (internal/rpc/jsonrpc/errors.go errUnloadedWallet).
// - Auth (rpcserver.go startRPCServers, internal/rpc/jsonrpc/server.go):
//   --jsonrpcauthtype=basic (default) checks the Authorization header and
//   answers a bad or missing one with HTTP 401; --jsonrpcauthtype=clientcert
//   makes the JSON-RPC TLS listener require a client certificate signed by a
//   CA in clients.pem (tls.RequireAndVerifyClientCert) and then checks no
//   header at all. Too many concurrent POST clients: HTTP 429.
import * as https from 'node:https';
import { UNTRUSTED_TLS_CODES } from './tls-diagnosis.js';

export interface WalletStatus {
  unlocked: boolean;
  /** The wallet process votes (--enablevoting). */
  voting: boolean;
  daemonConnected: boolean;
  voteVersion: number;
  /** The wallet syncs over SPV (it then cannot see winning tickets the way RPC mode does). */
  spv: boolean;
}

export type StatusProbeErrorKind =
  | 'unreachable'
  | 'timeout'
  /** The wallet refused our client certificate (clientcert auth). */
  | 'tls_rejected'
  /** We do not trust the wallet's certificate. */
  | 'tls_untrusted'
  /** HTTP 401: wrong user/password. */
  | 'auth_failed'
  /** JSON-RPC error object, e.g. -4 when no wallet is loaded yet. */
  | 'rpc_error'
  | 'bad_response';

export class StatusProbeError extends Error {
  override readonly name = 'StatusProbeError';
  constructor(
    message: string,
    readonly kind: StatusProbeErrorKind,
    readonly wallet: string,
    readonly address: string,
    readonly httpStatus: number | null = null,
    readonly rpcCode: number | null = null,
  ) {
    super(message);
  }
}

export type StatusProbeAuth =
  | { type: 'basic'; user: string; password: Buffer }
  | { type: 'clientcert'; cert: Buffer; key: Buffer };

export interface StatusProbeOptions {
  name: string;
  /** host:port of the wallet's JSON-RPC listener (9110 / 19110 / 19557 by default). */
  address: string;
  /** The wallet's rpc.cert, PEM. */
  caCert: Buffer;
  auth: StatusProbeAuth;
  /** Whole-request timeout. Default 5000. */
  timeoutMs?: number;
  serverNameOverride?: string;
}

/**
 * Largest walletinfo answer read: 64 KiB. A real one is a few hundred
 * bytes; a longer body is refused (bad_response) and its socket destroyed
 * rather than buffered to the end.
 */
export const WALLETINFO_MAX_BYTES = 64 * 1024;

/** Longest error text kept from the wallet's answer. */
const MAX_WALLET_TEXT = 256;

/** JSON-RPC error code dcrwallet uses when no wallet is loaded (dcrjson ErrRPCWallet). */
export const RPC_ERR_WALLET = -4;

export class StatusProbe {
  readonly #opts: StatusProbeOptions;
  readonly #timeoutMs: number;
  #nextId = 1;
  #closed = false;
  /** Requests in flight, so close() can end them. */
  readonly #inFlight = new Set<{ abort(): void }>();

  constructor(opts: StatusProbeOptions) {
    this.#opts = opts;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
  }

  /**
   * End every request in flight (each fails as unreachable) and refuse new
   * ones: a wallet that accepts and never answers must not hold up a
   * shutdown for the request timeout.
   */
  close(): void {
    this.#closed = true;
    for (const r of [...this.#inFlight]) r.abort();
  }

  async walletInfo(): Promise<WalletStatus> {
    const result = await this.#call('walletinfo', []);
    return parseWalletInfo(result, (msg) => this.#fail(msg, 'bad_response'));
  }

  #fail(msg: string, kind: StatusProbeErrorKind, httpStatus: number | null = null, rpcCode: number | null = null): StatusProbeError {
    return new StatusProbeError(msg, kind, this.#opts.name, this.#opts.address, httpStatus, rpcCode);
  }

  #call(method: string, params: unknown[]): Promise<unknown> {
    const { host, port } = splitAddress(this.#opts.address);
    const who = `wallet ${this.#opts.name} JSON-RPC at ${this.#opts.address}`;
    const body = JSON.stringify({ jsonrpc: '1.0', id: this.#nextId++, method, params });
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    };
    const auth = this.#opts.auth;
    if (auth.type === 'basic') {
      // Built from the Buffer without logging; lives only in this request.
      headers['Authorization'] =
        'Basic ' + Buffer.concat([Buffer.from(`${auth.user}:`, 'utf8'), auth.password]).toString('base64');
    }
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(this.#fail(`${who}: the probe is closed (dcrvoted is stopping)`, 'unreachable'));
        return;
      }
      let handshakeDone = false;
      let done = false;
      const settle = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#inFlight.delete(handle);
        // Whatever the answer held, a throw here would escape an event
        // handler and end the process: it becomes this call's error.
        try {
          fn();
        } catch (err) {
          reject(this.#fail(`${who} sent a reply that could not be read: ${String((err as Error)?.message).slice(0, MAX_WALLET_TEXT)}`, 'bad_response'));
        }
      };
      const handle = {
        abort: () => {
          settle(() => reject(this.#fail(`${who}: walletinfo cancelled (dcrvoted is stopping)`, 'unreachable')));
          req.destroy();
        },
      };
      const req = https.request({
        host,
        port,
        method: 'POST',
        path: '/',
        headers,
        ca: this.#opts.caCert,
        agent: false,
        ...(auth.type === 'clientcert' ? { cert: auth.cert, key: auth.key } : {}),
        ...(this.#opts.serverNameOverride ? { servername: this.#opts.serverNameOverride } : {}),
      });
      this.#inFlight.add(handle);
      const timer = setTimeout(() => {
        settle(() =>
          reject(
            this.#fail(
              `${who} did not answer walletinfo within ${this.#timeoutMs} ms: check that dcrwallet is running and wallets[].jsonrpc.address`,
              'timeout',
            ),
          ),
        );
        req.destroy();
      }, this.#timeoutMs);
      req.on('socket', (s) => s.once('secureConnect', () => (handshakeDone = true)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        settle(() => reject(this.#classifyNetworkError(err, handshakeDone, who)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received <= WALLETINFO_MAX_BYTES) {
            chunks.push(c);
            return;
          }
          settle(() =>
            reject(this.#fail(`${who} sent more than ${WALLETINFO_MAX_BYTES} bytes for ${method}; refused (a real answer is a few hundred)`, 'bad_response', res.statusCode ?? null)),
          );
          req.destroy();
        });
        res.on('error', (err: NodeJS.ErrnoException) => settle(() => reject(this.#classifyNetworkError(err, true, who))));
        res.on('end', () => {
          settle(() => {
            const status = res.statusCode ?? 0;
            if (status === 401) {
              reject(
                this.#fail(
                  `${who} rejected our credentials (HTTP 401): check wallets[].jsonrpc.user and the password in wallets[].jsonrpc.passwordFile against the wallet's --username/--password`,
                  'auth_failed',
                  status,
                ),
              );
              return;
            }
            const text = Buffer.concat(chunks).toString('utf8');
            if (status !== 200) {
              reject(this.#fail(`${who} answered HTTP ${status}${status === 429 ? ' (too many JSON-RPC clients)' : ''}`, 'bad_response', status));
              return;
            }
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(this.#fail(`${who} sent a reply that is not JSON`, 'bad_response', status));
              return;
            }
            if (typeof parsed !== 'object' || parsed === null) {
              reject(this.#fail(`${who} sent a malformed JSON-RPC reply`, 'bad_response', status));
              return;
            }
            const rpcErr = (parsed as { error?: unknown }).error;
            if (rpcErr !== null && rpcErr !== undefined) {
              const code = typeof (rpcErr as { code?: unknown }).code === 'number' ? (rpcErr as { code: number }).code : null;
              // String() of a deeply nested array recurses and overflows the
              // stack: take the message only when it is a string.
              const raw = (rpcErr as { message?: unknown }).message;
              const message = typeof raw === 'string' ? raw.slice(0, MAX_WALLET_TEXT) : 'unknown error';
              const hint = code === RPC_ERR_WALLET ? ' (no wallet is open yet: managed mode opens it over gRPC)' : '';
              reject(this.#fail(`${who}: ${method} failed: ${message} (code ${code ?? '?'})${hint}`, 'rpc_error', status, code));
              return;
            }
            resolve((parsed as { result?: unknown }).result);
          });
        });
      });
      req.end(body);
    });
  }

  #classifyNetworkError(err: NodeJS.ErrnoException, handshakeDone: boolean, who: string): StatusProbeError {
    const code = err.code ?? '';
    if (UNTRUSTED_TLS_CODES.has(code)) {
      return this.#fail(
        `${who} presented a TLS certificate we do not trust (${code}): set wallets[].caCert to the wallet's rpc.cert`,
        'tls_untrusted',
      );
    }
    const alert = /ALERT/.test(code) || /alert/i.test(err.message);
    // A server that refuses a client certificate either sends a TLS alert or,
    // with TLS 1.3, hangs up right after the handshake.
    if (alert || (handshakeDone && this.#opts.auth.type === 'clientcert' && /ECONNRESET|socket hang up/i.test(`${code} ${err.message}`))) {
      return this.#fail(
        this.#opts.auth.type === 'clientcert'
          ? `${who} rejected our client certificate: append the certificate from wallets[].clientCert to the wallet's clients.pem and restart the wallet (it must run with --jsonrpcauthtype=clientcert)`
          : `${who} refused the TLS connection (${code || 'alert'}): if the wallet runs with --jsonrpcauthtype=clientcert set wallets[].jsonrpc.auth = clientcert`,
        'tls_rejected',
      );
    }
    return this.#fail(
      `${who} is unreachable (${code || err.message}): check that dcrwallet is running with JSON-RPC enabled and wallets[].jsonrpc.address`,
      'unreachable',
    );
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m || m[1] === undefined || m[2] === undefined) {
    throw new TypeError(`address must be host:port (or [ipv6]:port), got ${JSON.stringify(address)}`);
  }
  return { host: m[1], port: Number(m[2]) };
}

/** Validate the walletinfo result shape (exported for unit tests). */
export function parseWalletInfo(result: unknown, fail: (msg: string) => Error): WalletStatus {
  if (typeof result !== 'object' || result === null) throw fail('walletinfo returned no result object');
  const r = result as Record<string, unknown>;
  const bool = (k: string): boolean => {
    const v = r[k];
    if (typeof v !== 'boolean') throw fail(`walletinfo field ${k} missing or not a boolean`);
    return v;
  };
  const voteVersion = r['voteversion'];
  if (typeof voteVersion !== 'number' || !Number.isInteger(voteVersion)) {
    throw fail('walletinfo field voteversion missing or not an integer');
  }
  return {
    unlocked: bool('unlocked'),
    voting: bool('voting'),
    daemonConnected: bool('daemonconnected'),
    voteVersion,
    spv: typeof r['spv'] === 'boolean' ? r['spv'] : false,
  };
}
