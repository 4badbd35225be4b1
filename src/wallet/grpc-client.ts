// Typed client for the slice of dcrwallet's gRPC API that dcrvoted uses.
//
// Why it looks the way it does:
// - One grpc-js channel per wallet, every service on it, calls made through
//   the generic makeUnaryRequest with the method definitions proto-loader
//   builds from proto/walletrpc.proto: no generated code, one place to check
//   against the wallet's rpc/api.proto.
// - Every unary call carries a deadline (callTimeoutMs). Only the RpcSync
//   stream has none: it lives as long as the wallet syncs and is ended with
//   cancel().
// - Errors come out as WalletRpcError with a `kind` the supervisor can act on
//   and a message an operator can act on. grpc-js reports connection failures
//   as UNAVAILABLE with racy, loosely worded details (a client certificate the
//   wallet refuses shows up either as a TLS alert or as a bare "Failed to
//   connect", depending on timing and on the server's TLS stack), so on
//   UNAVAILABLE we run one plain TLS handshake with the same credentials to
//   tell "wallet down" from "wallet refuses our certificate" from "we do not
//   trust the wallet's certificate".
// - Hashes cross this boundary as hex in display (RPC) order; on the wire they
//   are bytes in the wallet's internal order, i.e. reversed.
// - Nothing here logs, and no secret (passphrase, dcrd password, client key)
//   is ever put into an error: server details are dropped for calls that
//   carried one.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { BlockRef, NetworkName, TreasuryChoice } from '../domain.js';

// ---------------------------------------------------------------------------
// Network ids: wire.CurrencyNet values from dcrd wire/protocol.go; the wallet
// returns uint32(chainParams.Net) from WalletService.Network
// (dcrwallet internal/rpc/rpcserver/server.go, walletServer.Network).

export const NET_IDS: Readonly<Record<NetworkName, number>> = {
  mainnet: 0xd9b400f9,
  testnet: 0xb194aa75,
  simnet: 0x12141c16,
};

/** Map a wire.CurrencyNet value to our network name ('unknown' for regnet and others). */
export function networkFromId(id: number): NetworkName | 'unknown' {
  for (const [name, value] of Object.entries(NET_IDS) as [NetworkName, number][]) {
    if (value === id) return name;
  }
  return 'unknown';
}

// ---------------------------------------------------------------------------
// Hash byte order.

const HASH_HEX = /^[0-9a-fA-F]{64}$/;

/** Display-order hex (as dcrd JSON-RPC prints it) → wire bytes (internal order). */
export function hashHexToWire(hex: string, what = 'hash'): Buffer {
  if (!HASH_HEX.test(hex)) {
    throw new TypeError(`${what} must be 64 hex characters, got ${JSON.stringify(hex.slice(0, 80))}`);
  }
  return Buffer.from(hex, 'hex').reverse();
}

/** Wire bytes (internal order) → display-order hex; '' for an empty field. */
export function wireHashToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString('hex');
}

// ---------------------------------------------------------------------------
// Public types.

export type WalletRpcErrorKind =
  /** No connection: refused, reset, timed out connecting, wrong port. */
  | 'unreachable'
  /** The wallet refused our client certificate (not in its clients.pem). */
  | 'tls_rejected'
  /** We refused the wallet's certificate (caCert is not the wallet's rpc.cert, or wrong host name). */
  | 'tls_untrusted'
  /** UnlockWallet/OpenWallet/RpcSync: the wallet rejected a passphrase (InvalidArgument). */
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

export interface WalletClientOptions {
  /** Wallet name from the config, used in every error message. */
  name: string;
  /** host:port of the wallet's gRPC listener ([v6addr]:port for IPv6). */
  address: string;
  /** The wallet's rpc.cert (or the CA that signed it), PEM. */
  caCert: Buffer;
  /** dcrvoted's client certificate, PEM; must be in the wallet's clients.pem. */
  clientCert: Buffer;
  /** dcrvoted's client key, PEM. */
  clientKey: Buffer;
  /** Deadline for each unary call. Default 5000. */
  callTimeoutMs?: number;
  /** TLS server name to verify instead of the host in `address`. */
  serverNameOverride?: string;
  /** File paths, only to make error messages point at the right files. */
  hints?: {
    caCertPath?: string;
    clientCertPath?: string;
    passphraseFile?: string;
    publicPassphraseFile?: string;
  };
  /** Override the location of walletrpc.proto (tests, unusual layouts). */
  protoPath?: string;
}

export interface WalletVersion {
  versionString: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  buildMetadata: string;
}

export interface NetworkInfo {
  name: NetworkName | 'unknown';
  /** Raw wire.CurrencyNet value. */
  netId: number;
}

export interface StakeInfo {
  poolSize: number;
  allMempoolTix: number;
  ownMempoolTix: number;
  immature: number;
  /** Live tickets (precise when the wallet syncs over RPC). */
  live: number;
  /** Unspent tickets (live + immature + unmined + missed-not-revoked …, as the wallet counts). */
  unspent: number;
  voted: number;
  missed: number;
  revoked: number;
  expired: number;
  /** Total vote subsidy earned, in atoms. */
  totalSubsidy: number;
}

/** GetTicketsResponse.TicketDetails.TicketStatus names. */
export type TicketStatus =
  | 'UNKNOWN'
  | 'UNMINED'
  | 'IMMATURE'
  | 'LIVE'
  | 'VOTED'
  | 'MISSED'
  | 'EXPIRED'
  | 'REVOKED';

export type TxType = 'REGULAR' | 'TICKET_PURCHASE' | 'VOTE' | 'REVOCATION' | 'COINBASE';

export interface TicketInfo {
  hash: string;
  status: TicketStatus;
  /** Hash of the vote or revocation spending the ticket, if the wallet knows one. */
  spenderHash: string | null;
  spenderType: TxType | null;
  /** Block the ticket was mined in; null while unmined. */
  blockHash: string | null;
  blockHeight: number | null;
  /** VSP the ticket is registered with ('' for solo tickets). */
  vspHost: string;
}

export interface AgendaChoice {
  id: string;
  description: string;
  bits: number;
  isAbstain: boolean;
  isNo: boolean;
}

export interface Agenda {
  id: string;
  description: string;
  mask: number;
  choices: AgendaChoice[];
  /** Unix seconds. */
  startTime: number;
  expireTime: number;
}

export interface AgendasResult {
  version: number;
  agendas: Agenda[];
}

export interface VoteChoice {
  agendaId: string;
  agendaDescription: string;
  choiceId: string;
  choiceDescription: string;
}

export interface VoteChoicesResult {
  version: number;
  choices: VoteChoice[];
  voteBits: number;
}

export interface TreasuryKeyPolicy {
  /** 33-byte compressed public key, hex (keys are not byte-reversed). */
  key: string;
  policy: TreasuryChoice;
  /** Set for per-ticket (VSP) policies; null for wallet-wide ones. */
  ticketHash: string | null;
}

export interface TSpendPolicy {
  hash: string;
  policy: TreasuryChoice;
  ticketHash: string | null;
}

export interface RpcSyncOptions {
  /** dcrd host:port as the wallet should dial it. */
  networkAddress: string;
  username: string;
  password: Buffer;
  /** dcrd's rpc.cert, PEM. */
  certificate: Buffer;
  discoverAccounts?: boolean;
  /** Required by the wallet when discoverAccounts is true. */
  privatePassphrase?: Buffer;
}

export type SyncNotificationType =
  | 'SYNCED'
  | 'UNSYNCED'
  | 'PEER_CONNECTED'
  | 'PEER_DISCONNECTED'
  | 'FETCHED_MISSING_CFILTERS_STARTED'
  | 'FETCHED_MISSING_CFILTERS_PROGRESS'
  | 'FETCHED_MISSING_CFILTERS_FINISHED'
  | 'FETCHED_HEADERS_STARTED'
  | 'FETCHED_HEADERS_PROGRESS'
  | 'FETCHED_HEADERS_FINISHED'
  | 'DISCOVER_ADDRESSES_STARTED'
  | 'DISCOVER_ADDRESSES_FINISHED'
  | 'RESCAN_STARTED'
  | 'RESCAN_PROGRESS'
  | 'RESCAN_FINISHED';

// ---------------------------------------------------------------------------
// Raw message shapes as proto-loader decodes them (keepCase, defaults,
// longs as String, enums as String, bytes as Buffer).

interface RawTx {
  hash: Buffer;
  transaction: Buffer;
  transaction_type: TxType;
}
interface RawGetTicketsResponse {
  ticket: { ticket: RawTx | null; spender: RawTx | null; ticket_status: TicketStatus } | null;
  block: { hash: Buffer; height: number; timestamp: string } | null;
  vsp_host: string;
}
interface RawRpcSyncResponse {
  synced: boolean;
  notification_type: SyncNotificationType;
}
type Raw = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Proto loading (once per process).

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: false,
};

const definitions = new Map<string, protoLoader.PackageDefinition>();

/** Find proto/walletrpc.proto from src/wallet (tsx, vitest) or dist/src/wallet (built). */
function locateProto(): string {
  for (const rel of ['../../proto/walletrpc.proto', '../../../proto/walletrpc.proto']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('proto/walletrpc.proto not found next to the dcrvoted installation');
}

function loadDefinition(protoPath?: string): protoLoader.PackageDefinition {
  const path = protoPath ?? locateProto();
  let def = definitions.get(path);
  if (!def) {
    def = protoLoader.loadSync(path, LOADER_OPTIONS);
    definitions.set(path, def);
  }
  return def;
}

function methodDef(
  def: protoLoader.PackageDefinition,
  service: string,
  method: string,
): protoLoader.MethodDefinition<object, object> {
  const svc = def[`walletrpc.${service}`] as protoLoader.ServiceDefinition | undefined;
  const m = svc?.[method];
  if (!m) throw new Error(`walletrpc.${service}/${method} missing from walletrpc.proto`);
  return m as protoLoader.MethodDefinition<object, object>;
}

// ---------------------------------------------------------------------------
// Small conversions.

function toSafeNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer out of range: ${String(v)}`);
  return n;
}

/**
 * Agenda times are Unix seconds, but "never expires" is math.MaxInt64
 * (dcrd chaincfg), far past any safe JS integer: clamp instead of failing.
 */
function toUnixSeconds(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`not a time: ${String(v)}`);
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

function policyFromWire(p: string): TreasuryChoice {
  // The wallet reports an abstaining (or unset) policy as '' in list replies
  // and as 'abstain' for a single tspend (server.go TSpendPolicies).
  if (p === 'yes' || p === 'no') return p;
  return 'abstain';
}

/**
 * An optional ticket_hash request field. Left out entirely when absent:
 * protobufjs would encode an empty Buffer as a present zero-length field, and
 * dcrwallet's SetTSpendPolicy handler tests `req.TicketHash != nil` before
 * checking the length, so "present but empty" is an InvalidArgument there
 * (internal/rpc/rpcserver/server.go).
 */
function ticketField(ticketHash: string | undefined): { ticket_hash?: Buffer } {
  return ticketHash ? { ticket_hash: hashHexToWire(ticketHash, 'ticket hash') } : {};
}

function optionalHash(b: Buffer | undefined): string | null {
  return b && b.length > 0 ? wireHashToHex(b) : null;
}

/** Collapse dcrwallet's multi-line error text (":\n\t" separators) to one line. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
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

// ---------------------------------------------------------------------------
// TLS diagnosis.

type TlsVerdict =
  | { verdict: 'ok'; alpn: string | false | null }
  | { verdict: 'rejected'; detail: string }
  | { verdict: 'untrusted'; detail: string }
  | { verdict: 'unreachable'; detail: string };

// Node's codes for a server certificate we cannot verify.
export const UNTRUSTED_TLS_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Split host:port / [v6]:port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m || m[1] === undefined || m[2] === undefined) {
    throw new TypeError(`address must be host:port (or [ipv6]:port), got ${JSON.stringify(address)}`);
  }
  return { host: m[1], port: Number(m[2]) };
}

/**
 * One TLS handshake with the client's own credentials, then an HTTP/2
 * preface. A gRPC server that accepted us answers with a SETTINGS frame; one
 * that refused our certificate sends an alert (Go, OpenSSL in TLS 1.2) or just
 * hangs up right after the TLS 1.3 handshake (Node's TLS server). Both are
 * "rejected". Errors verifying the server's chain are "untrusted".
 */
export function diagnoseTls(opts: {
  address: string;
  caCert: Buffer;
  clientCert?: Buffer;
  clientKey?: Buffer;
  serverName?: string;
  timeoutMs: number;
}): Promise<TlsVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    let handshakeDone = false;
    let socket: tls.TLSSocket | undefined;
    const finish = (v: TlsVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(v);
    };
    const timer = setTimeout(
      () => finish({ verdict: 'unreachable', detail: `no TLS answer within ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    );
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(opts.address));
    } catch (err) {
      finish({ verdict: 'unreachable', detail: (err as Error).message });
      return;
    }
    const serverName = opts.serverName ?? (isIP(host) ? undefined : host);
    socket = tls.connect({
      host,
      port,
      ca: opts.caCert,
      cert: opts.clientCert,
      key: opts.clientKey,
      ALPNProtocols: ['h2'],
      ...(serverName !== undefined ? { servername: serverName } : {}),
    });
    socket.on('secureConnect', () => {
      handshakeDone = true;
      if (socket?.alpnProtocol !== 'h2') {
        finish({ verdict: 'ok', alpn: socket?.alpnProtocol ?? null });
        return;
      }
      // HTTP/2 client preface + empty SETTINGS frame.
      socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    });
    socket.on('data', () => finish({ verdict: 'ok', alpn: 'h2' }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (UNTRUSTED_TLS_CODES.has(code)) {
        finish({ verdict: 'untrusted', detail: oneLine(err.message) });
      } else if (/ALERT/.test(code) || /alert/i.test(err.message)) {
        finish({ verdict: 'rejected', detail: alertText(err.message) });
      } else if (handshakeDone) {
        finish({ verdict: 'rejected', detail: `the wallet reset the connection right after the TLS handshake, ${code || oneLine(err.message)}` });
      } else {
        finish({ verdict: 'unreachable', detail: code ? `${code} ${oneLine(err.message)}` : oneLine(err.message) });
      }
    });
    socket.on('close', () => {
      finish(
        handshakeDone
          ? { verdict: 'rejected', detail: 'the wallet closed the connection right after the TLS handshake' }
          : { verdict: 'unreachable', detail: 'connection closed during the TLS handshake' },
      );
    });
  });
}

/** "…:tlsv13 alert certificate required:…" → "tlsv13 alert certificate required". */
function alertText(message: string): string {
  const m = /(tlsv1\d? alert [a-z ]+|sslv3 alert [a-z ]+)/i.exec(message);
  return m?.[1] ?? oneLine(message);
}

// ---------------------------------------------------------------------------
// The client.

export class WalletClient {
  readonly name: string;
  readonly address: string;
  readonly callTimeoutMs: number;
  private readonly opts: WalletClientOptions;
  private readonly def: protoLoader.PackageDefinition;
  private readonly credentials: grpc.ChannelCredentials;
  private client: grpc.Client;
  private closed = false;

  constructor(opts: WalletClientOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.address = opts.address;
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    splitHostPort(opts.address); // fail early on a malformed address
    this.def = loadDefinition(opts.protoPath);
    // An empty key/cert means "present none" (the wallet will refuse us; the
    // error then says which file to fix) rather than a TLS setup exception.
    this.credentials = grpc.credentials.createSsl(
      opts.caCert,
      opts.clientKey.length > 0 ? opts.clientKey : null,
      opts.clientCert.length > 0 ? opts.clientCert : null,
    );
    this.client = this.makeClient();
  }

  private makeClient(): grpc.Client {
    const options: grpc.ChannelOptions = {
      // grpc-js backs off up to 120 s between reconnects by default; a wallet
      // that restarts must be usable again within seconds.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2000,
      // dcrwallet sets no keepalive enforcement policy, so grpc-go's default
      // (pings no more often than every 5 minutes, only with calls in flight)
      // applies; pinging more often gets the connection closed (GOAWAY).
      'grpc.keepalive_time_ms': 300_000,
      'grpc.keepalive_timeout_ms': 20_000,
    };
    if (this.opts.serverNameOverride) {
      options['grpc.ssl_target_name_override'] = this.opts.serverNameOverride;
      options['grpc.default_authority'] = this.opts.serverNameOverride;
    }
    return new grpc.Client(this.address, this.credentials, options);
  }

  /** Close the channel. Calls made afterwards fail. */
  close(): void {
    this.closed = true;
    this.client.close();
  }

  // ---- calls ---------------------------------------------------------------

  async version(): Promise<WalletVersion> {
    const r = await this.unary<Raw>('VersionService', 'Version', {});
    return {
      versionString: String(r['version_string']),
      major: Number(r['major']),
      minor: Number(r['minor']),
      patch: Number(r['patch']),
      prerelease: String(r['prerelease']),
      buildMetadata: String(r['build_metadata']),
    };
  }

  async ping(): Promise<void> {
    await this.unary('WalletService', 'Ping', {});
  }

  async networkInfo(): Promise<NetworkInfo> {
    const r = await this.unary<Raw>('WalletService', 'Network', {});
    const netId = Number(r['active_network']);
    return { name: networkFromId(netId), netId };
  }

  async network(): Promise<NetworkName | 'unknown'> {
    return (await this.networkInfo()).name;
  }

  async bestBlock(): Promise<BlockRef> {
    const r = await this.unary<Raw>('WalletService', 'BestBlock', {});
    return { hash: wireHashToHex(r['hash'] as Buffer), height: Number(r['height']) };
  }

  async stakeInfo(): Promise<StakeInfo> {
    const r = await this.unary<Raw>('WalletService', 'StakeInfo', {});
    return {
      poolSize: Number(r['pool_size']),
      allMempoolTix: Number(r['all_mempool_tix']),
      ownMempoolTix: Number(r['own_mempool_tix']),
      immature: Number(r['immature']),
      live: Number(r['live']),
      unspent: Number(r['unspent']),
      voted: Number(r['voted']),
      missed: Number(r['missed']),
      revoked: Number(r['revoked']),
      expired: Number(r['expired']),
      totalSubsidy: toSafeNumber(r['total_subsidy']),
    };
  }

  /** The wallet's view of one ticket; null when the wallet does not know it (NotFound). */
  async getTicket(hashHex: string): Promise<TicketInfo | null> {
    const r = await this.#getTicketRaw(hashHex);
    if (!r) return null;
    const t = r.ticket;
    const spender = t?.spender && t.spender.hash.length > 0 ? t.spender : null;
    return {
      hash: t?.ticket && t.ticket.hash.length > 0 ? wireHashToHex(t.ticket.hash) : hashHex.toLowerCase(),
      status: t?.ticket_status ?? 'UNKNOWN',
      spenderHash: spender ? wireHashToHex(spender.hash) : null,
      spenderType: spender ? spender.transaction_type : null,
      blockHash: r.block && r.block.hash.length > 0 ? wireHashToHex(r.block.hash) : null,
      blockHeight: r.block && r.block.hash.length > 0 ? r.block.height : null,
      vspHost: r.vsp_host,
    };
  }
  /** GetTicket as the wallet answers it; null when the ticket is not the wallet's. */
  async #getTicketRaw(hashHex: string): Promise<RawGetTicketsResponse | null> {
    try {
      return await this.unary<RawGetTicketsResponse>('WalletService', 'GetTicket', { ticket_hash: hashHexToWire(hashHex, 'ticket hash') });
    } catch (err) {
      if (err instanceof WalletRpcError && err.kind === 'not_found') return null;
      throw err;
    }
  }


  /** The passphrase Buffer is sent as is and never copied into errors or logs. */
  async unlockWallet(passphrase: Buffer): Promise<void> {
    await this.unary('WalletService', 'UnlockWallet', { passphrase }, [passphrase]);
  }

  /** The ticket purchase transaction, serialized, if the ticket is the wallet's. */
  async getTicketTx(hashHex: string): Promise<Buffer | null> {
    const tx = (await this.#getTicketRaw(hashHex))?.ticket?.ticket?.transaction;
    return tx && tx.length > 0 ? Buffer.from(tx) : null;
  }

  /**
   * Signs what inputs the wallet can (for a vote: the ticket input; the
   * stakebase needs no signature). The passphrase unlocks the wallet for
   * this call only, so a locked wallet still signs.
   */
  async signTransaction(passphrase: Buffer, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }> {
    const r = await this.unary<{ transaction: Buffer; unsigned_input_indexes: number[] }>(
      'WalletService',
      'SignTransaction',
      { passphrase, serialized_transaction: Buffer.from(tx) },
      [passphrase],
    );
    return { tx: Buffer.from(r.transaction), unsignedInputIndexes: (r.unsigned_input_indexes ?? []).map(Number) };
  }

  /** Publishes through the wallet's own dcrd connection; returns the txid. */
  async publishTransaction(tx: Uint8Array): Promise<string> {
    const r = await this.unary<{ transaction_hash: Buffer }>('WalletService', 'PublishTransaction', { signed_transaction: Buffer.from(tx) });
    return wireHashToHex(r.transaction_hash);
  }

  async lockWallet(): Promise<void> {
    await this.unary('WalletService', 'LockWallet', {});
  }

  async walletExists(): Promise<boolean> {
    const r = await this.unary<Raw>('WalletLoaderService', 'WalletExists', {});
    return r['exists'] === true;
  }

  /**
   * Open the wallet (managed mode, wallet started with --noinitialload).
   * "Already opened" (AlreadyExists, dcrwallet internal/loader/loader.go) is
   * success: alreadyOpen is then true and watchingOnly unknown.
   */
  async openWallet(publicPassphrase?: Buffer): Promise<{ alreadyOpen: boolean; watchingOnly: boolean | null }> {
    try {
      const r = await this.unary<Raw>(
        'WalletLoaderService',
        'OpenWallet',
        publicPassphrase && publicPassphrase.length > 0 ? { public_passphrase: publicPassphrase } : {},
        publicPassphrase ? [publicPassphrase] : [],
      );
      return { alreadyOpen: false, watchingOnly: r['watching_only'] === true };
    } catch (err) {
      if (err instanceof WalletRpcError && err.code === grpc.status.ALREADY_EXISTS) {
        return { alreadyOpen: true, watchingOnly: null };
      }
      throw err;
    }
  }

  /** Start the wallet's RPC sync with dcrd. The stream has no deadline: end it with cancel(). */
  rpcSync(opts: RpcSyncOptions): RpcSyncHandle {
    const method = methodDef(this.def, 'WalletLoaderService', 'RpcSync');
    const request = {
      network_address: opts.networkAddress,
      username: opts.username,
      password: opts.password,
      certificate: opts.certificate,
      discover_accounts: opts.discoverAccounts ?? false,
      ...(opts.privatePassphrase && opts.privatePassphrase.length > 0
        ? { private_passphrase: opts.privatePassphrase }
        : {}),
    };
    const call = this.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      {},
    );
    const secrets = [opts.password, ...(opts.privatePassphrase ? [opts.privatePassphrase] : [])];
    return new RpcSyncHandle(call, (err) => this.translate(err, 'WalletLoaderService.RpcSync', secrets));
  }

  async agendas(): Promise<AgendasResult> {
    const r = await this.unary<Raw>('AgendaService', 'Agendas', {});
    const agendas = (r['agendas'] as Raw[]).map((a) => ({
      id: String(a['id']),
      description: String(a['description']),
      mask: Number(a['mask']),
      choices: (a['choices'] as Raw[]).map((c) => ({
        id: String(c['id']),
        description: String(c['description']),
        bits: Number(c['bits']),
        isAbstain: c['is_abstain'] === true,
        isNo: c['is_no'] === true,
      })),
      startTime: toUnixSeconds(a['start_time']),
      expireTime: toUnixSeconds(a['expire_time']),
    }));
    return { version: Number(r['version']), agendas };
  }

  /** Wallet-wide choices, or one ticket's (NotFound if the ticket is not the wallet's). */
  async voteChoices(ticketHash?: string): Promise<VoteChoicesResult> {
    const r = await this.unary<Raw>('VotingService', 'VoteChoices', ticketField(ticketHash));
    return {
      version: Number(r['version']),
      choices: (r['choices'] as Raw[]).map((c) => ({
        agendaId: String(c['agenda_id']),
        agendaDescription: String(c['agenda_description']),
        choiceId: String(c['choice_id']),
        choiceDescription: String(c['choice_description']),
      })),
      voteBits: Number(r['votebits']),
    };
  }

  /** Set agenda choices; the wallet validates every pair and applies all or none. */
  async setVoteChoices(
    choices: ReadonlyArray<{ agendaId: string; choiceId: string }>,
    ticketHash?: string,
  ): Promise<{ voteBits: number }> {
    const r = await this.unary<Raw>('VotingService', 'SetVoteChoices', {
      choices: choices.map((c) => ({ agenda_id: c.agendaId, choice_id: c.choiceId })),
      ...ticketField(ticketHash),
    });
    return { voteBits: Number(r['votebits']) };
  }

  /** Treasury key policies the wallet stores (abstain is stored as "no entry"). */
  async treasuryPolicies(): Promise<TreasuryKeyPolicy[]> {
    const r = await this.unary<Raw>('VotingService', 'TreasuryPolicies', {});
    return (r['policies'] as Raw[]).map((p) => ({
      key: (p['key'] as Buffer).toString('hex'),
      policy: policyFromWire(String(p['policy'])),
      ticketHash: optionalHash(p['ticket_hash'] as Buffer),
    }));
  }

  async setTreasuryPolicy(keyHex: string, policy: TreasuryChoice, ticketHash?: string): Promise<void> {
    if (!/^[0-9a-fA-F]{66}$/.test(keyHex)) {
      throw new TypeError(`treasury key must be 66 hex characters (33-byte compressed public key), got ${JSON.stringify(keyHex.slice(0, 80))}`);
    }
    await this.unary('VotingService', 'SetTreasuryPolicy', {
      key: Buffer.from(keyHex, 'hex'),
      policy,
      ...ticketField(ticketHash),
    });
  }

  /**
   * TSpend policies. Without a hash the wallet lists only the tspends it has
   * seen (mempool/chain), so a policy set ahead of time for an unseen tspend
   * is not listed: pass its hash to read it back.
   */
  async tspendPolicies(hashHex?: string): Promise<TSpendPolicy[]> {
    const r = await this.unary<Raw>(
      'VotingService',
      'TSpendPolicies',
      hashHex ? { hash: hashHexToWire(hashHex, 'tspend hash') } : {},
    );
    return (r['policies'] as Raw[]).map((p) => ({
      hash: wireHashToHex(p['hash'] as Buffer),
      policy: policyFromWire(String(p['policy'])),
      ticketHash: optionalHash(p['ticket_hash'] as Buffer),
    }));
  }

  async setTSpendPolicy(hashHex: string, policy: TreasuryChoice, ticketHash?: string): Promise<void> {
    await this.unary('VotingService', 'SetTSpendPolicy', {
      hash: hashHexToWire(hashHex, 'tspend hash'),
      policy,
      ...ticketField(ticketHash),
    });
  }

  // ---- plumbing ------------------------------------------------------------

  private unary<T>(service: string, method: string, request: object, secrets: readonly Buffer[] = []): Promise<T> {
    const def = methodDef(this.def, service, method);
    const fullMethod = `${service}.${method}`;
    return new Promise<T>((resolve, reject) => {
      if (this.closed) {
        reject(this.error(`wallet ${this.name} client is closed`, 'other', null, fullMethod));
        return;
      }
      this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + this.callTimeoutMs },
        (err, value) => {
          if (err) {
            this.translate(err, fullMethod, secrets).then(reject, reject);
          } else {
            resolve(value as T);
          }
        },
      );
    });
  }

  private error(message: string, kind: WalletRpcErrorKind, code: grpc.status | null, method: string): WalletRpcError {
    return new WalletRpcError(message, kind, code, method, this.name, this.address);
  }

  /** Turn a grpc-js error into a WalletRpcError with an operator-actionable message. */
  private async translate(
    err: grpc.ServiceError | Error,
    method: string,
    secrets: readonly Buffer[] = [],
  ): Promise<WalletRpcError> {
    const code = 'code' in err && typeof err.code === 'number' ? (err.code as grpc.status) : grpc.status.UNKNOWN;
    const rawDetails = 'details' in err && typeof err.details === 'string' ? err.details : err.message;
    const details = redact(rawDetails, secrets);
    const who = `wallet ${this.name} at ${this.address}`;
    const hints = this.opts.hints ?? {};
    const withPath = (key: string, path?: string): string => (path ? `${key} (${path})` : key);

    switch (code) {
      case grpc.status.UNAVAILABLE:
        return this.diagnoseUnavailable(code, method, details);
      case grpc.status.DEADLINE_EXCEEDED: {
        const state = this.client.getChannel().getConnectivityState(false);
        if (state !== grpc.connectivityState.READY) {
          // Never got a connection within the deadline (SYN dropped, host down).
          return this.error(
            `${who} is unreachable: no connection within ${this.callTimeoutMs} ms; check that dcrwallet is running and wallets[].grpcAddress`,
            'unreachable',
            code,
            method,
          );
        }
        // A hung connection (wallet killed without FIN) looks the same as a
        // slow wallet; start from a fresh channel next time either way.
        this.recycle();
        return this.error(
          `${who} did not answer ${method} within ${this.callTimeoutMs} ms: the wallet may be busy (rescan) or hung; raise wallets[].callTimeoutMs if it is just slow`,
          'deadline',
          code,
          method,
        );
      }
      case grpc.status.INVALID_ARGUMENT:
        if (method === 'WalletService.UnlockWallet' || method === 'WalletLoaderService.RpcSync') {
          return this.error(
            `${who} rejected the private passphrase (${method}): check the file in ${withPath('wallets[].passphraseFile', hints.passphraseFile)}`,
            'wrong_passphrase',
            code,
            method,
          );
        }
        if (method === 'WalletLoaderService.OpenWallet') {
          return this.error(
            `${who} rejected the public passphrase (${method}): check the file in ${withPath('wallets[].managed.publicPassphraseFile', hints.publicPassphraseFile)}`,
            'wrong_passphrase',
            code,
            method,
          );
        }
        return this.error(`${who} refused ${method} as invalid: ${details}`, 'invalid_argument', code, method);
      case grpc.status.NOT_FOUND:
        return this.error(`${who}: ${method} found nothing${details ? `: ${details}` : ''}`, 'not_found', code, method);
      case grpc.status.FAILED_PRECONDITION:
        // ServiceReady() answers "service walletrpc.X is not ready" until a
        // wallet is open; RpcSync answers "already synchronizing".
        return this.error(
          /not ready/.test(details)
            ? `${who} is not ready for ${method} (${details}): no wallet is open yet; a wallet started with --noinitialload is opened by dcrvoted when wallets[].mode = managed`
            : `${who} refused ${method}${details ? `: ${details}` : ''}`,
          'failed_precondition',
          code,
          method,
        );
      default:
        return this.error(
          `${who}: ${method} failed with ${grpc.status[code] ?? code}${details ? `: ${details}` : ''}`,
          'other',
          code,
          method,
        );
    }
  }

  private async diagnoseUnavailable(code: grpc.status, method: string, details: string): Promise<WalletRpcError> {
    const who = `wallet ${this.name} at ${this.address}`;
    const hints = this.opts.hints ?? {};
    const verdict = await diagnoseTls({
      address: this.address,
      caCert: this.opts.caCert,
      ...(this.opts.clientCert.length > 0 && this.opts.clientKey.length > 0
        ? { clientCert: this.opts.clientCert, clientKey: this.opts.clientKey }
        : {}),
      ...(this.opts.serverNameOverride !== undefined ? { serverName: this.opts.serverNameOverride } : {}),
      timeoutMs: Math.min(this.callTimeoutMs, 3000),
    });
    switch (verdict.verdict) {
      case 'rejected':
        return this.error(
          `${who} rejected our client certificate (${verdict.detail}): append the certificate from ${
            hints.clientCertPath ? `wallets[].clientCert (${hints.clientCertPath})` : 'wallets[].clientCert'
          } to the wallet's clients.pem (or its --clientcafile) and restart the wallet`,
          'tls_rejected',
          code,
          method,
        );
      case 'untrusted':
        return this.error(
          `${who} presented a TLS certificate we do not trust (${verdict.detail}): set ${
            hints.caCertPath ? `wallets[].caCert (${hints.caCertPath})` : 'wallets[].caCert'
          } to the wallet's rpc.cert, and use an address the certificate names`,
          'tls_untrusted',
          code,
          method,
        );
      case 'unreachable':
        return this.error(
          `${who} is unreachable (${verdict.detail}): check that dcrwallet is running and that wallets[].grpcAddress is its gRPC listener`,
          'unreachable',
          code,
          method,
        );
      case 'ok': {
        if (verdict.alpn !== 'h2') {
          return this.error(
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
          return this.error(
            `${who} dropped the connection during ${method}; it may be restarting`,
            'unreachable',
            code,
            method,
          );
        }
        return this.error(
          `${who} is unavailable for ${method}${details ? `: ${details}` : ''}`,
          'unavailable',
          code,
          method,
        );
      }
    }
  }

  /** Replace the channel (after a hang); calls already in flight finish on the old one. */
  private recycle(): void {
    if (this.closed) return;
    const old = this.client;
    this.client = this.makeClient();
    old.close();
  }
}

// ---------------------------------------------------------------------------
// RpcSync stream handle.

/**
 * Events:
 * - 'synced'   the wallet reports it is synced with dcrd
 * - 'unsynced' the wallet reports it lost sync
 * - 'notification' (type: SyncNotificationType) every message
 * - 'error'    (err: WalletRpcError) the stream failed (not emitted after cancel(),
 *              and only when someone listens: an unhandled 'error' must not crash the daemon)
 * - 'end'      the stream is over, always emitted once, after 'error' if any
 */
export class RpcSyncHandle extends EventEmitter {
  /** Last sync state the wallet reported. */
  synced = false;
  /** The error that ended the stream, if any. */
  lastError: WalletRpcError | null = null;
  private cancelled = false;
  private ended = false;

  constructor(
    private readonly call: grpc.ClientReadableStream<object>,
    translate: (err: grpc.ServiceError) => Promise<WalletRpcError>,
  ) {
    super();
    call.on('data', (msg: RawRpcSyncResponse) => {
      this.emit('notification', msg.notification_type);
      // notification_type SYNCED is the proto3 zero value, so trust the
      // explicit bool rather than the enum.
      if (msg.synced) {
        this.synced = true;
        this.emit('synced');
      } else if (msg.notification_type === 'UNSYNCED') {
        this.synced = false;
        this.emit('unsynced');
      }
    });
    // grpc-js ends every call with exactly one 'status'; a non-OK status is
    // also emitted as 'error' (which must be listened to), so 'status' alone
    // drives the end of the handle.
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK || (this.cancelled && s.code === grpc.status.CANCELLED)) {
        this.finish();
        return;
      }
      const err = Object.assign(new Error(s.details), s) as grpc.ServiceError;
      translate(err).then(
        (e) => {
          this.lastError = e;
          if (this.listenerCount('error') > 0) this.emit('error', e);
          this.finish();
        },
        () => this.finish(),
      );
    });
  }

  /** End the sync stream (the wallet stops syncing when its stream context ends). */
  cancel(): void {
    if (this.ended) return;
    this.cancelled = true;
    this.call.cancel();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.synced = false;
    this.emit('end');
  }
}
