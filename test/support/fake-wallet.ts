// In-process fake dcrwallet for component tests.
//
// Real sockets, real TLS, our proto/walletrpc.proto on the wire:
// - gRPC on 127.0.0.1 that REQUIRES a client certificate signed by the
//   "clients.pem" CA, like dcrwallet (rpcserver.go startRPCServers: gRPC is
//   only served with a client CA file, with tls.RequireAndVerifyClientCert);
// - JSON-RPC `walletinfo` over HTTPS POST, basic auth (401 on a bad header)
//   or clientcert mode (TLS client cert required, no header checked).
// Both read one plain mutable `state` object the test drives.
//
// Behaviour copied from dcrwallet v5.1.0, by source file (paths relative to
// the dcrwallet module root) so it can be re-checked against real dcrwallet:
// - internal/rpc/rpcserver/server.go
//   * errorCode(): errors.Passphrase → InvalidArgument, errors.Invalid →
//     InvalidArgument, errors.NotExist → NotFound, errors.Exist →
//     AlreadyExists, errors.Locked → FailedPrecondition, other → Unknown.
//   * ServiceReady(): WalletService and VotingService answer
//     FailedPrecondition "service walletrpc.X is not ready" until a wallet is
//     loaded; VersionService, WalletLoaderService and AgendaService always work.
//   * Version: API semver 10.0.0 (not the binary's version).
//   * Network: uint32(chainParams.Net).
//   * GetTicket: chainhash.NewHash(ticket_hash) (bad length → InvalidArgument);
//     unknown tx → NotExist → NotFound; spender is an empty TransactionDetails
//     when there is none; block is nil for unmined tickets.
//   * GetTickets (starting_block_height or 0, no ending block: decodeBlockRange
//     → wallet.blockRange start…-1, udb RangeTransactions): one
//     GetTicketsResponse per ticket, every status,
//     mined tickets by increasing block height, then the unmined ones (block
//     nil); each with its purchase transaction, as GetTicket.
//   * TransactionNotifications: a stream that stays open; each message
//     (attached_blocks with the block's wallet transactions, detached_blocks,
//     unmined_transactions) is what the test pushes with notifyTransactions();
//     a transaction is TransactionDetails {hash, transaction,
//     transaction_type} (marshalTransactionDetails; debits, credits and fee
//     are not modelled).
//   * SignTransaction (not a real signature): an unlocked wallet returns the
//     transaction as given with unsigned_input_indexes [0] (the stakebase);
//     a locked one without a passphrase leaves the ticket input unsigned too.
//   * BestBlock: hash[:] (internal byte order), height uint32.
//   * UnlockWallet / LockWallet: see wallet/wallet.go below.
//   * RpcSync: FailedPrecondition "wallet is loaded and already synchronizing"
//     while another sync runs; discover_accounts without private passphrase
//     → InvalidArgument; sends {synced:true, SYNCED} / {synced:false,
//     UNSYNCED}; a sync that stops on its own ends with Unknown "Wallet
//     synchronization stopped: …". (Real dcrwallet does not check that a
//     wallet is loaded before RpcSync; the fake answers FailedPrecondition.)
//   * VoteChoices / SetVoteChoices: ticket_hash optional (len 0 = wallet-wide).
//   * TreasuryPolicies: lists wallet-wide and per-ticket entries, policy
//     "yes"/"no" (abstain entries are deleted, so never listed).
//   * SetTreasuryPolicy: key must be 33 bytes, policy in {abstain, invalid, "",
//     yes, no} else InvalidArgument "unknown policy".
//   * TSpendPolicies: with a hash → one entry, "abstain" spelled out; without
//     → one entry per tspend the wallet has seen, abstain as "".
//   * SetTSpendPolicy: hash must be 32 bytes; a present ticket_hash (even
//     empty) must be 32 bytes.
// - internal/loader/loader.go OpenExistingWallet: already open → errors.Exist
//   "wallet already opened" (→ AlreadyExists); missing DB → NotExist.
// - internal/rpc/rpcserver/server.go OpenWallet: empty public passphrase means
//   wallet.InsecurePubPassphrase ("public", wallet/wallet.go).
// - wallet/wallet.go
//   * Unlock: wrong passphrase → errors.Passphrase, and an unlocked wallet is
//     LOCKED by the failed attempt.
//   * AgendaChoices: every current agenda reported, "abstain" when unset;
//     votebits = 1 | bits of saved choices; unknown ticket → NotExist;
//     a ticket without saved choices reports the wallet-wide ones.
//   * SetAgendaChoices: no agendas → plain error (Unknown); unknown ticket →
//     NotExist; unknown agenda / choice → errors.Invalid; one DB transaction,
//     so a bad pair applies nothing.
//   * TSpendPolicy: per-ticket override, then tspend policy, then the policy
//     of the treasury key that signed the (known) tspend, else abstain.
// - internal/rpc/jsonrpc/methods.go walletInfo, rpc/jsonrpc/types/results.go
//   WalletInfoResult, internal/rpc/jsonrpc/errors.go errUnloadedWallet (-4),
//   internal/rpc/jsonrpc/server.go (401 + WWW-Authenticate, Connection: close).
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { BlockRef, NetworkName } from '../../src/domain.js';
import { decodeTx, serializeTx } from '../../src/vote/tx.js';
import type { TestPki } from './certs.js';
import { p2pkhSigScript, type VotingKey } from './fake-tickets.js';

export type FakeTicketStatus = 'UNKNOWN' | 'UNMINED' | 'IMMATURE' | 'LIVE' | 'VOTED' | 'MISSED' | 'EXPIRED' | 'REVOKED';

export interface FakeTicket {
  status: FakeTicketStatus;
  spenderHash?: string;
  spenderType?: 'VOTE' | 'REVOCATION';
  blockHash?: string;
  blockHeight?: number;
  vspHost?: string;
  /** The ticket purchase transaction, hex; real dcrwallet sends it in every GetTicket answer. */
  tx?: string;
  /** Account of the output-0 (voting) address; unset: the wallet holds no key for it (no credit at index 0). */
  votingAccount?: number;
  /** The voting key, so SignTransaction can sign the ticket input (test/support/fake-tickets.ts). */
  votingKey?: VotingKey;
}

/** An account; one with a passphrase of its own is locked and unlocked by itself (wallet/udb/addressmanager.go). */
export interface FakeAccount {
  name: string;
  /** Set: individually encrypted with this passphrase. */
  passphrase?: string;
  unlocked: boolean;
}

/** A wallet transaction in a TransactionNotifications message; `spends` is the ticket a vote or revocation spends. */
export interface FakeWalletTx {
  hash: string;
  /** Serialized transaction, hex. */
  tx: string;
  type: 'REGULAR' | 'TICKET_PURCHASE' | 'VOTE' | 'REVOCATION' | 'COINBASE';
  spends?: string;
}

export interface FakeAgenda {
  id: string;
  description: string;
  mask: number;
  choices: { id: string; description: string; bits: number; isAbstain: boolean; isNo: boolean }[];
  startTime: number;
  expireTime: number;
}

export type RpcSyncBehaviour =
  /** Send a progress notification, then synced, then keep the stream open. */
  | { mode: 'sync' }
  /** Fail at once, like dcrwallet when dcrd refuses the connection. */
  | { mode: 'fail'; message: string }
  /** Never report synced. */
  | { mode: 'hang' };

export interface FakeWalletState {
  network: NetworkName | number;
  exists: boolean;
  opened: boolean;
  /** '' = dcrwallet's insecure default public passphrase "public". */
  publicPassphrase: string;
  locked: boolean;
  passphrase: string;
  votingEnabled: boolean;
  daemonConnected: boolean;
  spv: boolean;
  bestBlock: BlockRef;
  /** Display-order hash → ticket. */
  tickets: Map<string, FakeTicket>;
  /** StakeInfo counters not derived from `tickets`. */
  stake: { poolSize: number; allMempoolTix: number; totalSubsidy: number };
  voteVersion: number;
  agendas: FakeAgenda[];
  /** Wallet-wide agenda choices (agenda id → choice id); unset = abstain. */
  voteChoices: Map<string, string>;
  /** Per-ticket agenda choices. */
  ticketVoteChoices: Map<string, Map<string, string>>;
  /** Treasury key hex → policy (wallet-wide). */
  treasuryPolicies: Map<string, 'yes' | 'no'>;
  /** `${ticketHash}/${keyHex}` → policy. */
  ticketTreasuryPolicies: Map<string, 'yes' | 'no'>;
  /** TSpend hash → policy (wallet-wide). */
  tspendPolicies: Map<string, 'yes' | 'no'>;
  /** `${ticketHash}/${tspendHash}` → policy. */
  ticketTSpendPolicies: Map<string, 'yes' | 'no'>;
  /** TSpends the wallet has seen: hash → treasury key hex that signed it. */
  knownTSpends: Map<string, string>;
  /** Account number → account; 0 ("default") always exists. */
  accounts: Map<number, FakeAccount>;
  /** A watching-only wallet holds no private keys: it signs nothing. */
  watchingOnly: boolean;
  /** Every SignTransaction received: whether it carried a passphrase, and how many inputs the transaction had. */
  signRequests: { passphrase: boolean; inputs: number }[];
  /** Test hook: method → details of a PermissionDenied answer (a wallet refusing the call). */
  refuse: Record<string, string>;
  syncing: boolean;
  rpcSync: RpcSyncBehaviour;
  /** Extra latency per gRPC method name (e.g. Ping), to exercise deadlines. */
  delayMs: Record<string, number>;
  /** Test device, not dcrwallet behaviour: GetTickets and TransactionNotifications answer Unimplemented (as through a proxy that does not pass streams). */
  refuseStreams?: boolean;
  /** Calls per method: gRPC method names (Ping, SetVoteChoices, …) and 'walletinfo'. */
  calls: Record<string, number>;
  /** Last RpcSync request, minus secrets: what the client asked the wallet to dial. */
  lastRpcSync: { networkAddress: string; username: string; discoverAccounts: boolean } | null;
  /** When set, every authenticated JSON-RPC request is answered with this body as is (a hostile wallet). */
  jsonRpcRawReply?: string;
}

const NET_IDS: Record<NetworkName, number> = { mainnet: 0xd9b400f9, testnet: 0xb194aa75, simnet: 0x12141c16 };

/** The simnet agenda set shape: choices abstain/no/yes (DESIGN.md §4). */
export function simnetLikeAgendas(): FakeAgenda[] {
  const choices = (shift: number) => [
    { id: 'abstain', description: 'abstain voting for change', bits: 0, isAbstain: true, isNo: false },
    { id: 'no', description: 'keep the existing consensus rules', bits: 1 << shift, isAbstain: false, isNo: true },
    { id: 'yes', description: 'change to the new consensus rules', bits: 2 << shift, isAbstain: false, isNo: false },
  ];
  return [
    { id: 'maxblocksize', description: 'Change maximum allowed block size', mask: 0x0006, choices: choices(1), startTime: 1_700_000_000, expireTime: 1_800_000_000 },
    { id: 'blake3pow', description: 'Change proof of work hashing algorithm', mask: 0x0018, choices: choices(3), startTime: 0, expireTime: Infinity },
  ];
}

export function defaultFakeState(): FakeWalletState {
  return {
    network: 'simnet',
    exists: true,
    opened: true,
    publicPassphrase: '',
    locked: true,
    passphrase: 'correct horse battery staple',
    votingEnabled: true,
    daemonConnected: true,
    spv: false,
    bestBlock: { hash: '00'.repeat(31) + '01', height: 1 },
    tickets: new Map(),
    stake: { poolSize: 64, allMempoolTix: 0, totalSubsidy: 0 },
    voteVersion: 11,
    agendas: simnetLikeAgendas(),
    voteChoices: new Map(),
    ticketVoteChoices: new Map(),
    treasuryPolicies: new Map(),
    ticketTreasuryPolicies: new Map(),
    tspendPolicies: new Map(),
    ticketTSpendPolicies: new Map(),
    knownTSpends: new Map(),
    accounts: new Map([[0, { name: 'default', unlocked: true }]]),
    watchingOnly: false,
    signRequests: [],
    refuse: {},
    syncing: false,
    rpcSync: { mode: 'sync' },
    delayMs: {},
    calls: {},
    lastRpcSync: null,
  };
}

export interface FakeWalletOptions {
  pki: TestPki;
  state?: Partial<FakeWalletState>;
  grpcPort?: number;
  jsonRpcPort?: number;
  jsonRpcAuth?: 'basic' | 'clientcert';
  jsonRpcUser?: string;
  jsonRpcPassword?: string;
}

// ---------------------------------------------------------------------------

class RpcFail extends Error {
  constructor(readonly code: grpc.status, details: string) {
    super(details);
  }
}

const PROTO_PATH = fileURLToPath(new URL('../../proto/walletrpc.proto', import.meta.url));

// defaults: false so the fake can tell an absent bytes field from an empty
// one, as Go's nil vs []byte{} does.
const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
});
const walletrpc = grpc.loadPackageDefinition(packageDefinition)['walletrpc'] as grpc.GrpcObject;

function service(name: string): grpc.ServiceDefinition {
  return (walletrpc[name] as grpc.ServiceClientConstructor).service;
}

const toWire = (hex: string): Buffer => Buffer.from(hex, 'hex').reverse();
const fromWire = (b: Buffer): string => Buffer.from(b).reverse().toString('hex');

/** chainhash.NewHash: exactly 32 bytes or InvalidArgument. */
function hashArg(b: Buffer | undefined, what = 'hash'): string {
  const len = b?.length ?? 0;
  if (!b || len !== 32) {
    throw new RpcFail(grpc.status.INVALID_ARGUMENT, `invalid ${what} length of ${len}, want 32`);
  }
  return fromWire(b);
}

function optionalHashArg(b: Buffer | undefined): string | null {
  return b && b.length > 0 ? hashArg(b, 'ticket hash') : null;
}

type Req = Record<string, unknown>;

export class FakeWallet {
  readonly state: FakeWalletState;
  private readonly opts: FakeWalletOptions;
  private grpcServer: grpc.Server | null = null;
  private httpServer: HttpsServer | null = null;
  private readonly syncStreams = new Set<grpc.ServerWritableStream<Req, Req>>();
  private readonly txStreams = new Set<grpc.ServerWritableStream<Req, Req>>();
  grpcPort = 0;
  jsonRpcPort = 0;

  private constructor(opts: FakeWalletOptions) {
    this.opts = opts;
    this.state = { ...defaultFakeState(), ...opts.state };
    this.grpcPort = opts.grpcPort ?? 0;
    this.jsonRpcPort = opts.jsonRpcPort ?? 0;
  }

  static async start(opts: FakeWalletOptions): Promise<FakeWallet> {
    const w = new FakeWallet(opts);
    await w.listen();
    return w;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get jsonRpcAddress(): string {
    return `127.0.0.1:${this.jsonRpcPort}`;
  }

  get jsonRpcUser(): string {
    return this.opts.jsonRpcUser ?? 'rpcuser';
  }

  get jsonRpcPassword(): string {
    return this.opts.jsonRpcPassword ?? 'rpcpass';
  }

  calls(method: string): number {
    return this.state.calls[method] ?? 0;
  }

  /** End every TransactionNotifications stream, as a wallet shutting down does. */
  endNotifications(): void {
    for (const call of this.txStreams) call.end();
    this.txStreams.clear();
  }

  /** TransactionNotifications streams open now. */
  get notificationSubscribers(): number {
    return this.txStreams.size;
  }

  /**
   * The wallet gains a ticket (bought, or added by a VSP): it is stored and
   * announced to TransactionNotifications subscribers as an unmined
   * purchase, as dcrwallet announces a new relevant transaction.
   */
  addTicket(hash: string, ticket: FakeTicket): void {
    this.state.tickets.set(hash, ticket);
    this.notifyTransactions({ unmined: [{ hash, tx: ticket.tx ?? '', type: 'TICKET_PURCHASE' }] });
  }

  /**
   * Push one TransactionNotifications message to every subscriber (hashes
   * display order, transactions hex), and keep `tickets` in step: a ticket
   * purchase joins (mined when in an attached block), a vote or revocation
   * in an attached block marks the ticket it spends.
   */
  notifyTransactions(n: {
    attached?: { hash: string; height: number; txs: FakeWalletTx[] }[];
    detached?: string[];
    unmined?: FakeWalletTx[];
  }): void {
    const s = this.state;
    const wireTx = (t: FakeWalletTx): Req => ({ hash: toWire(t.hash), transaction: Buffer.from(t.tx, 'hex'), transaction_type: t.type });
    for (const t of n.unmined ?? []) if (t.type === 'TICKET_PURCHASE' && !s.tickets.has(t.hash)) s.tickets.set(t.hash, { status: 'UNMINED', tx: t.tx });
    for (const b of n.attached ?? []) {
      for (const t of b.txs) {
        if (t.type === 'TICKET_PURCHASE') s.tickets.set(t.hash, { ...s.tickets.get(t.hash), status: 'IMMATURE', tx: t.tx, blockHash: b.hash, blockHeight: b.height });
        else if (t.spends) {
          const ticket = s.tickets.get(t.spends);
          if (ticket) s.tickets.set(t.spends, { ...ticket, status: t.type === 'VOTE' ? 'VOTED' : 'REVOKED', spenderHash: t.hash, spenderType: t.type === 'VOTE' ? 'VOTE' : 'REVOCATION' });
        }
      }
    }
    const msg: Req = {
      attached_blocks: (n.attached ?? []).map((b) => ({ hash: toWire(b.hash), height: b.height, timestamp: '1700000000', transactions: b.txs.map(wireTx) })),
      detached_blocks: (n.detached ?? []).map(toWire),
      unmined_transactions: (n.unmined ?? []).map(wireTx),
      unmined_transaction_hashes: [],
      detached_block_headers: [],
    };
    for (const call of this.txStreams) call.write(msg);
  }

  /** Stop both servers at once, like a killed wallet process. State is kept. */
  async stop(): Promise<void> {
    for (const s of this.syncStreams) s.destroy();
    this.syncStreams.clear();
    for (const s of this.txStreams) s.destroy();
    this.txStreams.clear();
    this.state.syncing = false;
    this.grpcServer?.forceShutdown();
    this.grpcServer = null;
    const http = this.httpServer;
    this.httpServer = null;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  /**
   * A newer dcrwallet binary on the same wallet: a new vote version and its
   * agendas. dcrwallet keys agenda choices by (vote version, agenda id)
   * (wallet/udb/agendas.go agendaPreferencesTy.key), so the new version
   * starts with none set and the old version's choices come back on a
   * downgrade.
   */
  upgradeBinary(voteVersion: number, agendas: FakeAgenda[]): void {
    const s = this.state;
    this.#choicesByVersion.set(s.voteVersion, s.voteChoices);
    s.voteVersion = voteVersion;
    s.agendas = agendas;
    s.voteChoices = this.#choicesByVersion.get(voteVersion) ?? new Map();
  }

  readonly #choicesByVersion = new Map<number, Map<string, string>>();

  /** Start again on the same ports (a wallet restart). */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  /** End every running RpcSync stream the way dcrwallet does when its dcrd connection dies. */
  endSyncs(reason = 'connection to dcrd lost'): void {
    for (const s of this.syncStreams) {
      s.emit('error', { code: grpc.status.UNKNOWN, details: `Wallet synchronization stopped: ${reason}` });
    }
    this.syncStreams.clear();
    this.state.syncing = false;
    this.state.daemonConnected = false;
  }

  // ---- servers ------------------------------------------------------------

  private async listen(): Promise<void> {
    const { pki } = this.opts;
    const server = new grpc.Server();
    this.addServices(server);
    this.grpcPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${this.grpcPort}`,
        grpc.ServerCredentials.createSsl(pki.clientCa.cert, [{ private_key: pki.server.key, cert_chain: pki.server.cert }], true),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    this.grpcServer = server;

    const clientcert = this.opts.jsonRpcAuth === 'clientcert';
    const http = createHttpsServer(
      {
        key: pki.server.key,
        cert: pki.server.cert,
        ...(clientcert ? { ca: pki.clientCa.cert, requestCert: true, rejectUnauthorized: true } : {}),
      },
      (req, res) => this.serveJsonRpc(req, res),
    );
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.jsonRpcPort, '127.0.0.1', () => resolve());
    });
    this.jsonRpcPort = (http.address() as AddressInfo).port;
    this.httpServer = http;
  }

  private unary(method: string, needsWallet: string | null, fn: (req: Req) => Req): grpc.handleUnaryCall<Req, Req> {
    return (call, callback) => {
      this.state.calls[method] = (this.state.calls[method] ?? 0) + 1;
      const run = (): void => {
        try {
          if (needsWallet && !this.state.opened) {
            throw new RpcFail(grpc.status.FAILED_PRECONDITION, `service walletrpc.${needsWallet} is not ready`);
          }
          const refusal = this.state.refuse[method];
          if (refusal !== undefined) throw new RpcFail(grpc.status.PERMISSION_DENIED, refusal);
          callback(null, fn(call.request));
        } catch (err) {
          if (err instanceof RpcFail) callback({ code: err.code, details: err.message });
          else callback({ code: grpc.status.INTERNAL, details: String(err) });
        }
      };
      const delay = this.state.delayMs[method] ?? 0;
      if (delay > 0) setTimeout(run, delay);
      else run();
    };
  }

  private addServices(server: grpc.Server): void {
    const s = this.state;
    server.addService(service('VersionService'), {
      Version: this.unary('Version', null, () => ({
        version_string: '10.0.0',
        major: 10,
        minor: 0,
        patch: 0,
        prerelease: '',
        build_metadata: '',
      })),
    });

    server.addService(service('WalletService'), {
      Ping: this.unary('Ping', 'WalletService', () => ({})),
      Network: this.unary('Network', 'WalletService', () => ({
        active_network: typeof s.network === 'number' ? s.network : NET_IDS[s.network],
      })),
      BestBlock: this.unary('BestBlock', 'WalletService', () => ({
        hash: toWire(s.bestBlock.hash),
        height: s.bestBlock.height,
      })),
      StakeInfo: this.unary('StakeInfo', 'WalletService', () => this.stakeInfo()),
      GetTicket: this.unary('GetTicket', 'WalletService', (req) => this.getTicket(req)),
      UnlockWallet: this.unary('UnlockWallet', 'WalletService', (req) => {
        const given = (req['passphrase'] as Buffer | undefined) ?? Buffer.alloc(0);
        if (!given.equals(Buffer.from(s.passphrase, 'utf8'))) {
          s.locked = true; // wallet/wallet.go Unlock locks on a wrong passphrase
          throw new RpcFail(grpc.status.INVALID_ARGUMENT, 'wallet.Unlock: invalid passphrase: ciphertext decryption failed');
        }
        s.locked = false;
        return {};
      }),
      LockWallet: this.unary('LockWallet', 'WalletService', () => {
        s.locked = true;
        return {};
      }),
      GetTickets: (call: grpc.ServerWritableStream<Req, Req>) => this.getTickets(call),
      TransactionNotifications: (call: grpc.ServerWritableStream<Req, Req>) => this.transactionNotifications(call),
      SignTransaction: this.unary('SignTransaction', 'WalletService', (req) => this.signTransaction(req)),
      AccountUnlocked: this.unary('AccountUnlocked', 'WalletService', (req) => {
        const a = this.accountOrFail(req);
        // wallet/wallet.go AccountUnlocked: errors.Invalid for an account without its own passphrase.
        if (a.passphrase === undefined) throw new RpcFail(grpc.status.INVALID_ARGUMENT, 'wallet.AccountUnlocked: invalid operation: account is not individually encrypted');
        return { unlocked: a.unlocked };
      }),
      UnlockAccount: this.unary('UnlockAccount', 'WalletService', (req) => {
        const a = this.accountOrFail(req);
        // wallet/udb/addressmanager.go UnlockAccount: Crypto (→ DataLoss) without a unique passphrase;
        // a wrong passphrase is errors.Passphrase whether the account is locked or not, and changes nothing.
        if (a.passphrase === undefined) throw new RpcFail(grpc.status.DATA_LOSS, 'encryption/decryption error: account is not encrypted with a unique passphrase');
        const given = (req['passphrase'] as Buffer | undefined) ?? Buffer.alloc(0);
        if (!given.equals(Buffer.from(a.passphrase, 'utf8'))) throw new RpcFail(grpc.status.INVALID_ARGUMENT, 'invalid passphrase');
        a.unlocked = true;
        return {};
      }),
      PublishTransaction: this.unary('PublishTransaction', 'WalletService', () => {
        throw new RpcFail(grpc.status.UNIMPLEMENTED, 'not modelled by the fake wallet');
      }),
    });

    server.addService(service('WalletLoaderService'), {
      WalletExists: this.unary('WalletExists', null, () => ({ exists: s.exists })),
      OpenWallet: this.unary('OpenWallet', null, (req) => {
        if (s.opened) {
          throw new RpcFail(grpc.status.ALREADY_EXISTS, 'loader.OpenExistingWallet: item already exists:\n\twallet already opened');
        }
        if (!s.exists) {
          throw new RpcFail(grpc.status.NOT_FOUND, 'loader.OpenExistingWallet: wallet.OpenDB: item does not exist: missing database file');
        }
        const given = (req['public_passphrase'] as Buffer | undefined) ?? Buffer.alloc(0);
        const expected = Buffer.from(s.publicPassphrase === '' ? 'public' : s.publicPassphrase, 'utf8');
        if (!(given.length === 0 ? Buffer.from('public') : given).equals(expected)) {
          throw new RpcFail(grpc.status.INVALID_ARGUMENT, 'loader.OpenExistingWallet: invalid passphrase');
        }
        s.opened = true;
        return { watching_only: false };
      }),
      RpcSync: (call: grpc.ServerWritableStream<Req, Req>) => this.rpcSync(call),
    });

    server.addService(service('AgendaService'), {
      Agendas: this.unary('Agendas', null, () => ({
        version: s.voteVersion,
        agendas: s.agendas.map((a) => ({
          id: a.id,
          description: a.description,
          mask: a.mask,
          choices: a.choices.map((c) => ({
            id: c.id,
            description: c.description,
            bits: c.bits,
            is_abstain: c.isAbstain,
            is_no: c.isNo,
          })),
          start_time: String(a.startTime),
          // Infinity stands for chaincfg's "never expires", math.MaxInt64,
          // which real simnet agendas use (checked against dcrwallet 2.1.5).
          expire_time: a.expireTime === Infinity ? '9223372036854775807' : String(a.expireTime),
        })),
      })),
    });

    server.addService(service('VotingService'), {
      VoteChoices: this.unary('VoteChoices', 'VotingService', (req) => this.voteChoices(req)),
      SetVoteChoices: this.unary('SetVoteChoices', 'VotingService', (req) => this.setVoteChoices(req)),
      TreasuryPolicies: this.unary('TreasuryPolicies', 'VotingService', () => ({
        policies: [
          ...[...s.treasuryPolicies].map(([key, policy]) => ({ key: Buffer.from(key, 'hex'), policy, ticket_hash: Buffer.alloc(0) })),
          ...[...s.ticketTreasuryPolicies].map(([k, policy]) => {
            const [ticket = '', key = ''] = k.split('/');
            return { key: Buffer.from(key, 'hex'), policy, ticket_hash: toWire(ticket) };
          }),
        ],
      })),
      SetTreasuryPolicy: this.unary('SetTreasuryPolicy', 'VotingService', (req) => {
        const ticket = optionalHashArg(req['ticket_hash'] as Buffer | undefined);
        const key = (req['key'] as Buffer | undefined) ?? Buffer.alloc(0);
        if (key.length !== 33) throw new RpcFail(grpc.status.INVALID_ARGUMENT, 'treasury key must be 33 bytes');
        const policy = parsePolicy(req['policy']);
        const keyHex = key.toString('hex');
        const map = ticket ? s.ticketTreasuryPolicies : s.treasuryPolicies;
        const k = ticket ? `${ticket}/${keyHex}` : keyHex;
        if (policy === null) map.delete(k);
        else map.set(k, policy);
        return {};
      }),
      TSpendPolicies: this.unary('TSpendPolicies', 'VotingService', (req) => this.tspendPolicies(req)),
      SetTSpendPolicy: this.unary('SetTSpendPolicy', 'VotingService', (req) => {
        const raw = req['hash'] as Buffer | undefined;
        if ((raw?.length ?? 0) !== 32) {
          throw new RpcFail(grpc.status.INVALID_ARGUMENT, `invalid tspend hash length, expected 32 got ${raw?.length ?? 0}`);
        }
        const hash = fromWire(raw as Buffer);
        const rawTicket = req['ticket_hash'] as Buffer | undefined;
        // Present-but-empty counts as present here (server.go checks != nil).
        if (rawTicket !== undefined && rawTicket.length !== 32) {
          throw new RpcFail(grpc.status.INVALID_ARGUMENT, `invalid ticket hash length, expected 32 got ${rawTicket.length}`);
        }
        const ticket = rawTicket ? fromWire(rawTicket) : null;
        const policy = parsePolicy(req['policy']);
        const map = ticket ? s.ticketTSpendPolicies : s.tspendPolicies;
        const k = ticket ? `${ticket}/${hash}` : hash;
        if (policy === null) map.delete(k);
        else map.set(k, policy);
        return {};
      }),
    });
  }

  // ---- method bodies ------------------------------------------------------

  private stakeInfo(): Req {
    const count = (...st: FakeTicketStatus[]): number =>
      [...this.state.tickets.values()].filter((t) => st.includes(t.status)).length;
    return {
      pool_size: this.state.stake.poolSize,
      all_mempool_tix: this.state.stake.allMempoolTix,
      own_mempool_tix: count('UNMINED'),
      immature: count('IMMATURE'),
      live: count('LIVE'),
      voted: count('VOTED'),
      missed: count('MISSED'),
      revoked: count('REVOKED'),
      expired: count('EXPIRED'),
      total_subsidy: String(this.state.stake.totalSubsidy),
      unspent: count('UNMINED', 'IMMATURE', 'LIVE', 'MISSED', 'EXPIRED'),
    };
  }

  /** Counts a server-streaming call and answers it as dcrwallet would before it serves (or when told to refuse streams); false: already answered. */
  private streamMayStart(call: grpc.ServerWritableStream<Req, Req>, method: string): boolean {
    const s = this.state;
    s.calls[method] = (s.calls[method] ?? 0) + 1;
    if (s.refuseStreams) {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'unknown method' });
      return false;
    }
    if (!s.opened) {
      call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'service walletrpc.WalletService is not ready' });
      return false;
    }
    return true;
  }

  private getTickets(call: grpc.ServerWritableStream<Req, Req>): void {
    const s = this.state;
    if (!this.streamMayStart(call, 'GetTickets')) return;
    const entries = [...s.tickets.entries()];
    // starting_block_height bounds the mined ones from below (wallet.blockRange); no ending block: through the unmined.
    const from = Number(call.request['starting_block_height'] ?? 0);
    const mined = entries.filter(([, t]) => t.blockHeight !== undefined && t.blockHeight >= from).sort(([, a], [, b]) => (a.blockHeight ?? 0) - (b.blockHeight ?? 0));
    const unmined = entries.filter(([, t]) => t.blockHeight === undefined);
    for (const [hash, t] of [...mined, ...unmined]) call.write(this.ticketDetails(hash, t));
    call.end();
  }

  private transactionNotifications(call: grpc.ServerWritableStream<Req, Req>): void {
    if (!this.streamMayStart(call, 'TransactionNotifications')) return;
    this.txStreams.add(call);
    call.on('cancelled', () => this.txStreams.delete(call));
  }

  private getTicket(req: Req): Req {
    const hash = hashArg(req['ticket_hash'] as Buffer | undefined, 'ticket hash');
    const t = this.state.tickets.get(hash);
    if (!t) throw new RpcFail(grpc.status.NOT_FOUND, 'wallet.GetTicketInfo: item does not exist');
    return this.ticketDetails(hash, t);
  }

  /** server.go AccountUnlocked / UnlockAccount: AccountName first, NotExist → NotFound "account not found". */
  private accountOrFail(req: Req): FakeAccount {
    const a = this.state.accounts.get(Number(req['account_number'] ?? 0));
    if (!a) throw new RpcFail(grpc.status.NOT_FOUND, 'account not found');
    return a;
  }

  private ticketDetails(hash: string, t: FakeTicket): Req {
    return {
      ticket: {
        ticket: {
          hash: toWire(hash),
          transaction_type: 'TICKET_PURCHASE',
          ...(t.tx ? { transaction: Buffer.from(t.tx, 'hex') } : {}),
          // wallet/notifications.go makeTxSummary: outputs paying the wallet's addresses, with their account.
          credits: t.votingAccount === undefined ? [] : [{ index: 0, account: t.votingAccount }],
        },
        spender: t.spenderHash ? { hash: toWire(t.spenderHash), transaction_type: t.spenderType ?? 'VOTE' } : {},
        ticket_status: t.status,
      },
      ...(t.blockHash !== undefined && t.blockHeight !== undefined
        ? { block: { hash: toWire(t.blockHash), height: t.blockHeight, timestamp: '1700000000' } }
        : {}),
      vsp_host: t.vspHost ?? '',
    };
  }

  /**
   * server.go SignTransaction + wallet/wallet.go SignTransaction: a
   * passphrase unlocks for the call (a wrong one fails it, and locks an
   * unlocked wallet); input 0 of a vote is skipped; an input whose previous
   * output is unknown fails the call; an input the wallet has no usable key
   * for (wallet locked, account locked on its own, no key, watching-only)
   * is left unsigned and listed. The fake's signature is DER over a digest
   * of its own, not Decred's signature hash.
   */
  private signTransaction(req: Req): Req {
    const s = this.state;
    const raw = (req['serialized_transaction'] as Buffer | undefined) ?? Buffer.alloc(0);
    const decoded = decodeTx(raw);
    if (!decoded.ok) throw new RpcFail(grpc.status.INVALID_ARGUMENT, `Bytes do not represent a valid raw transaction: ${decoded.reason}`);
    const tx = decoded.value.tx;
    const pass = (req['passphrase'] as Buffer | undefined) ?? Buffer.alloc(0);
    s.signRequests.push({ passphrase: pass.length > 0, inputs: tx.txIn.length });
    let unlockedForCall = false;
    if (pass.length > 0) {
      if (!pass.equals(Buffer.from(s.passphrase, 'utf8'))) {
        s.locked = true;
        throw new RpcFail(grpc.status.INVALID_ARGUMENT, 'wallet.Unlock: invalid passphrase: ciphertext decryption failed');
      }
      unlockedForCall = s.locked;
    }
    const locked = s.locked && !unlockedForCall;
    const isVote = tx.txIn.length >= 2 && tx.txOut[0]?.pkScript[0] === 0x6a;
    const unsigned: number[] = [];
    tx.txIn.forEach((input, i) => {
      if (i === 0 && isVote) return;
      const prev = Buffer.from(input.prevOut.hash).reverse().toString('hex');
      const t = s.tickets.get(prev);
      if (!t) throw new RpcFail(grpc.status.UNKNOWN, `${prev}:${input.prevOut.index} not found`);
      const account = t.votingAccount === undefined ? undefined : s.accounts.get(t.votingAccount);
      const ownLock = account?.passphrase !== undefined && !account.unlocked;
      if (locked || ownLock || s.watchingOnly || !t.votingKey || !account) {
        unsigned.push(i);
        return;
      }
      input.signatureScript = p2pkhSigScript(t.votingKey, serializeTx(tx, 'noWitness'));
    });
    return { transaction: Buffer.from(serializeTx(tx)), unsigned_input_indexes: unsigned };
  }

  private ownTicketOrFail(ticket: string): void {
    if (!this.state.tickets.has(ticket)) throw new RpcFail(grpc.status.NOT_FOUND, 'item does not exist: ticket not found');
  }

  private voteChoices(req: Req): Req {
    const s = this.state;
    const ticket = optionalHashArg(req['ticket_hash'] as Buffer | undefined);
    if (ticket) this.ownTicketOrFail(ticket);
    let saved = ticket ? s.ticketVoteChoices.get(ticket) : s.voteChoices;
    if (!saved || saved.size === 0) saved = s.voteChoices;
    let voteBits = 1;
    const choices = s.agendas.map((a) => {
      const choiceId = saved.get(a.id) ?? 'abstain';
      const c = a.choices.find((x) => x.id === choiceId);
      if (saved.has(a.id) && c) voteBits |= c.bits;
      return {
        agenda_id: a.id,
        agenda_description: a.description,
        choice_id: choiceId,
        choice_description: c?.description ?? '',
      };
    });
    return { version: s.voteVersion, choices, votebits: voteBits };
  }

  private setVoteChoices(req: Req): Req {
    const s = this.state;
    const ticket = optionalHashArg(req['ticket_hash'] as Buffer | undefined);
    if (s.agendas.length === 0) throw new RpcFail(grpc.status.UNKNOWN, 'no agendas to set for this network');
    if (ticket) this.ownTicketOrFail(ticket);
    const requested = ((req['choices'] as Req[] | undefined) ?? []).map((c) => ({
      agendaId: String(c['agenda_id'] ?? ''),
      choiceId: String(c['choice_id'] ?? ''),
    }));
    // Validate everything first: the wallet applies the set in one DB transaction.
    for (const { agendaId, choiceId } of requested) {
      const agenda = s.agendas.find((a) => a.id === agendaId);
      if (!agenda) {
        throw new RpcFail(grpc.status.INVALID_ARGUMENT, `wallet.SetAgendaChoices: invalid operation: no agenda with ID "${agendaId}"`);
      }
      if (!agenda.choices.some((c) => c.id === choiceId)) {
        throw new RpcFail(
          grpc.status.INVALID_ARGUMENT,
          `wallet.SetAgendaChoices: invalid operation: agenda "${agendaId}" has no choice ID "${choiceId}"`,
        );
      }
    }
    let target = s.voteChoices;
    if (ticket) {
      target = s.ticketVoteChoices.get(ticket) ?? new Map();
      s.ticketVoteChoices.set(ticket, target);
    }
    for (const { agendaId, choiceId } of requested) target.set(agendaId, choiceId);
    let voteBits = 1;
    for (const a of s.agendas) {
      const c = a.choices.find((x) => x.id === target.get(a.id));
      if (c) voteBits |= c.bits;
    }
    return { votebits: voteBits };
  }

  private tspendPolicy(hash: string, ticket: string | null): 'yes' | 'no' | null {
    const s = this.state;
    if (ticket) {
      const p = s.ticketTSpendPolicies.get(`${ticket}/${hash}`);
      if (p) return p;
    }
    const direct = s.tspendPolicies.get(hash);
    if (direct) return direct;
    const key = s.knownTSpends.get(hash);
    if (key === undefined) return null;
    if (ticket) {
      const p = s.ticketTreasuryPolicies.get(`${ticket}/${key}`);
      if (p) return p;
    }
    return s.treasuryPolicies.get(key) ?? null;
  }

  private tspendPolicies(req: Req): Req {
    const ticket = optionalHashArg(req['ticket_hash'] as Buffer | undefined);
    const raw = req['hash'] as Buffer | undefined;
    const ticketOut = req['ticket_hash'] ? (req['ticket_hash'] as Buffer) : Buffer.alloc(0);
    if (raw && raw.length > 0) {
      const hash = hashArg(raw, 'tspend hash');
      return { policies: [{ hash: raw, policy: this.tspendPolicy(hash, ticket) ?? 'abstain', ticket_hash: ticketOut }] };
    }
    return {
      policies: [...this.state.knownTSpends.keys()].map((hash) => ({
        hash: toWire(hash),
        policy: this.tspendPolicy(hash, ticket) ?? '',
        ticket_hash: ticketOut,
      })),
    };
  }

  private rpcSync(call: grpc.ServerWritableStream<Req, Req>): void {
    const s = this.state;
    s.calls['RpcSync'] = (s.calls['RpcSync'] ?? 0) + 1;
    const req = call.request;
    const fail = (code: grpc.status, details: string): void => {
      call.emit('error', { code, details });
    };
    if (!s.opened) return fail(grpc.status.FAILED_PRECONDITION, 'wallet has not been loaded');
    if (s.syncing) return fail(grpc.status.FAILED_PRECONDITION, 'wallet is loaded and already synchronizing');
    const discover = req['discover_accounts'] === true;
    const priv = (req['private_passphrase'] as Buffer | undefined) ?? Buffer.alloc(0);
    if (discover && priv.length === 0) {
      return fail(grpc.status.INVALID_ARGUMENT, 'private passphrase is required for discovering accounts');
    }
    if (discover && !priv.equals(Buffer.from(s.passphrase, 'utf8'))) {
      return fail(grpc.status.INVALID_ARGUMENT, 'wallet.Unlock: invalid passphrase');
    }
    s.lastRpcSync = {
      networkAddress: String(req['network_address'] ?? ''),
      username: String(req['username'] ?? ''),
      discoverAccounts: discover,
    };
    const behaviour = s.rpcSync;
    if (behaviour.mode === 'fail') {
      return fail(grpc.status.UNKNOWN, `Wallet synchronization stopped: ${behaviour.message}`);
    }
    s.syncing = true;
    this.syncStreams.add(call);
    call.on('cancelled', () => {
      // The wallet stops syncing when the stream's context ends.
      if (this.syncStreams.delete(call)) {
        s.syncing = false;
        s.daemonConnected = false;
      }
    });
    call.write({ synced: false, notification_type: 'FETCHED_HEADERS_STARTED' });
    if (behaviour.mode === 'sync') {
      setImmediate(() => {
        if (!this.syncStreams.has(call)) return;
        s.daemonConnected = true;
        call.write({ synced: false, notification_type: 'FETCHED_HEADERS_FINISHED' });
        call.write({ synced: true, notification_type: 'SYNCED' });
      });
    }
  }

  // ---- JSON-RPC -----------------------------------------------------------

  private serveJsonRpc(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Connection', 'close');
      res.setHeader('Content-Type', 'application/json');
      if (this.opts.jsonRpcAuth !== 'clientcert') {
        const expected = 'Basic ' + Buffer.from(`${this.jsonRpcUser}:${this.jsonRpcPassword}`).toString('base64');
        if (req.headers.authorization !== expected) {
          res.setHeader('WWW-Authenticate', 'Basic realm="dcrwallet RPC"');
          res.statusCode = 401;
          res.end('401 Unauthorized.\n');
          return;
        }
      }
      if (this.state.jsonRpcRawReply !== undefined) {
        res.end(this.state.jsonRpcRawReply);
        return;
      }
      let parsed: { jsonrpc?: string; id?: unknown; method?: string };
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
      } catch {
        res.end(JSON.stringify({ jsonrpc: '1.0', result: null, error: { code: -32600, message: 'Invalid request' }, id: null }));
        return;
      }
      const reply = (result: unknown, error: { code: number; message: string } | null): void => {
        res.end(JSON.stringify({ jsonrpc: parsed.jsonrpc === '2.0' ? '2.0' : '1.0', result, error, id: parsed.id ?? null }));
      };
      const method = String(parsed.method ?? '');
      this.state.calls[method] = (this.state.calls[method] ?? 0) + 1;
      if (method !== 'walletinfo') {
        reply(null, { code: -32601, message: 'Method not found' });
        return;
      }
      if (!this.state.opened) {
        reply(null, { code: -4, message: 'request requires a wallet but wallet has not loaded yet' });
        return;
      }
      const s = this.state;
      const ext = Buffer.alloc(4);
      ext.writeUInt32LE(s.voteVersion);
      reply(
        {
          daemonconnected: s.daemonConnected,
          spv: s.spv,
          unlocked: !s.locked,
          cointype: 1,
          txfee: 0.0001,
          votebits: 1,
          votebitsextended: ext.toString('hex'),
          voteversion: s.voteVersion,
          voting: s.votingEnabled,
          vsp: '',
          manualtickets: false,
          birthhash: '',
          birthheight: 0,
        },
        null,
      );
    });
  }
}

function parsePolicy(p: unknown): 'yes' | 'no' | null {
  const v = p === undefined ? '' : String(p);
  if (v === 'abstain' || v === 'invalid' || v === '') return null;
  if (v === 'yes' || v === 'no') return v;
  throw new RpcFail(grpc.status.INVALID_ARGUMENT, `unknown policy "${v}"`);
}
