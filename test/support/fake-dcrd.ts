// In-process fake dcrd for component tests: HTTPS + websocket JSON-RPC on
// /ws with basic auth, a simulated chain (main chain + side blocks), lottery
// winners chosen by the test, a vote mempool, and dcrd's real JSON shapes.
//
// Behaviour copied from dcrd (so the fake can be checked against it):
// - /ws auth: internal/rpcserver/rpcserver.go route(): checkAuth before the
//   upgrade, failure → jsonAuthFail: HTTP 401 "401 Unauthorized." with
//   WWW-Authenticate: Basic realm="dcrd RPC".
// - replies: dcrjson.MarshalResponse → {"jsonrpc":"1.0","result","error","id"};
//   notifications: dcrjson.MarshalCmd("1.0", nil, ntfn) → "id": null.
// - subscriptions are per connection and die with it
//   (internal/rpcserver/rpcwebsocket.go notificationHandler).
// - winningtickets [hash, height, {"0": t0, …}] (rpcwebsocket.go
//   notifyWinningTickets) is sent when a block is accepted, which real dcrd
//   2.1.6 does AFTER its blockconnected (checked on simnet by
//   test/e2e/agreement.test.ts).
// - blockconnected [headerHex, subscribedTxs=null], blockdisconnected
//   [headerHex] (rpcwebsocket.go notifyBlockConnected/Disconnected);
//   reorganization [oldhash, oldheight, newhash, newheight] precedes a reorg
//   (types/chainsvrwsntfns.go ReorganizationNtfn).
// - RPC params/results: rpc/jsonrpc/types/chainsvrcmds.go and
//   chainsvrresults.go; handlers in internal/rpcserver/rpcserver.go
//   (getblock confirmations -1 off the main chain; existsmempooltxs hex
//   bitset, bit i = byte i>>3, 1<<(i&7), per dcrd bitset.Bytes.Set;
//   getcurrentnet returns wire.CurrencyNet from wire/protocol.go).
// - error codes: dcrjson ErrRPCBlockNotFound/ErrRPCNoTxInfo -5,
//   ErrRPCOutOfRange -1, ErrRPCMethodNotFound -32601, ErrRPCInvalidParameter -8.

import { decodeTx, txid } from '../../src/vote/tx.js';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BlockRef, NetworkName } from '../../src/domain.js';
import { CURRENCY_NET } from '../../src/dcrd/rpc.js';
import type { DcrdClientOptions } from '../../src/dcrd/ws-client.js';
import {
  buildBaseBlock,
  buildBlock,
  buildVoteTx,
  verboseTx,
  type BuildBlockOptions,
  type FakeBlock,
  type FakeTx,
} from './fake-dcrd-chain.js';
import { makeSelfSignedCert, type FakeTlsMaterial } from './fake-dcrd-tls.js';

export { randomHash } from './fake-dcrd-chain.js';
export type { BuildBlockOptions } from './fake-dcrd-chain.js';

export interface FakeDcrdOptions {
  user?: string;
  password?: string;
  network?: NetworkName;
  /** Height of the first block of the fake chain. */
  baseHeight?: number;
  /** Reuse TLS material (e.g. to share a CA with another fake). */
  tls?: FakeTlsMaterial;
  /** getblockchaininfo deployments. */
  deployments?: Record<string, FakeDeployment>;
  /** getvoteinfo: the agendas of each vote version dcrd knows (default: simnet's version 12). */
  voteVersions?: Record<number, FakeVoteAgenda[]>;
}

export interface FakeDeployment {
  status: string;
  since?: number;
  starttime: number;
  expiretime: number;
}

/** One agenda of a vote version, as chaincfg declares it; status and counts as getvoteinfo reports them. */
export interface FakeVoteAgenda {
  id: string;
  description: string;
  mask: number;
  starttime: number;
  expiretime: number;
  status: string;
  quorumprogress?: number;
  choices?: { id: string; description: string; bits: number; isabstain: boolean; isno: boolean; count?: number; progress?: number }[];
}

/**
 * chaincfg/v3 simnetparams.go: the rule-change interval, quorum and stake
 * validation height getvoteinfo's heights are computed from
 * (rpcserver.go handleGetVoteInfo, blockchain/stakeversion.go calcWantHeight).
 */
const VOTE_PARAMS: Record<NetworkName, { interval: number; quorum: number; svh: number }> = {
  mainnet: { interval: 8064, quorum: 4032, svh: 4096 },
  testnet: { interval: 5040, quorum: 2520, svh: 768 },
  simnet: { interval: 320, quorum: 160, svh: 144 },
};

/** abstain/no/yes on bits 1 and 2 (chaincfg simnet agendas). */
export function simnetChoices(): NonNullable<FakeVoteAgenda['choices']> {
  return [
    { id: 'abstain', description: 'abstain voting for change', bits: 0, isabstain: true, isno: false },
    { id: 'no', description: 'keep the existing consensus rules', bits: 2, isabstain: false, isno: true },
    { id: 'yes', description: 'change to the new consensus rules', bits: 4, isabstain: false, isno: false },
  ];
}

/** simnet version 12 (chaincfg/v3 simnetparams.go): maxtreasuryspend, active since block 1. */
const SIMNET_VOTE_VERSIONS: Record<number, FakeVoteAgenda[]> = {
  12: [
    {
      id: 'maxtreasuryspend',
      description: 'Change maximum treasury expenditure policy as defined in DCP0013',
      mask: 0x0006,
      starttime: 0,
      expiretime: 9223372036854775807,
      status: 'active',
    },
  ],
};

/**
 * getblockchaininfo "deployments" as real dcrd 2.1.6 reports them on simnet:
 * every agenda active since height 1, start 0, and expiretime
 * math.MaxInt64 ("never expires", chaincfg), which no JSON parser reads as
 * a safe integer. The fake used to report no deployments at all.
 */
const NEVER_EXPIRES = 9223372036854775807; // rounds to 2^63, as JSON.parse of dcrd's text does
const SIMNET_DEPLOYMENTS: Record<string, FakeDeployment> = Object.fromEntries(
  [
    'autorevocations', 'blake3pow', 'changesubsidysplit', 'changesubsidysplitr2', 'explicitverupgrades', 'fixlnseqlocks',
    'headercommitments', 'lnfeatures', 'maxblocksize', 'maxtreasuryspend', 'reverttreasurypolicy', 'sdiffalgorithm', 'treasury',
  ].map((id) => [id, { status: 'active', since: 1, starttime: 0, expiretime: NEVER_EXPIRES }]),
);

interface Client {
  ws: WebSocket;
  blocks: boolean;
  winners: boolean;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeDcrd {
  readonly calls = new Map<string, number>();
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly clients = new Set<Client>();
  private readonly blocks = new Map<string, FakeBlock>();
  private readonly mainChain: FakeBlock[] = [];
  private readonly mempool = new Map<string, FakeTx>();
  /** Treasury spends: raw hex by hash, in the mempool or mined (answered with --txindex, as the harness runs dcrd). */
  private readonly tspendsInMempool = new Map<string, string>();
  private readonly tspendsMined = new Map<string, string>();
  /** getblockchaininfo deployments; tests change them to drive the upgrade guard. */
  deployments: Record<string, FakeDeployment>;
  /** getvoteinfo agendas per known vote version. */
  voteVersions: Record<number, FakeVoteAgenda[]>;
  private user: string;
  private password: string;
  private frozen = false;
  private portNumber = 0;
  private tlsMaterial: FakeTlsMaterial | null;
  private ownsTls: boolean;
  /** What getpeerinfo lists: each peer's address and last announced height (0: none yet). */
  peers: { addr: string; currentHeight: number; inbound?: boolean }[] = [];
  /** getblockchaininfo initialblockdownload: true while dcrd does not consider itself current. */
  initialBlockDownload = false;
  /** getblockchaininfo headers, when the fake knows of headers past its tip. */
  bestHeaderHeight: number | null = null;
  /** Raw transactions received through sendrawtransaction, in order. */
  readonly sent: string[] = [];
  /** Connections refused with 401 (lets tests see retries). */
  authFailures = 0;

  constructor(private readonly options: FakeDcrdOptions = {}) {
    this.user = options.user ?? 'rpcuser';
    this.password = options.password ?? 'rpcpass';
    this.tlsMaterial = options.tls ?? null;
    this.ownsTls = !options.tls;
    this.deployments = structuredClone(options.deployments ?? SIMNET_DEPLOYMENTS);
    this.voteVersions = structuredClone(options.voteVersions ?? SIMNET_VOTE_VERSIONS);
    const base = buildBaseBlock(options.baseHeight ?? 200, 1_700_000_000);
    this.blocks.set(base.hash, base);
    this.mainChain.push(base);
  }

  get port(): number {
    return this.portNumber;
  }

  get caCert(): string {
    if (!this.tlsMaterial) throw new Error('fake dcrd not started');
    return this.tlsMaterial.certPem;
  }

  get tls(): FakeTlsMaterial {
    if (!this.tlsMaterial) throw new Error('fake dcrd not started');
    return this.tlsMaterial;
  }

  get tip(): BlockRef {
    const t = this.tipBlock();
    return { hash: t.hash, height: t.height };
  }

  /** Number of open websocket connections (authenticated ones only). */
  get connectionCount(): number {
    return this.clients.size;
  }

  /** Connections currently subscribed to the given notification family. */
  subscriberCount(kind: 'blocks' | 'winners'): number {
    return [...this.clients].filter((c) => c[kind]).length;
  }

  callCount(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  setCredentials(user: string, password: string): void {
    this.user = user;
    this.password = password;
  }

  /** Listen (again) on the same port; the first start picks a free port. */
  async start(): Promise<void> {
    if (this.server) return;
    if (!this.tlsMaterial) this.tlsMaterial = await makeSelfSignedCert();
    const server = createServer({ cert: this.tlsMaterial.certPem, key: this.tlsMaterial.keyPem });
    const wss = new WebSocketServer({ noServer: true, autoPong: false });
    server.on('request', (_req, res) => {
      // dcrd's "/" endpoint is HTTP POST JSON-RPC; the fake only speaks /ws.
      res.writeHead(404).end();
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(wss, req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.portNumber = addr.port;
    this.server = server;
    this.wss = wss;
  }

  /** Simulate dcrd going down: drop every connection and stop listening. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.dropConnections();
    this.wss?.close();
    this.wss = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** stop() plus removal of generated TLS files. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsTls) await this.tlsMaterial?.cleanup();
  }

  /** Kill every websocket abruptly (no close frame), as a crash or network cut would. */
  dropConnections(): void {
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
  }

  /** Stop answering pings and requests: a TCP peer that went silent. */
  freeze(frozen = true): void {
    this.frozen = frozen;
  }

  /** Send arbitrary text to every connected client (malformed notifications). */
  sendRaw(text: string): void {
    for (const c of this.clients) c.ws.send(text);
  }

  tipBlock(): FakeBlock {
    const t = this.mainChain[this.mainChain.length - 1];
    if (!t) throw new Error('fake chain is empty');
    return t;
  }

  block(hash: string): FakeBlock | undefined {
    return this.blocks.get(hash);
  }

  /** Mine a block on the current tip and announce it like dcrd does. */
  connectBlock(opts: BuildBlockOptions = {}): BlockRef {
    const parent = this.tipBlock();
    const block = buildBlock({ hash: parent.hash, height: parent.height, timestamp: parent.header.timestamp }, opts);
    this.attach(block);
    this.announceConnected(block);
    return { hash: block.hash, height: block.height };
  }

  /**
   * Disconnect the top `depth` blocks (they stay known as side blocks) and
   * connect `newBlocks` on the fork point. Sends reorganization, then
   * blockdisconnected tip-first, then winningtickets + blockconnected per new
   * block.
   */
  reorg(depth: number, ...newBlocks: BuildBlockOptions[]): BlockRef[] {
    if (depth < 1 || depth >= this.mainChain.length) throw new Error(`cannot reorg ${depth} blocks`);
    const oldTip = this.tipBlock();
    const forkPoint = this.mainChain[this.mainChain.length - 1 - depth];
    if (!forkPoint) throw new Error('fork point missing');
    const built: FakeBlock[] = [];
    let parent = forkPoint;
    for (const opts of newBlocks) {
      const b = buildBlock({ hash: parent.hash, height: parent.height, timestamp: parent.header.timestamp + 1 }, opts);
      built.push(b);
      parent = b;
    }
    const newTip = built[built.length - 1] ?? forkPoint;
    this.notify('blocks', 'reorganization', [oldTip.hash, oldTip.height, newTip.hash, newTip.height]);
    const removed = this.mainChain.splice(this.mainChain.length - depth, depth).reverse();
    for (const b of removed) this.notify('blocks', 'blockdisconnected', [b.headerHex]);
    for (const b of built) {
      this.attach(b);
      this.announceConnected(b);
    }
    return built.map((b) => ({ hash: b.hash, height: b.height }));
  }

  /** Put a vote for `ticket` on `votedBlock` into the mempool; returns its txid. */
  addMempoolVote(ticket: string, votedBlock: BlockRef, voteBits = 1): string {
    const tx = buildVoteTx(ticket, votedBlock, voteBits);
    this.mempool.set(tx.txid, tx);
    return tx.txid;
  }

  /** A treasury spend (raw hex) arrives in the mempool; returns its hash. */
  addMempoolTSpend(hex: string): string {
    const d = decodeTx(hex);
    if (!d.ok) throw new Error(`not a transaction: ${d.reason}`);
    const id = txid(d.value.tx);
    this.tspendsInMempool.set(id, hex);
    return id;
  }

  /** The tspend leaves the mempool in a block; getrawtransaction still finds it (txindex). */
  mineTSpend(hash: string): void {
    const hex = this.tspendsInMempool.get(hash);
    if (hex === undefined) throw new Error(`tspend ${hash} is not in the mempool`);
    this.tspendsInMempool.delete(hash);
    this.tspendsMined.set(hash, hex);
  }

  removeMempoolTx(txid: string): void {
    this.mempool.delete(txid);
  }

  get mempoolTxids(): string[] {
    return [...this.mempool.keys()];
  }

  private attach(block: FakeBlock): void {
    this.blocks.set(block.hash, block);
    this.mainChain.push(block);
    // Mined stake txs leave the mempool, as do other votes of the same tickets.
    const spent = new Set(block.stx.map((t) => t.ticket));
    for (const [txid, tx] of this.mempool) if (spent.has(tx.ticket)) this.mempool.delete(txid);
  }

  private announceConnected(block: FakeBlock): void {
    // Real dcrd 2.1.6 sends blockconnected FIRST and winningtickets after it
    // (blockchain sends NTBlockConnected while connecting the block and
    // NTBlockAccepted, which carries the lottery result, once it is accepted;
    // both go through one ordered notification queue). Observed on simnet by
    // test/e2e/agreement.test.ts; the fake used to send them the other way round.
    this.notify('blocks', 'blockconnected', [block.headerHex, null]);
    if (block.winners.length > 0) {
      const map: Record<string, string> = {};
      block.winners.forEach((t, i) => (map[String(i)] = t));
      this.notify('winners', 'winningtickets', [block.hash, block.height, map]);
    }
  }

  private notify(kind: 'blocks' | 'winners', method: string, params: unknown[]): void {
    const text = JSON.stringify({ jsonrpc: '1.0', method, params, id: null });
    for (const c of this.clients) if (c[kind]) c.ws.send(text);
  }

  private onUpgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const expected = 'Basic ' + Buffer.from(`${this.user}:${this.password}`).toString('base64');
    if (req.headers.authorization !== expected) {
      this.authFailures++;
      const body = '401 Unauthorized.\n';
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="dcrd RPC"\r\n' +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    const client: Client = { ws, blocks: false, winners: false };
    this.clients.add(client);
    ws.on('ping', (data) => {
      if (!this.frozen) ws.pong(data);
    });
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    ws.on('message', (data) => {
      if (this.frozen) return;
      let req: { id?: unknown; method?: unknown; params?: unknown; jsonrpc?: unknown };
      try {
        req = JSON.parse(data.toString()) as typeof req;
      } catch {
        ws.send(JSON.stringify({ jsonrpc: '1.0', result: null, error: { code: -32700, message: 'Parse error' }, id: null }));
        return;
      }
      const method = typeof req.method === 'string' ? req.method : '';
      const params = Array.isArray(req.params) ? (req.params as unknown[]) : [];
      this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
      let reply: { result: unknown; error: { code: number; message: string } | null };
      try {
        reply = { result: this.dispatch(client, method, params), error: null };
      } catch (err) {
        const code = err instanceof RpcFailure ? err.code : -32603;
        reply = { result: null, error: { code, message: (err as Error).message } };
      }
      ws.send(JSON.stringify({ jsonrpc: '1.0', ...reply, id: req.id ?? null }));
    });
  }

  private mainHeight(block: FakeBlock): boolean {
    return this.mainChain[block.height - (this.mainChain[0]?.height ?? 0)] === block;
  }

  private confirmations(block: FakeBlock): number {
    return this.mainHeight(block) ? this.tipBlock().height - block.height + 1 : -1;
  }

  private requireBlock(hash: unknown): FakeBlock {
    const b = typeof hash === 'string' ? this.blocks.get(hash) : undefined;
    if (!b) throw new RpcFailure(-5, `Block not found: ${String(hash)}`);
    return b;
  }

  private headerVerbose(b: FakeBlock): Record<string, unknown> {
    const h = b.header;
    const next = this.mainHeight(b) ? this.mainChain[b.height - (this.mainChain[0]?.height ?? 0) + 1] : undefined;
    return {
      hash: b.hash,
      powhash: b.hash,
      confirmations: this.confirmations(b),
      version: h.version,
      merkleroot: h.merkleRoot,
      stakeroot: h.stakeRoot,
      votebits: h.voteBits,
      finalstate: h.finalState,
      voters: h.voters,
      freshstake: h.freshStake,
      revocations: h.revocations,
      poolsize: h.poolSize,
      bits: h.bits.toString(16),
      sbits: h.sbits / 1e8,
      height: h.height,
      size: h.size,
      time: h.timestamp,
      mediantime: h.timestamp - 600,
      nonce: h.nonce,
      extradata: h.extraData,
      stakeversion: h.stakeVersion,
      difficulty: 1,
      chainwork: b.height.toString(16).padStart(64, '0'),
      ...(b.prevHash !== '0'.repeat(64) ? { previousblockhash: b.prevHash } : {}),
      ...(next ? { nextblockhash: next.hash } : {}),
    };
  }

  private findTx(txid: string): { tx: FakeTx; block?: FakeBlock; index: number } | undefined {
    const m = this.mempool.get(txid);
    if (m) return { tx: m, index: 0 };
    for (const b of this.mainChain) {
      for (const tree of [b.tx, b.stx]) {
        const index = tree.findIndex((t) => t.txid === txid);
        const tx = tree[index];
        if (tx) return { tx, block: b, index };
      }
    }
    return undefined;
  }

  private dispatch(client: Client, method: string, params: unknown[]): unknown {
    switch (method) {
      case 'notifyblocks':
        client.blocks = true;
        return null;
      case 'stopnotifyblocks':
        client.blocks = false;
        return null;
      case 'notifywinningtickets':
        client.winners = true;
        return null;
      case 'getbestblock': {
        const t = this.tipBlock();
        return { hash: t.hash, height: t.height };
      }
      case 'getblockhash': {
        const height = params[0];
        const b = typeof height === 'number' ? this.mainChain[height - (this.mainChain[0]?.height ?? 0)] : undefined;
        if (!b) throw new RpcFailure(-1, `Block number out of range: ${String(height)}`);
        return b.hash;
      }
      case 'getblockheader': {
        const b = this.requireBlock(params[0]);
        return params[1] === false ? b.headerHex : this.headerVerbose(b);
      }
      case 'getblock': {
        const b = this.requireBlock(params[0]);
        if (params[1] === false) return b.headerHex; // header-only stand-in for the raw block
        const { mediantime: _m, ...header } = this.headerVerbose(b);
        const confirmations = this.confirmations(b);
        // Real dcrd always lists the regular tree ("tx" / "rawtx": at least
        // the coinbase); the fake used to leave it out.
        const txs =
          params[2] === true
            ? {
                rawtx: b.tx.map((tx, index) => verboseTx(tx, { block: b, index, confirmations })),
                ...(b.stx.length > 0 ? { rawstx: b.stx.map((tx, index) => verboseTx(tx, { block: b, index, confirmations })) } : {}),
              }
            : { tx: b.tx.map((t) => t.txid), ...(b.stx.length > 0 ? { stx: b.stx.map((t) => t.txid) } : {}) };
        return { ...header, mediantime: b.header.timestamp - 600, ...txs };
      }
      case 'getrawmempool': {
        const type = params[1] ?? 'all';
        if (params[0] === true) throw new RpcFailure(-8, 'verbose mempool not simulated');
        // "tspend" is dcrd's filter name for treasury spends (types.GRMTSpend).
        const tspends = type === 'all' || type === 'tspend' ? [...this.tspendsInMempool.keys()] : [];
        return [
          ...[...this.mempool.values()]
            .filter((t) => type === 'all' || (type === 'votes' && t.kind === 'vote') || (type === 'revocations' && t.kind === 'revocation'))
            .map((t) => t.txid),
          ...tspends,
        ];
      }
      case 'getrawtransaction': {
        const tspend = typeof params[0] === 'string' ? this.tspendsInMempool.get(params[0]) ?? this.tspendsMined.get(params[0]) : undefined;
        if (tspend !== undefined) {
          if (params[1]) throw new RpcFailure(-8, 'verbose tspends not simulated');
          return tspend;
        }
        const found = typeof params[0] === 'string' ? this.findTx(params[0]) : undefined;
        if (!found) throw new RpcFailure(-5, 'No information available about transaction');
        if (!params[1]) return found.tx.hex;
        return verboseTx(
          found.tx,
          found.block ? { block: found.block, index: found.index, confirmations: this.confirmations(found.block) } : undefined,
        );
      }
      case 'existsmempooltxs': {
        const hashes = params[0];
        if (!Array.isArray(hashes)) throw new RpcFailure(-8, 'txhashes must be an array');
        const bits = new Uint8Array(Math.ceil(hashes.length / 8));
        hashes.forEach((h, i) => {
          if (typeof h === 'string' && this.mempool.has(h)) bits[i >> 3]! |= 1 << (i & 7);
        });
        return Buffer.from(bits).toString('hex');
      }
      case 'getblockchaininfo': {
        const t = this.tipBlock();
        const net = this.options.network ?? 'simnet';
        return {
          chain: net === 'testnet' ? 'testnet3' : net,
          blocks: t.height,
          headers: Math.max(t.height, this.bestHeaderHeight ?? t.height),
          syncheight: t.height,
          bestblockhash: t.hash,
          difficulty: t.header.bits,
          difficultyratio: 1,
          verificationprogress: 1,
          chainwork: t.height.toString(16).padStart(64, '0'),
          initialblockdownload: this.initialBlockDownload,
          maxblocksize: 393216,
          deployments: this.deployments,
        };
      }
      case 'getpeerinfo': {
        // Shape of dcrd 2.1.6 rpcserver.go handleGetPeerInfo
        // (types.GetPeerInfoResult): sorted by id, currentheight omitted
        // when 0 (omitempty); the counters are plausible constants.
        const now = Math.floor(Date.now() / 1000);
        return this.peers.map((p, i) => ({
          id: i + 1,
          addr: p.addr,
          addrlocal: '127.0.0.1:0',
          services: '00000005',
          relaytxes: true,
          lastsend: now,
          lastrecv: now,
          bytessent: 1000,
          bytesrecv: 1000,
          conntime: now,
          timeoffset: 0,
          pingtime: 100,
          version: 11,
          subver: '/dcrwire:1.0.0/dcrd:2.1.6/',
          inbound: p.inbound ?? false,
          startingheight: p.currentHeight,
          ...(p.currentHeight > 0 ? { currentheight: p.currentHeight } : {}),
          banscore: 0,
          syncnode: i === 0,
        }));
      }
      case 'getvoteinfo':
        return this.voteInfo(params[0]);
      case 'getstakeversions':
        return this.stakeVersions(params[0], params[1]);
      case 'getcurrentnet':
        return CURRENCY_NET[this.options.network ?? 'simnet'];
      case 'sendrawtransaction': {
        // Records what was broadcast; answers the txid as dcrd does
        // (rpcserver.go handleSendRawTransaction). Not validated.
        const decoded = typeof params[0] === 'string' ? decodeTx(params[0]) : null;
        if (!decoded?.ok) throw new RpcFailure(-22, 'TX decode failed');
        const id = txid(decoded.value.tx);
        if (this.sent.includes(params[0] as string)) throw new RpcFailure(-40, `already have transaction ${id}`);
        this.sent.push(params[0] as string);
        return id;
      }
      default:
        throw new RpcFailure(-32601, 'Method not found');
    }
  }

  /** rpcserver.go handleGetVoteInfo; -8 "N: unrecognized vote version" for a version chaincfg lacks. */
  private voteInfo(version: unknown): unknown {
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) throw new RpcFailure(-8, `invalid vote version ${String(version)}`);
    const agendas = this.voteVersions[version];
    if (!agendas) throw new RpcFailure(-8, `${version}: unrecognized vote version`);
    const p = VOTE_PARAMS[this.options.network ?? 'simnet'];
    const t = this.tipBlock();
    const want = calcWantHeight(p.svh, p.interval, t.height);
    return {
      currentheight: t.height,
      startheight: want + 1,
      endheight: want + p.interval,
      hash: t.hash,
      voteversion: version,
      quorum: p.quorum,
      totalvotes: this.mainChain.reduce((n, b) => n + b.stx.filter((x) => x.kind === 'vote' && x.voteVersion === version).length, 0),
      agendas: agendas.map((a) => ({
        id: a.id,
        description: a.description,
        mask: a.mask,
        starttime: a.starttime,
        expiretime: a.expiretime,
        status: a.status,
        quorumprogress: a.quorumprogress ?? 0,
        choices: (a.choices ?? simnetChoices()).map((c) => ({ id: c.id, description: c.description, bits: c.bits, isabstain: c.isabstain, isno: c.isno, count: c.count ?? 0, progress: c.progress ?? 0 })),
      })),
    };
  }

  /** rpcserver.go handleGetStakeVersions: the block and count-1 ancestors, newest first; votes always a list. */
  private stakeVersions(hash: unknown, count: unknown): unknown {
    const start = this.requireBlock(hash);
    if (typeof count !== 'number' || count <= 0) throw new RpcFailure(-8, 'Invalid parameter, count must be > 0');
    const out: unknown[] = [];
    for (let b: FakeBlock | undefined = start; b && out.length < count; b = this.blocks.get(b.prevHash)) {
      out.push({
        hash: b.hash,
        height: b.height,
        blockversion: b.header.version,
        stakeversion: b.header.stakeVersion,
        // Bits: the vote's own (its vote-bits output, OP_RETURN OP_DATA_6 <u16 bits> <u32 version>).
        votes: b.stx.filter((x) => x.kind === 'vote').map((v) => ({ version: v.voteVersion, bits: (v.vout[1]?.script[2] ?? 0) | ((v.vout[1]?.script[3] ?? 0) << 8) })),
      });
    }
    return { stakeversions: out };
  }
}

/** blockchain/stakeversion.go calcWantHeight: last block of the previous interval. */
function calcWantHeight(svh: number, interval: number, height: number): number {
  const offset = svh % interval;
  const adjusted = height - offset - 1;
  return adjusted - ((adjusted + 1) % interval) + offset;
}

/** Start a fake dcrd with fresh TLS material. */
export async function startFakeDcrd(options: FakeDcrdOptions = {}): Promise<FakeDcrd> {
  const fake = new FakeDcrd(options);
  await fake.start();
  return fake;
}

/** Options for a DcrdClient of this fake with short deadlines and backoff, for tests and benches. */
export function quickClientOptions(fake: FakeDcrd, password: string, over: Partial<DcrdClientOptions> = {}): DcrdClientOptions {
  return {
    host: '127.0.0.1',
    port: fake.port,
    user: 'rpcuser',
    password: Buffer.from(password),
    caCert: fake.caCert,
    requestTimeoutMs: 2_000,
    handshakeTimeoutMs: 2_000,
    pingIntervalMs: 1_000,
    backoff: { initialMs: 20, maxMs: 200 },
    authRetryMs: 100,
    ...over,
  };
}
