// Typed client for the slice of dcrwallet's gRPC API that dcrvoted uses.
//
// Why it looks the way it does:
// - One grpc-js channel per wallet, every service on it, calls made through
//   the generic makeUnaryRequest with the method definitions proto-loader
//   builds from proto/walletrpc.proto (proto.ts): no generated code, one place
//   to check against the wallet's rpc/api.proto.
// - Every unary call carries a deadline (callTimeoutMs). Only the RpcSync
//   stream (rpc-sync.ts) has none: it lives as long as the wallet syncs and is
//   ended with cancel().
// - Errors come out as WalletRpcError (rpc-errors.ts) with a `kind` the
//   supervisor can act on and a message an operator can act on; on
//   UNAVAILABLE one plain TLS handshake (tls-diagnosis.ts) tells "wallet down"
//   from "wallet refuses our certificate" from "we do not trust the wallet's
//   certificate".
// - Hashes cross this boundary as hex in display (RPC) order; on the wire they
//   are bytes in the wallet's internal order, i.e. reversed (wire.ts).
// - Nothing here logs, and no secret (passphrase, dcrd password, client key)
//   is ever put into an error: server details are dropped for calls that
//   carried one.
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { trimOldest } from '../bounded.js';
import type { BlockRef, NetworkName, TreasuryChoice } from '../domain.js';
import { loadDefinition, methodDef } from './proto.js';
import { translateRpcError, WalletRpcError, type RpcErrorContext, type WalletErrorHints, type WalletRpcErrorKind } from './rpc-errors.js';
import { RpcSyncHandle, type RpcSyncOptions } from './rpc-sync.js';
import { WalletStream } from './wallet-stream.js';
import {
  hashHexToWire,
  networkFromId,
  optionalHash,
  policyFromWire,
  splitHostPort,
  ticketField,
  toSafeNumber,
  toUnixSeconds,
  wireHashToHex,
} from './wire.js';


/**
 * Largest gRPC message accepted from the wallet: 1 MiB. Real answers are
 * small (a GetTicket carries one ticket transaction, Agendas a few KiB);
 * grpc-js would otherwise take up to 4 MiB. A bigger answer fails that call
 * with RESOURCE_EXHAUSTED and leaves the channel usable.
 */
export const WALLET_MAX_RECEIVE_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------
// Public types.

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
  hints?: WalletErrorHints;
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
  /** Account holding the voting key (output 0); null when the wallet holds no key for it. */
  votingAccount: number | null;
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

/** One GetTickets entry: a ticket with its purchase transaction. */
export interface WalletTicket {
  hash: string;
  status: TicketStatus;
  /** The ticket purchase transaction, serialized. */
  tx: Buffer;
  /** Block the ticket was mined in; null while unmined. */
  blockHeight: number | null;
}

/** A wallet transaction as TransactionNotifications reports it. */
export interface WalletTx {
  hash: string;
  tx: Buffer;
  type: TxType;
}

/** One TransactionNotifications message (dcrwallet rpcserver TransactionNotifications). */
export interface WalletTxNotification {
  /** By increasing height; several after a reorg. */
  attached: { hash: string; height: number; txs: WalletTx[] }[];
  /** Blocks with wallet transactions no longer in the best chain. */
  detached: string[];
  /** New relevant mempool transactions. */
  unmined: WalletTx[];
}

// ---------------------------------------------------------------------------
// Raw message shapes as proto-loader decodes them (keepCase, defaults,
// longs as String, enums as String, bytes as Buffer).

interface RawTx {
  hash: Buffer;
  transaction: Buffer;
  transaction_type: TxType;
  credits?: { index: number; account: number }[];
}
interface RawGetTicketsResponse {
  ticket: { ticket: RawTx | null; spender: RawTx | null; ticket_status: TicketStatus } | null;
  block: { hash: Buffer; height: number; timestamp: string } | null;
  vsp_host: string;
}
interface RawTxNotification {
  attached_blocks: { hash: Buffer; height: number; transactions: RawTx[] }[];
  detached_blocks: Buffer[];
  unmined_transactions: RawTx[];
}
type Raw = Record<string, unknown>;

function walletTx(t: RawTx): WalletTx {
  return { hash: wireHashToHex(t.hash), tx: Buffer.from(t.transaction), type: t.transaction_type };
}

/** A live ticket and the account holding its voting key (output 0), as GetTickets reports them. */
export interface LiveTicket {
  hash: string;
  /** The ticket purchase transaction, serialized. */
  tx: Buffer;
  /** null: the wallet holds no key for output 0, so it cannot vote this ticket. */
  votingAccount: number | null;
}

export interface LiveTicketScan {
  /** The first live ticket seen per voting account. */
  byAccount: Map<number, LiveTicket>;
  /** The first live ticket whose voting key the wallet does not hold. */
  withoutKey: LiveTicket | null;
  live: number;
}

/**
 * The account of a ticket's voting key. dcrwallet lists a transaction's
 * outputs that pay its own addresses as credits, each with the account of
 * its address (wallet/notifications.go makeTxSummary, lookupOutputChain);
 * for a ticket, the credit at index 0 is the stake submission output.
 */
function votingAccountOf(tx: RawTx | null | undefined): number | null {
  const credit = tx?.credits?.find((c) => Number(c.index) === 0);
  return credit ? Number(credit.account) : null;
}

// ---------------------------------------------------------------------------
// The client.

export class WalletClient {
  readonly name: string;
  readonly address: string;
  readonly callTimeoutMs: number;
  readonly #opts: WalletClientOptions;
  readonly #def: protoLoader.PackageDefinition;
  readonly #credentials: grpc.ChannelCredentials;
  #client: grpc.Client;
  #closed = false;
  /** Calls and streams in flight, cancelled by close(). */
  readonly #calls = new Set<{ cancel(): void }>();
  readonly #streams = new Set<{ cancel(): void }>();
  readonly #listings = new Set<grpc.ClientReadableStream<unknown>>();
  /**
   * Ticket purchase transactions seen in GetTicket answers. They never
   * change, and a winner of ours is first looked up (is it ours?) and then
   * fetched again to build its vote: keep the second lookup off the wire.
   */
  readonly #ticketTxs = new Map<string, Buffer>();
  readonly #errorContext: RpcErrorContext;

  constructor(opts: WalletClientOptions) {
    this.#opts = opts;
    this.name = opts.name;
    this.address = opts.address;
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    splitHostPort(opts.address); // fail early on a malformed address
    this.#def = loadDefinition(opts.protoPath);
    // An empty key/cert means "present none" (the wallet will refuse us; the
    // error then says which file to fix) rather than a TLS setup exception.
    this.#credentials = grpc.credentials.createSsl(
      opts.caCert,
      opts.clientKey.length > 0 ? opts.clientKey : null,
      opts.clientCert.length > 0 ? opts.clientCert : null,
    );
    this.#client = this.#makeClient();
    this.#errorContext = {
      name: this.name,
      address: this.address,
      callTimeoutMs: this.callTimeoutMs,
      caCert: opts.caCert,
      clientCert: opts.clientCert,
      clientKey: opts.clientKey,
      serverNameOverride: opts.serverNameOverride,
      hints: opts.hints,
      // Read at translation time: the channel is replaced after a hang.
      channelState: () => this.#client.getChannel().getConnectivityState(false),
      recycleChannel: () => this.#recycle(),
    };
  }

  #makeClient(): grpc.Client {
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
      'grpc.max_receive_message_length': WALLET_MAX_RECEIVE_BYTES,
    };
    if (this.#opts.serverNameOverride) {
      options['grpc.ssl_target_name_override'] = this.#opts.serverNameOverride;
      options['grpc.default_authority'] = this.#opts.serverNameOverride;
    }
    return new grpc.Client(this.address, this.#credentials, options);
  }

  /**
   * Close the channel. Calls and RpcSync streams in flight are cancelled
   * (each call fails at once as closed) and calls made afterwards fail: a
   * wallet that accepted the connection and never answers cannot keep a
   * socket, or the process, alive past a shutdown.
   */
  close(): void {
    this.#closed = true;
    for (const call of [...this.#calls]) call.cancel();
    this.#calls.clear();
    for (const stream of [...this.#streams]) stream.cancel();
    this.#streams.clear();
    for (const listing of [...this.#listings]) listing.cancel();
    this.#listings.clear();
    this.#client.close();
  }

  // ---- calls ---------------------------------------------------------------

  async version(): Promise<WalletVersion> {
    const r = await this.#unary<Raw>('VersionService', 'Version', {});
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
    await this.#unary('WalletService', 'Ping', {});
  }

  async networkInfo(): Promise<NetworkInfo> {
    const r = await this.#unary<Raw>('WalletService', 'Network', {});
    const netId = Number(r['active_network']);
    return { name: networkFromId(netId), netId };
  }

  async network(): Promise<NetworkName | 'unknown'> {
    return (await this.networkInfo()).name;
  }

  async bestBlock(): Promise<BlockRef> {
    const r = await this.#unary<Raw>('WalletService', 'BestBlock', {});
    return { hash: wireHashToHex(r['hash'] as Buffer), height: Number(r['height']) };
  }

  async stakeInfo(): Promise<StakeInfo> {
    const r = await this.#unary<Raw>('WalletService', 'StakeInfo', {});
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
    return r ? ticketInfoOf(r, hashHex.toLowerCase()) : null;
  }
  /** GetTicket as the wallet answers it; null when the ticket is not the wallet's. */
  async #getTicketRaw(hashHex: string): Promise<RawGetTicketsResponse | null> {
    let r: RawGetTicketsResponse;
    try {
      r = await this.#unary<RawGetTicketsResponse>('WalletService', 'GetTicket', { ticket_hash: hashHexToWire(hashHex, 'ticket hash') });
    } catch (err) {
      if (err instanceof WalletRpcError && err.kind === 'not_found') return null;
      throw err;
    }
    const tx = r.ticket?.ticket?.transaction;
    if (tx && tx.length > 0) {
      this.#ticketTxs.set(hashHex.toLowerCase(), Buffer.from(tx));
      trimOldest(this.#ticketTxs, 256);
    }
    return r;
  }


  /**
   * The wallet's tickets mined at or after `fromHeight`, the unmined ones
   * included (GetTickets with no ending block), each passed to `onTicket` as
   * it arrives: a wallet with many tickets is never held in memory whole.
   * The stream gets a deadline of `deadlineMs` (default 20 call timeouts).
   */
  async listTickets(fromHeight: number, onTicket: (t: TicketInfo, tx: Buffer) => void, deadlineMs = 20 * this.callTimeoutMs): Promise<void> {
    const method = methodDef(this.#def, 'WalletService', 'GetTickets');
    const fullMethod = 'WalletService.GetTickets';
    if (this.#closed) throw this.#error(`wallet ${this.name} client is closed`, 'other', null, fullMethod);
    await new Promise<void>((resolve, reject) => {
      const call = this.#client.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { starting_block_height: Math.max(0, Math.floor(fromHeight)) },
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
      );
      let failed = false;
      this.#listings.add(call);
      call.on('status', () => this.#listings.delete(call));
      call.on('data', (r: RawGetTicketsResponse) => {
        const tx = r.ticket?.ticket?.transaction;
        if (!tx || tx.length === 0 || failed) return;
        try {
          onTicket(ticketInfoOf(r, ''), Buffer.from(tx));
        } catch (err) {
          failed = true;
          call.cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (failed) return;
        failed = true;
        if (this.#closed) reject(this.#error(`wallet ${this.name} client closed during ${fullMethod}`, 'other', err.code ?? null, fullMethod));
        else this.#translate(err, fullMethod).then(reject, reject);
      });
      call.on('end', () => {
        if (!failed) resolve();
      });
    });
  }

  /**
   * The first live ticket per voting account, from one listing of every
   * ticket of the wallet (listTickets from genesis). O(tickets), so it runs
   * every few blocks, never per block.
   */
  async scanLiveTickets(): Promise<LiveTicketScan> {
    const scan: LiveTicketScan = { byAccount: new Map(), withoutKey: null, live: 0 };
    await this.listTickets(
      0,
      (t, tx) => {
        if (t.status !== 'LIVE') return;
        scan.live++;
        const ticket: LiveTicket = { hash: t.hash, tx, votingAccount: t.votingAccount };
        if (ticket.votingAccount === null) scan.withoutKey ??= ticket;
        else if (!scan.byAccount.has(ticket.votingAccount)) scan.byAccount.set(ticket.votingAccount, ticket);
      },
      Math.max(120_000, 20 * this.callTimeoutMs),
    );
    return scan;
  }

  /**
   * DumpPrivateKey for a P2PKH address of the wallet's: the key as WIF, in a
   * Buffer the caller zeroes once decoded. Needs an unlocked wallet: a
   * locked one answers FailedPrecondition (errors.Locked) and its lock state
   * is left alone; an address the wallet does not hold answers NotFound. The
   * key never goes into an error or a log.
   */
  async dumpPrivateKey(address: string): Promise<Buffer> {
    const r = await this.#unary<{ private_key_wif: Buffer }>('WalletService', 'DumpPrivateKey', { address });
    return r.private_key_wif;
  }

  /**
   * Whether an account with a passphrase of its own is unlocked; null for an
   * account without one (dcrwallet answers InvalidArgument "account is not
   * individually encrypted": it is as locked as the wallet).
   */
  async accountUnlocked(account: number): Promise<boolean | null> {
    try {
      const r = await this.#unary<{ unlocked: boolean }>('WalletService', 'AccountUnlocked', { account_number: account });
      return r.unlocked === true;
    } catch (err) {
      if (err instanceof WalletRpcError && err.kind === 'invalid_argument' && /individually encrypted/i.test(err.message)) return null;
      throw err;
    }
  }

  /** Unlocks an individually encrypted account. The passphrase is never copied into errors. */
  async unlockAccount(account: number, passphrase: Buffer): Promise<void> {
    await this.#unary('WalletService', 'UnlockAccount', { account_number: account, passphrase }, [passphrase]);
  }

  /** The passphrase Buffer is sent as is and never copied into errors or logs. */
  async unlockWallet(passphrase: Buffer): Promise<void> {
    await this.#unary('WalletService', 'UnlockWallet', { passphrase }, [passphrase]);
  }

  /** The ticket purchase transaction, serialized, if the ticket is the wallet's. */
  async getTicketTx(hashHex: string): Promise<Buffer | null> {
    const key = hashHex.toLowerCase();
    if (!this.#ticketTxs.has(key)) await this.#getTicketRaw(hashHex);
    return this.#ticketTxs.get(key) ?? null;
  }

  /** The wallet's transaction notifications, until cancel() or the wallet goes away. */
  transactionNotifications(): WalletStream<WalletTxNotification> {
    return this.#serverStream('WalletService', 'TransactionNotifications', {}, (raw): WalletTxNotification => {
      const r = raw as RawTxNotification;
      return {
        attached: r.attached_blocks.map((b) => ({ hash: wireHashToHex(b.hash), height: b.height, txs: b.transactions.map(walletTx) })),
        detached: r.detached_blocks.map((h) => wireHashToHex(h)),
        unmined: r.unmined_transactions.map(walletTx),
      };
    });
  }

  #serverStream<T>(service: string, method: string, request: object, convert: (raw: object) => T): WalletStream<T> {
    const def = methodDef(this.#def, service, method);
    const call = this.#client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, new grpc.Metadata(), {});
    const stream = new WalletStream(call, convert, (err) => this.#translate(err, `${service}.${method}`));
    if (this.#closed) stream.cancel();
    else {
      this.#streams.add(stream);
      stream.on('end', () => this.#streams.delete(stream));
    }
    return stream;
  }

  /**
   * Signs what inputs the wallet can (for a vote: the ticket input; the
   * stakebase needs no signature). Without a passphrase the wallet signs
   * only if it is unlocked and leaves its lock state alone; with one it
   * unlocks for this call only (and a wrong one locks an unlocked wallet),
   * so callers send one only to a wallet they have just seen locked.
   */
  async signTransaction(passphrase: Buffer | null, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }> {
    const r = await this.#unary<{ transaction: Buffer; unsigned_input_indexes: number[] }>(
      'WalletService',
      'SignTransaction',
      { ...(passphrase ? { passphrase } : {}), serialized_transaction: Buffer.from(tx) },
      passphrase ? [passphrase] : [],
    );
    return { tx: Buffer.from(r.transaction), unsignedInputIndexes: (r.unsigned_input_indexes ?? []).map(Number) };
  }

  /** Publishes through the wallet's own dcrd connection; returns the txid. */
  async publishTransaction(tx: Uint8Array): Promise<string> {
    const r = await this.#unary<{ transaction_hash: Buffer }>('WalletService', 'PublishTransaction', { signed_transaction: Buffer.from(tx) });
    return wireHashToHex(r.transaction_hash);
  }

  async lockWallet(): Promise<void> {
    await this.#unary('WalletService', 'LockWallet', {});
  }

  async walletExists(): Promise<boolean> {
    const r = await this.#unary<Raw>('WalletLoaderService', 'WalletExists', {});
    return r['exists'] === true;
  }

  /**
   * Open the wallet (managed mode, wallet started with --noinitialload).
   * "Already opened" (AlreadyExists, dcrwallet internal/loader/loader.go) is
   * success: alreadyOpen is then true and watchingOnly unknown.
   */
  async openWallet(publicPassphrase?: Buffer): Promise<{ alreadyOpen: boolean; watchingOnly: boolean | null }> {
    try {
      const r = await this.#unary<Raw>(
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
    const method = methodDef(this.#def, 'WalletLoaderService', 'RpcSync');
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
    const call = this.#client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      {},
    );
    const secrets = [opts.password, ...(opts.privatePassphrase ? [opts.privatePassphrase] : [])];
    const handle = new RpcSyncHandle(call, (err) => this.#translate(err, 'WalletLoaderService.RpcSync', secrets));
    if (this.#closed) handle.cancel();
    else {
      this.#streams.add(handle);
      call.on('status', () => this.#streams.delete(handle));
    }
    return handle;
  }

  async agendas(): Promise<AgendasResult> {
    const r = await this.#unary<Raw>('AgendaService', 'Agendas', {});
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
    const r = await this.#unary<Raw>('VotingService', 'VoteChoices', ticketField(ticketHash));
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
    const r = await this.#unary<Raw>('VotingService', 'SetVoteChoices', {
      choices: choices.map((c) => ({ agenda_id: c.agendaId, choice_id: c.choiceId })),
      ...ticketField(ticketHash),
    });
    return { voteBits: Number(r['votebits']) };
  }

  /** Treasury key policies the wallet stores (abstain is stored as "no entry"). */
  async treasuryPolicies(): Promise<TreasuryKeyPolicy[]> {
    const r = await this.#unary<Raw>('VotingService', 'TreasuryPolicies', {});
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
    await this.#unary('VotingService', 'SetTreasuryPolicy', {
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
  /** All tspends the wallet has seen, or one; with a ticket, that ticket's policy (as the wallet votes it). */
  async tspendPolicies(hashHex?: string, ticketHash?: string): Promise<TSpendPolicy[]> {
    const r = await this.#unary<Raw>('VotingService', 'TSpendPolicies', {
      ...(hashHex ? { hash: hashHexToWire(hashHex, 'tspend hash') } : {}),
      ...ticketField(ticketHash),
    });
    return (r['policies'] as Raw[]).map((p) => ({
      hash: wireHashToHex(p['hash'] as Buffer),
      policy: policyFromWire(String(p['policy'])),
      ticketHash: optionalHash(p['ticket_hash'] as Buffer),
    }));
  }

  async setTSpendPolicy(hashHex: string, policy: TreasuryChoice, ticketHash?: string): Promise<void> {
    await this.#unary('VotingService', 'SetTSpendPolicy', {
      hash: hashHexToWire(hashHex, 'tspend hash'),
      policy,
      ...ticketField(ticketHash),
    });
  }

  // ---- plumbing ------------------------------------------------------------

  #unary<T>(service: string, method: string, request: object, secrets: readonly Buffer[] = []): Promise<T> {
    const def = methodDef(this.#def, service, method);
    const fullMethod = `${service}.${method}`;
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(this.#error(`wallet ${this.name} client is closed`, 'other', null, fullMethod));
        return;
      }
      const call = this.#client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + this.callTimeoutMs },
        (err, value) => {
          this.#calls.delete(call);
          if (err && this.#closed) {
            // Cancelled by close(): no diagnosis, no new channel.
            reject(this.#error(`wallet ${this.name} client closed before ${fullMethod} was answered`, 'other', err.code ?? null, fullMethod));
          } else if (err) {
            this.#translate(err, fullMethod, secrets).then(reject, reject);
          } else {
            resolve(value as T);
          }
        },
      );
      this.#calls.add(call);
    });
  }

  #error(message: string, kind: WalletRpcErrorKind, code: grpc.status | null, method: string): WalletRpcError {
    return new WalletRpcError(message, kind, code, method, this.name, this.address);
  }

  /** Turn a grpc-js error into a WalletRpcError with an operator-actionable message. */
  #translate(
    err: grpc.ServiceError | Error,
    method: string,
    secrets: readonly Buffer[] = [],
  ): Promise<WalletRpcError> {
    return translateRpcError(this.#errorContext, err, method, secrets);
  }

  /** Replace the channel (after a hang); calls already in flight finish on the old one. */
  #recycle(): void {
    if (this.#closed) return;
    const old = this.#client;
    this.#client = this.#makeClient();
    old.close();
  }
}

/** A GetTicket(s) answer as TicketInfo; `fallbackHash` when the answer carries none. */
function ticketInfoOf(r: RawGetTicketsResponse, fallbackHash: string): TicketInfo {
  const t = r.ticket;
  const spender = t?.spender && t.spender.hash.length > 0 ? t.spender : null;
  return {
    hash: t?.ticket && t.ticket.hash.length > 0 ? wireHashToHex(t.ticket.hash) : fallbackHash,
    status: t?.ticket_status ?? 'UNKNOWN',
    spenderHash: spender ? wireHashToHex(spender.hash) : null,
    spenderType: spender ? spender.transaction_type : null,
    blockHash: r.block && r.block.hash.length > 0 ? wireHashToHex(r.block.hash) : null,
    blockHeight: r.block && r.block.hash.length > 0 ? r.block.height : null,
    vspHost: r.vsp_host,
    votingAccount: votingAccountOf(t?.ticket),
  };
}
