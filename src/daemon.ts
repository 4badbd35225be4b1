// Builds the parts and starts and stops them; nothing else. Data flows one
// way:
//
//   dcrd nodes → DcrdPool → ChainTracker ─┬→ VoteTracker → ledger + metrics + log
//                                         │      └→ VoteCaster (daemon/both) → wallet signs → every dcrd
//                                         ├→ caster chain adapter (mempool tspends)
//                                         └→ ticket indexes, prepared vote inputs (each block)
//   wallet ← WalletSupervisor (ready? why not?) ← VoteTracker asks owners, readiness
//   wallet → TicketIndexFeed (GetTickets, TransactionNotifications) → TicketIndex → owners, caster
//
// /status and /readyz are assembled in status.ts from the parts' own views.

import type { Logger } from 'pino';
import { EXIT_CONFIG, type DaemonConfig, type WalletConfig } from './config/load.js';
import { ChainTracker } from './dcrd/chain.js';
import { DcrdPool } from './dcrd/pool.js';
import { DcrdRpc } from './dcrd/rpc.js';
import { SyncGuard } from './dcrd/sync-guard.js';
import { HttpServer, type Readiness } from './http/server.js';
import { Ledger } from './ledger/ledger.js';
import { PolicyReconciler } from './policy/reconciler.js';
import { buildStatus, readinessOf, type StatusDocument, type StatusParts } from './status.js';
import { createMetrics, initWalletSeries, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';
import { VoteAssembler } from './vote/assembler.js';
import { CastError, VoteCaster } from './vote/caster.js';
import { VotePreparation } from './vote/prepared-inputs.js';
import { PoolCasterChain } from './vote/chain-adapter.js';
import { VotingKeyStore } from './vote/voting-keys.js';
import { FileChainCursor } from './voting/cursor.js';
import { VoteRebroadcaster } from './voting/rebroadcast.js';
import { VoteTimelines } from './voting/timeline.js';
import { VoteTracker, type WalletVoteCaster } from './voting/tracker.js';
import type { WalletClient } from './wallet/grpc-client.js';
import { statusProbeFor, walletClientFor } from './wallet/from-config.js';
import { SupervisedOwners } from './wallet/owners.js';
import { WalletPassphrase } from './wallet/passphrase.js';
import { Heartbeat } from './systemd/watchdog.js';
import { Notifications } from './notify/service.js';
import { notifyCanaryReports, notifyGuardFindings, notifySyncProblems } from './notify/guard-alerts.js';
import type { Transport } from './notify/delivery.js';
import { AccountLockGuard } from './wallet/account-locks.js';
import { SigningCanary } from './wallet/signing-canary.js';
import { TicketIndex } from './wallet/ticket-index.js';
import { TicketIndexFeed } from './wallet/ticket-index-feed.js';
import { IndexTicketSource } from './wallet/index-ticket-source.js';
import { WalletSupervisor, type CanaryWalletView } from './wallet/supervisor.js';
import type { GuardEvent } from './guards/findings.js';
import { GuardScheduler, type GuardWallet } from './guards/scheduler.js';
import { TreasuryGuard } from './guards/treasury-guard.js';
import { UpgradeGuard } from './guards/upgrade-guard.js';

/** Why the daemon stopped on its own: a setup problem the operator must fix. */
export class DaemonFatalError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'DaemonFatalError';
  }
}

export interface DaemonOptions {
  config: DaemonConfig;
  logger: Logger;
  metrics?: Metrics;
  /** Called once when the daemon hits a problem it cannot fix by retrying. */
  onFatal?: (err: DaemonFatalError) => void;
  /** Replaces HTTP delivery of notifications (tests of what is raised). */
  notifyTransport?: Transport;
}

export class Daemon {
  readonly config: DaemonConfig;
  readonly metrics: Metrics;
  readonly #log: Logger;
  readonly #onFatal: (err: DaemonFatalError) => void;
  #ledger: Ledger | null = null;
  #dcrd: DcrdPool | null = null;
  #chain: ChainTracker | null = null;
  #sync: SyncGuard | null = null;
  readonly #indexes = new Map<string, TicketIndex>();
  readonly #feeds: TicketIndexFeed[] = [];
  readonly #preparations = new Map<string, VotePreparation>();
  #supervisors: WalletSupervisor[] = [];
  #tracker: VoteTracker | null = null;
  readonly #notifications: Notifications;
  #guards: GuardScheduler | null = null;
  #http: HttpServer | null = null;
  #startedAt = new Date();
  #stopping = false;
  #progressTimer: NodeJS.Timeout | null = null;
  #httpAddress = '';
  /** Ends each wallet client's and probe's requests in flight (see stop()). */
  readonly #peerClosers: (() => void)[] = [];
  /** Zero the voting keys held for signing: local (see stop()). */
  readonly #keyClearers: (() => void)[] = [];
  /** Progress marks of every long-running loop, for /healthz and the systemd watchdog. */
  readonly heartbeat = new Heartbeat();

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    this.#log = opts.logger;
    this.metrics = opts.metrics ?? createMetrics({ version: VERSION, network: opts.config.network });
    this.#onFatal = opts.onFatal ?? (() => undefined);
    this.#notifications = new Notifications({
      config: opts.config.notify,
      network: opts.config.network,
      metrics: this.metrics,
      logger: opts.logger,
      readiness: () => this.readiness(),
      ...(opts.notifyTransport ? { transport: opts.notifyTransport } : {}),
    });
  }

  /** What the notifier is doing (tests, /status). */
  get notifications(): Notifications {
    return this.#notifications;
  }

  get httpAddress(): string {
    return this.#httpAddress;
  }

  /** The dcrd connections (for their counters of refused and dropped frames). */
  get dcrdPool(): DcrdPool | null {
    return this.#dcrd;
  }

  /**
   * The sync guard (lagging, forked or not-current dcrd nodes): its
   * 'problem' and 'recovered' events and view() are for notifiers.
   */
  get syncGuard(): SyncGuard | null {
    return this.#sync;
  }

  get ledger(): Ledger | null {
    return this.#ledger;
  }

  /** The upgrade and treasury guards: their findings (view()) and an 'event' per finding raised or resolved, for a notifier. */
  get guards(): GuardScheduler | null {
    return this.#guards;
  }

  async start(): Promise<void> {
    const c = this.config;
    const log = this.#log;
    this.#ledger = await Ledger.open(c.stateDir);
    const rec = this.#ledger.recovery;
    if (rec.tornBytesDropped > 0 || rec.corruptRecords > 0) {
      log.warn({ event: 'ledger_recovered', recovery: rec }, `ledger ${this.#ledger.path}: dropped a torn last record (${rec.tornBytesDropped} bytes), skipped ${rec.corruptRecords} corrupt record(s)`);
    }

    const dcrd = new DcrdPool(
      c.dcrd.nodes.map((n) => ({
        name: n.name,
        options: {
          host: n.endpoint.host,
          port: n.endpoint.port,
          user: n.user,
          password: n.password.reveal(),
          caCert: n.caCert.bytes,
          requestTimeoutMs: c.dcrd.callTimeoutMs,
          backoff: { initialMs: c.dcrd.reconnect.minMs, maxMs: c.dcrd.reconnect.maxMs },
          subscriptions: ['notifywinningtickets', 'notifyblocks'],
          logger: log.child({ component: 'dcrd', node: n.name }),
        },
      })),
    );
    this.#dcrd = dcrd;
    const rpc = new DcrdRpc((method, params, opts) => dcrd.request(method, params, opts));
    const chain = new ChainTracker({
      pool: dcrd,
      rpc,
      network: c.network,
      nodes: c.dcrd.nodes.map((n) => ({ name: n.name, address: n.endpoint.address })),
      metrics: this.metrics,
      logger: log,
      configErrorExitCode: EXIT_CONFIG,
    });
    this.#chain = chain;
    chain.on('fatal', ({ message, exitCode }) => this.#fatal(message, exitCode));
    const sync = new SyncGuard({
      nodes: c.dcrd.nodes.map((n) => n.name),
      request: (node, method, params) => dcrd.requestTo(node, method, params),
      connectedNodes: () => dcrd.connectedNodes(),
      metrics: this.metrics,
      logger: log,
      intervalMs: c.dcrd.sync.intervalMs,
      graceMs: c.dcrd.sync.graceMs,
    });
    this.#sync = sync;
    // A node that just (re)connected is compared at once, not a whole interval later.
    chain.on('reconnected', () => void sync.check());
    notifySyncProblems(sync, this.#notifications.alerts);

    const ledger = this.#ledger;
    const votingModes = new Map(c.wallets.map((w) => [w.name, w.votingMode]));
    const timelines = new VoteTimelines({ ledger, metrics: this.metrics, logger: log.child({ component: 'timeline' }), casterOf: (w) => votingModes.get(w) ?? 'wallet' });
    dcrd.on('duplicate', ({ kind, blockHash, node }) => {
      if (kind === 'winningtickets') timelines.notifiedAgain(blockHash, node);
    });

    const casterChain = new PoolCasterChain(dcrd, rpc);
    // Every wallet's signing canary builds votes with the caster's inputs, tspend expiries included.
    casterChain.follow(chain, log.child({ component: 'caster' }));
    const casters = new Map<string, WalletVoteCaster>();
    const guardWallets: GuardWallet[] = [];
    this.#supervisors = c.wallets.map((w) => {
      const client = walletClientFor(w);
      this.#peerClosers.push(() => client.close());
      const passphrase = new WalletPassphrase(w.passphrase, w.passphrasePath);
      const supervisor = this.#makeSupervisor(w, client, passphrase, (seen) => this.#makeCanary(w, client, casterChain, seen));
      guardWallets.push({ name: w.name, agendas: () => client.agendas(), tspendPolicies: () => client.tspendPolicies() });
      const index = new TicketIndex({ network: c.network });
      this.#indexes.set(w.name, index);
      const showIndex = () => {
        this.metrics.ticketIndexTickets.set({ wallet: w.name }, index.size);
        this.metrics.ticketIndexLoaded.set({ wallet: w.name }, index.loaded ? 1 : 0);
      };
      for (const change of ['added', 'removed', 'loaded', 'unloaded'] as const) index.on(change, showIndex);
      this.#feeds.push(new TicketIndexFeed({ walletName: w.name, wallet: client, index, logger: log.child({ component: 'ticket-index', wallet: w.name }) }));
      chain.on('blockConnected', ({ block }) => index.blockConnected(block.height));
      if (w.votingMode !== 'wallet') {
        const keys = w.signing === 'local' ? this.#votingKeys(w, client, supervisor, chain, index) : undefined;
        const prepared = new VotePreparation({ walletName: w.name, network: c.network, index, wallet: client, chain: casterChain, logger: log.child({ component: 'caster', wallet: w.name }) });
        this.#preparations.set(w.name, prepared);
        chain.on('blockConnected', () => void prepared.refresh());
        supervisor.on('policyChecked', () => void prepared.refresh());
        index.on('loaded', () => void prepared.refresh());
        const caster = new VoteCaster({
          walletName: w.name,
          network: c.network,
          wallet: client,
          chain: casterChain,
          passphrase,
          lockState: supervisor.lockState(),
          voteVersion: () => supervisor.voteVersion(),
          ...(keys ? { keys } : {}),
          prepared,
          metrics: this.metrics,
          logger: log.child({ component: 'caster', wallet: w.name }),
        });
        casters.set(w.name, {
          mode: w.votingMode,
          cast: async (t, b, at) => {
            try {
              const r = await caster.cast(t, b, at);
              timelines.castDone(t, b, r.stages);
              return r;
            } catch (err) {
              timelines.castFailed(t, b, err instanceof CastError ? err.reason : 'wallet_error');
              throw err;
            }
          },
        });
      }
      return supervisor;
    });
    chain.on('blockConnected', () => {
      for (const s of this.#supervisors) s.noteBlock();
    });
    const owners = new SupervisedOwners(this.#supervisors, this.#indexes);
    const nodeRpc = new Map(dcrd.nodes.map((n) => [n.name, new DcrdRpc((method, params, opts) => dcrd.requestTo(n.name, method, params, opts))]));
    const tracker = new VoteTracker({
      chain: rpc,
      nodeReaders: () => dcrd.connectedNodes().flatMap((name) => nodeRpc.get(name) ?? []),
      owners,
      ledger,
      cursor: new FileChainCursor(c.stateDir),
      metrics: this.metrics,
      logger: log,
      walletNames: c.wallets.map((w) => w.name),
      casters,
      voteSeenDeadlineMs: c.voting.voteSeenDeadlineMs,
      mempoolPollMs: c.voting.mempoolPollMs,
      decisionGraceMs: c.voting.decisionGraceMs,
      rebroadcaster: new VoteRebroadcaster({
        chain: casterChain,
        metrics: this.metrics,
        logger: log.child({ component: 'rebroadcast' }),
        observe: (o) => (o.kind === 'in_mempool' ? timelines.inMempool(o.vote.ticket, o.vote.block.hash, o.node, o.at) : timelines.resent(o.vote.ticket, o.vote.block.hash, o.node, o.at)),
      }),
      stages: {
        // The tracker's mempool watch asks through the pool, which asks its first connected node.
        seen: (ticket, block, _txid, at) => timelines.inMempool(ticket, block.hash, dcrd.connectedNodes()[0] ?? 'dcrd', at),
        decided: (winner, outcome, next) => timelines.decided(winner, outcome, next),
      },
      alerts: this.#notifications.alerts,
    });
    this.#tracker = tracker;
    tracker.follow(chain);
    // After the tracker's own listener: the cast starts before anything is noted for its timeline.
    chain.on('winners', ({ block, receivedAt, node }) => timelines.notified(block.hash, node, receivedAt));
    this.#publishLedgerCounts();

    for (const [i, s] of this.#supervisors.entries()) {
      s.on('ready', () => {
        this.#feeds[i]?.retryNow();
        void tracker.onWalletReady(s.name);
      });
      s.on('fatal', (err) => this.#fatal(err.message, EXIT_CONFIG));
      notifyCanaryReports(s.name, s, this.#notifications.alerts);
    }

    const guardLog = log.child({ component: 'guards' });
    const emit = (e: GuardEvent) => void this.#guards?.emit('event', e);
    const now = () => Date.now();
    this.#guards = new GuardScheduler({
      network: c.network,
      upgrade: new UpgradeGuard({ network: c.network, chain: rpc, metrics: this.metrics, logger: guardLog, now, emit }),
      treasury: new TreasuryGuard({ network: c.network, chain: rpc, policy: c.policy, metrics: this.metrics, logger: guardLog, now, emit }),
      wallets: guardWallets,
      logger: guardLog,
      checkIntervalMs: c.guards.checkIntervalMs,
      dcrdConnected: () => chain.isConnected,
    });
    this.#guards.start(chain);
    notifyGuardFindings(this.#guards, this.#notifications.alerts);

    this.#http = new HttpServer({ host: c.http.host, port: c.http.port, registry: this.metrics.registry, source: this });
    const addr = await this.#http.listen();
    this.#httpAddress = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;

    chain.start();
    sync.start();
    for (const s of this.#supervisors) s.start();
    for (const f of this.#feeds) f.start();
    // The main loop's heartbeat: the watchdog and /healthz trust the daemon
    // only while this keeps firing.
    this.heartbeat.register('main', 15_000);
    this.#progressTimer = setInterval(() => {
      this.heartbeat.beat('main');
      this.#publishLedgerCounts();
      this.#notifications.tick();
    }, 1000);
    this.#progressTimer.unref();
    log.info(
      { event: 'started', version: VERSION, network: c.network, wallets: c.wallets.map((w) => w.name), http: this.#httpAddress, stateDir: c.stateDir },
      `dcrvoted ${VERSION} started on ${c.network}: ${c.wallets.length} wallet(s), dcrd ${c.dcrd.nodes.map((n) => n.endpoint.address).join(', ')}, http://${this.#httpAddress}`,
    );
    this.#notifications.start({ version: VERSION, network: c.network, wallets: c.wallets.map((w) => w.name).join(', ') });
  }

  /**
   * signing: local — the wallet's voting keys, listed from the wallet at
   * start, on each block and when the wallet becomes ready (unlocked).
   */
  #votingKeys(w: WalletConfig, client: WalletClient, sup: WalletSupervisor, chain: ChainTracker, index: TicketIndex): VotingKeyStore {
    const log = this.#log.child({ component: 'voting-keys', wallet: w.name });
    const store = new VotingKeyStore({ walletName: w.name, network: this.config.network, wallet: client, lockState: sup.lockState(), metrics: this.metrics, logger: log });
    // The store follows the wallet's ticket index: keys come and go with the tickets, no listing per block.
    const listing = new IndexTicketSource(index, store);
    chain.on('blockConnected', ({ block }) => listing.onBlock(block.height));
    sup.on('ready', () => listing.onWalletReady());
    this.#keyClearers.push(() => {
      listing.stop();
      store.clear();
    });
    return store;
  }

  #makeCanary(w: WalletConfig, client: WalletClient, chain: PoolCasterChain, seen: CanaryWalletView): SigningCanary {
    const logger = this.#log.child({ component: 'canary', wallet: w.name });
    return new SigningCanary({
      walletName: w.name,
      walletAloneVotes: w.votingMode === 'wallet',
      wallet: client,
      assembler: new VoteAssembler({ walletName: w.name, network: this.config.network, wallet: client, chain, voteVersion: () => seen.voteVersion(), logger }),
      accounts: new AccountLockGuard({
        walletName: w.name,
        wallet: client,
        passphrases: new Map(w.accountPassphrases.map((a) => [a.account, new WalletPassphrase(a.passphrase, a.path)])),
        metrics: this.metrics,
        logger,
      }),
      lock: {
        unlocked: () => seen.unlocked(),
        lockedByDesign: () => seen.lockedByDesign(),
      },
      metrics: this.metrics,
      logger,
    });
  }

  #makeSupervisor(w: WalletConfig, client: WalletClient, passphrase: WalletPassphrase, makeCanary: (seen: CanaryWalletView) => SigningCanary): WalletSupervisor {
    const c = this.config;
    initWalletSeries(this.metrics, w.name, w.votingMode, w.signing);
    // A supervisor round takes at most a probe interval plus the backoff cap
    // plus a few call deadlines; silence well past that means it is stuck.
    const loop = `supervisor:${w.name}`;
    this.heartbeat.register(loop, c.supervisor.probeIntervalMs + c.supervisor.backoffMaxMs + 4 * w.callTimeoutMs + 10_000);
    const probe = statusProbeFor(w);
    this.#peerClosers.push(() => probe.close());
    return new WalletSupervisor({
      config: w,
      network: c.network,
      client,
      probe,
      policy: new PolicyReconciler(w.name, c.policy),
      passphrase,
      metrics: this.metrics,
      logger: this.#log,
      dcrdHeight: () => this.#chain?.tip?.height ?? null,
      probeIntervalMs: c.supervisor.probeIntervalMs,
      policyCheckIntervalMs: c.supervisor.policyCheckIntervalMs,
      backoffMinMs: c.supervisor.backoffMinMs,
      backoffMaxMs: c.supervisor.backoffMaxMs,
      wrongPassphraseRetryMs: c.supervisor.wrongPassphraseRetryMs,
      onRound: () => this.heartbeat.beat(loop),
      makeCanary,
      canaryEveryBlocks: c.supervisor.canaryEveryBlocks,
      tip: () => this.#chain?.tip ?? null,
    });
  }

  #fatal(message: string, exitCode: number): void {
    if (this.#stopping) return;
    this.#log.fatal({ event: 'fatal' }, message);
    this.#onFatal(new DaemonFatalError(message, exitCode));
  }

  #publishLedgerCounts(): void {
    if (!this.#ledger) return;
    const c = this.#ledger.counts();
    for (const outcome of ['voted', 'missed', 'superseded', 'pending'] as const) this.metrics.ledgerRecords.set({ outcome }, c[outcome]);
  }

  /** Every wallet can vote and dcrd is connected. */
  readiness(): Readiness {
    return readinessOf(this.#parts());
  }

  #parts(): StatusParts {
    const chain = this.#chain;
    return {
      version: VERSION,
      network: this.config.network,
      startedAt: this.#startedAt,
      stopping: this.#stopping,
      dcrdAddress: this.config.dcrd.nodes[0].endpoint.address,
      chain: {
        ...(chain?.view() ?? { connected: false, bestBlock: null, lastBlockAt: null, reconnects: 0, nodes: this.config.dcrd.nodes.map((n) => ({ name: n.name, address: n.endpoint.address, connected: false })) }),
        lastError: chain?.lastError ?? null,
      },
      sync: this.#sync ? { reasons: this.#sync.reasons(), view: this.#sync.view() } : null,
      wallets: this.#supervisors.map((s) => ({ name: s.name, reasons: s.reasons(), status: s.status() })),
      counts: this.#ledger?.counts() ?? null,
      recent: this.#ledger?.recent(200) ?? [],
      pending: this.#tracker?.pendingView() ?? [],
      notify: this.#notifications.view(),
      guards: this.#guards?.view() ?? { lastCheckAt: null, lastError: null, findings: [], undecidedTSpends: {} },
    };
  }

  /** Every loop made progress recently and we are not shutting down. */
  alive(): boolean {
    return !this.#stopping && this.heartbeat.verdict() === true;
  }

  /** One line for `systemctl status`. */
  summary(): string {
    const r = this.readiness();
    const wallets = this.#supervisors.length;
    const readyWallets = this.#supervisors.filter((s) => s.isReady()).length;
    const tip = this.#chain?.tip;
    return `${readyWallets}/${wallets} wallet(s) ready, dcrd ${this.#chain?.isConnected ? 'connected' : 'DISCONNECTED'}${tip ? `, height ${tip.height}` : ''}${r.ready ? '' : ' — NOT READY'}`;
  }

  status(): StatusDocument {
    return buildStatus(this.#parts());
  }

  /**
   * A wallet's ticket index: the tickets it holds that can win, with
   * added/removed events (for whatever must follow them, e.g. signing keys)
   * and someLive() (one live ticket, for a signing canary).
   */
  ticketIndex(wallet: string): TicketIndex | undefined {
    return this.#indexes.get(wallet);
  }

  /** A daemon/both wallet's vote inputs prepared before the lottery. */
  votePreparation(wallet: string): VotePreparation | undefined {
    return this.#preparations.get(wallet);
  }

  /** Stops everything; the ledger is flushed and closed last. Bounded by timeoutMs. */
  async stop(timeoutMs = 4500): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#progressTimer) clearInterval(this.#progressTimer);
    const work = (async () => {
      this.#tracker?.stop();
      this.#sync?.stop();
      this.#guards?.stop();
      for (const p of this.#preparations.values()) p.stop();
      const stopped = Promise.allSettled([
        this.#notifications.stop(),
        ...this.#supervisors.map((s) => s.stop()),
        ...this.#feeds.map((f) => f.stop()),
        this.#chain?.stop(),
        this.#http?.close(),
      ]);
      // The supervisors now know they are stopping; end their calls in
      // flight rather than wait out the deadlines of a wallet that accepted
      // and never answers.
      for (const close of this.#peerClosers) close();
      await stopped;
      // Let a decision already in flight finish writing before closing.
      await Promise.race([this.#tracker?.idle(), delay(1000)]);
      for (const clear of this.#keyClearers) clear();
      await this.#ledger?.close();
    })();
    await Promise.race([work, delay(timeoutMs)]);
    this.#log.info({ event: 'stopped' }, 'dcrvoted stopped');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
