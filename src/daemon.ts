// Wires the parts together and owns start and stop. Data flows one way:
// dcrd events → vote tracker → ledger + metrics + log, while one supervisor
// per wallet keeps that wallet ready and answers whether it could vote.

import type { Logger } from 'pino';
import type { DaemonConfig, WalletConfig } from './config/load.js';
import { DcrdPool } from './dcrd/pool.js';
import { DcrdRpc } from './dcrd/rpc.js';
import { HttpServer, type Readiness } from './http/server.js';
import { Ledger } from './ledger/ledger.js';
import { PolicyReconciler } from './policy/reconciler.js';
import type { StatusDocument } from './status.js';
import { createMetrics, initWalletSeries, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';
import { VoteCaster } from './vote/caster.js';
import { PoolCasterChain } from './vote/chain-adapter.js';
import { FileChainCursor } from './voting/cursor.js';
import { VoteTracker, type WalletVoteCaster } from './voting/tracker.js';
import type { WalletClient } from './wallet/grpc-client.js';
import { statusProbeFor, walletClientFor } from './wallet/from-config.js';
import { SupervisedOwners } from './wallet/owners.js';
import { WalletPassphrase } from './wallet/passphrase.js';
import { Heartbeat } from './systemd/watchdog.js';
import { WalletSupervisor } from './wallet/supervisor.js';

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
}

export class Daemon {
  readonly config: DaemonConfig;
  readonly metrics: Metrics;
  readonly #log: Logger;
  readonly #onFatal: (err: DaemonFatalError) => void;
  #ledger: Ledger | null = null;
  #dcrd: DcrdPool | null = null;
  #supervisors: WalletSupervisor[] = [];
  #casterChain: PoolCasterChain | null = null;
  #tracker: VoteTracker | null = null;
  #http: HttpServer | null = null;
  #startedAt = new Date();
  #stopping = false;
  #progressTimer: NodeJS.Timeout | null = null;
  #httpAddress = '';
  /** Ends each wallet client's and probe's requests in flight (see stop()). */
  readonly #peerClosers: (() => void)[] = [];
  /** Progress marks of every long-running loop, for /healthz and the systemd watchdog. */
  readonly heartbeat = new Heartbeat();

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    this.#log = opts.logger;
    this.metrics = opts.metrics ?? createMetrics({ version: VERSION, network: opts.config.network });
    this.#onFatal = opts.onFatal ?? (() => undefined);
  }

  get httpAddress(): string {
    return this.#httpAddress;
  }

  /** The dcrd connections (for their counters of refused and dropped frames). */
  get dcrdPool(): DcrdPool | null {
    return this.#dcrd;
  }

  get ledger(): Ledger | null {
    return this.#ledger;
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
          backoff: { initialMs: c.supervisor.backoffMinMs, maxMs: c.supervisor.backoffMaxMs },
          subscriptions: ['notifywinningtickets', 'notifyblocks'],
        },
      })),
    );
    this.#dcrd = dcrd;
    const rpc = new DcrdRpc((method, params, opts) => dcrd.request(method, params, opts));

    const casterChain = new PoolCasterChain(dcrd, rpc);
    this.#casterChain = casterChain;
    const casters = new Map<string, WalletVoteCaster>();
    this.#supervisors = c.wallets.map((w) => {
      const client = walletClientFor(w);
      this.#peerClosers.push(() => client.close());
      const passphrase = new WalletPassphrase(w.passphrase, w.passphrasePath);
      const sup = this.#makeSupervisor(w, client, passphrase);
      if (w.votingMode !== 'wallet') {
        const caster = new VoteCaster({
          walletName: w.name,
          network: c.network,
          wallet: client,
          chain: casterChain,
          passphrase,
          lockState: sup.lockState(),
          voteVersion: () => sup.voteVersion(),
          metrics: this.metrics,
          logger: log,
        });
        casters.set(w.name, { mode: w.votingMode, cast: (t, b, at) => caster.cast(t, b, at) });
      }
      return sup;
    });
    const owners = new SupervisedOwners(this.#supervisors);
    const tracker = new VoteTracker({
      chain: rpc,
      owners,
      ledger: this.#ledger,
      cursor: new FileChainCursor(c.stateDir),
      metrics: this.metrics,
      logger: log,
      walletNames: c.wallets.map((w) => w.name),
      casters,
      voteSeenDeadlineMs: c.voting.voteSeenDeadlineMs,
      mempoolPollMs: c.voting.mempoolPollMs,
    });
    this.#tracker = tracker;
    this.#publishLedgerCounts();

    for (const s of this.#supervisors) {
      s.on('ready', () => void tracker.onWalletReady(s.name));
      s.on('fatal', (err) => this.#fatal(err.message, 78));
    }
    this.#wireDcrd(dcrd, rpc, tracker);

    this.#http = new HttpServer({ host: c.http.host, port: c.http.port, registry: this.metrics.registry, source: this });
    const addr = await this.#http.listen();
    this.#httpAddress = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;

    dcrd.start();
    for (const s of this.#supervisors) s.start();
    // The main loop's heartbeat: the watchdog and /healthz trust the daemon
    // only while this keeps firing.
    this.heartbeat.register('main', 15_000);
    this.#progressTimer = setInterval(() => {
      this.heartbeat.beat('main');
      this.#publishLedgerCounts();
    }, 1000);
    this.#progressTimer.unref();
    log.info(
      { event: 'started', version: VERSION, network: c.network, wallets: c.wallets.map((w) => w.name), http: this.#httpAddress, stateDir: c.stateDir },
      `dcrvoted ${VERSION} started on ${c.network}: ${c.wallets.length} wallet(s), dcrd ${c.dcrd.endpoint.address}, http://${this.#httpAddress}`,
    );
  }

  #makeSupervisor(w: WalletConfig, client: WalletClient, passphrase: WalletPassphrase): WalletSupervisor {
    const c = this.config;
    initWalletSeries(this.metrics, w.name);
    this.metrics.walletVotingMode.set({ wallet: w.name, mode: w.votingMode }, 1);
    if (w.votingMode !== 'wallet') {
      this.metrics.votesCastTotal.inc({ wallet: w.name, result: 'accepted' }, 0);
      this.metrics.votesCastTotal.inc({ wallet: w.name, result: 'rejected' }, 0);
    }
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
      dcrdHeight: () => this.#tracker?.tip?.height ?? null,
      probeIntervalMs: c.supervisor.probeIntervalMs,
      policyCheckIntervalMs: c.supervisor.policyCheckIntervalMs,
      backoffMinMs: c.supervisor.backoffMinMs,
      backoffMaxMs: c.supervisor.backoffMaxMs,
      wrongPassphraseRetryMs: c.supervisor.wrongPassphraseRetryMs,
      onRound: () => this.heartbeat.beat(loop),
    });
  }

  #wireDcrd(dcrd: DcrdPool, rpc: DcrdRpc, tracker: VoteTracker): void {
    const log = this.#log;
    const m = this.metrics;
    const addressOf = (node: string) => this.config.dcrd.nodes.find((n) => n.name === node)?.endpoint.address ?? node;
    const peer = (node: string) => (node === this.config.dcrd.name ? 'dcrd' : `dcrd:${node}`);
    m.dcrdConnected.set(0);
    for (const n of this.config.dcrd.nodes) {
      m.dcrdNodeConnected.set({ node: n.name }, 0);
      m.reconnectsTotal.inc({ peer: peer(n.name) }, 0);
    }
    dcrd.on('connected', ({ node, first }) => {
      m.dcrdConnected.set(1);
      m.dcrdNodeConnected.set({ node }, 1);
      if (!first) m.reconnectsTotal.inc({ peer: peer(node) });
      log.info({ event: 'dcrd_connected', node, first }, `${first ? 'connected' : 'reconnected'} to dcrd ${node} at ${addressOf(node)}; subscribed to winning tickets and blocks`);
      void (async () => {
        try {
          const net = await rpc.getNetworkName();
          if (net !== this.config.network) {
            this.#fatal(`dcrd ${node} at ${addressOf(node)} is on ${net}, but dcrvoted is configured for ${this.config.network} (config key network, dcrd.address or dcrd.additionalNodes)`, 78);
            return;
          }
        } catch (err) {
          log.warn({ err: { message: (err as Error).message } }, 'could not ask dcrd for its network');
        }
        await tracker.onDcrdConnected();
      })();
    });
    dcrd.on('disconnected', ({ node, reason, anyConnected }) => {
      m.dcrdNodeConnected.set({ node }, 0);
      m.dcrdConnected.set(anyConnected ? 1 : 0);
      if (this.#stopping) return;
      if (anyConnected) {
        log.warn({ event: 'dcrd_disconnected', node, reason }, `lost dcrd ${node} at ${addressOf(node)}: ${reason}; reconnecting (still connected to ${dcrd.connectedNodes().join(', ')})`);
      } else {
        log.error({ event: 'dcrd_disconnected', node, reason }, `lost dcrd ${node} at ${addressOf(node)}: ${reason}; no dcrd node is connected — reconnecting`);
      }
    });
    dcrd.on('connectFailed', ({ node, error, attempt, retryInMs }) => {
      const level = attempt <= 1 || error.kind === 'auth' || error.kind === 'tls' ? 'error' : 'debug';
      log[level]({ event: 'dcrd_connect_failed', node, kind: error.kind, attempt, retryInMs }, `cannot connect to dcrd ${node}: ${error.message} (retry in ${Math.round(retryInMs / 1000)} s)`);
    });
    dcrd.on('malformed', ({ node, reason, method, raw }) => {
      m.malformedNotificationsTotal.inc({ method: method ?? 'unknown' });
      log.warn({ event: 'malformed_notification', node, method, reason, raw: raw.slice(0, 200) }, `dropped a notification from dcrd ${node} that could not be understood: ${reason}`);
    });
    dcrd.on('notification', (n) => {
      const receivedAt = Date.now();
      switch (n.kind) {
        case 'winningtickets':
          void tracker.onWinningTickets(n.block, n.tickets, receivedAt);
          break;
        case 'blockconnected':
          void tracker.onBlockConnected({ ...n.block, previousHash: n.previousHash });
          // Votes we cast must name every tspend the wallet would; learn their
          // expiries while they are still in dcrd's mempool.
          if (this.config.wallets.some((w) => w.votingMode !== 'wallet')) {
            void this.#casterChain?.rememberMempoolTSpends().catch((err: Error) => log.debug({ err: { message: err.message } }, 'reading mempool tspends failed'));
          }
          break;
        case 'blockdisconnected':
          log.warn({ event: 'block_disconnected', block: n.block }, `block ${n.block.height} ${n.block.hash} was disconnected (reorg)`);
          void tracker.onBlockDisconnected({ ...n.block, previousHash: n.previousHash });
          break;
      }
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
    const reasons: Record<string, string[]> = {};
    for (const s of this.#supervisors) {
      const r = s.reasons();
      if (r.length > 0) reasons[s.name] = r;
    }
    if (!this.#dcrd?.isConnected) {
      reasons.dcrd = [`not connected to dcrd at ${this.config.dcrd.nodes.map((n) => n.endpoint.address).join(', ')}${this.#dcrd?.lastError ? `: ${this.#dcrd.lastError.message}` : ''}`];
    }
    if (this.#stopping) reasons.dcrvoted = ['shutting down'];
    return { ready: Object.keys(reasons).length === 0, reasons };
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
    const tip = this.#tracker?.tip;
    return `${readyWallets}/${wallets} wallet(s) ready, dcrd ${this.#dcrd?.isConnected ? 'connected' : 'DISCONNECTED'}${tip ? `, height ${tip.height}` : ''}${r.ready ? '' : ' — NOT READY'}`;
  }

  status(): StatusDocument {
    const r = this.readiness();
    const counts = this.#ledger?.counts();
    const recent = this.#ledger?.recent(200) ?? [];
    const tip = this.#tracker?.tip ?? null;
    const lastBlockAt = this.#tracker?.lastBlockAt ?? null;
    return {
      version: VERSION,
      network: this.config.network,
      startedAt: this.#startedAt.toISOString(),
      ready: r.ready,
      reasons: r.reasons,
      dcrd: {
        address: this.config.dcrd.endpoint.address,
        connected: this.#dcrd?.isConnected ?? false,
        bestBlock: tip ? { hash: tip.hash, height: tip.height } : null,
        lastBlockAt: lastBlockAt ? new Date(lastBlockAt).toISOString() : null,
        reconnects: this.#dcrd?.reconnects ?? 0,
        nodes: this.config.dcrd.nodes.map((n) => ({ name: n.name, address: n.endpoint.address, connected: this.#dcrd?.connectedNodes().includes(n.name) ?? false })),
      },
      wallets: this.#supervisors.map((s) => s.status()),
      votes: {
        voted: counts?.voted ?? 0,
        missed: counts?.missed ?? 0,
        superseded: counts?.superseded ?? 0,
        byReason: counts?.byReason ?? ({} as StatusDocument['votes']['byReason']),
        pending: this.#tracker?.pendingView() ?? [],
        recentMisses: recent
          .filter((e) => e.outcome?.outcome === 'missed')
          .slice(0, 10)
          .map((e) => ({
            ticket: e.winner.ticket,
            wallet: e.winner.wallet,
            height: e.winner.block.height,
            reason: e.outcome?.reason,
            at: new Date(e.outcome?.decidedAt ?? e.winner.notifiedAt).toISOString(),
          })),
      },
    };
  }

  /** Stops everything; the ledger is flushed and closed last. Bounded by timeoutMs. */
  async stop(timeoutMs = 4500): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#progressTimer) clearInterval(this.#progressTimer);
    const work = (async () => {
      this.#tracker?.stop();
      const stopped = Promise.allSettled([
        ...this.#supervisors.map((s) => s.stop()),
        this.#dcrd?.close(),
        this.#http?.close(),
      ]);
      // The supervisors now know they are stopping; end their calls in
      // flight rather than wait out the deadlines of a wallet that accepted
      // and never answers.
      for (const close of this.#peerClosers) close();
      await stopped;
      // Let a decision already in flight finish writing before closing.
      await Promise.race([this.#tracker?.idle(), delay(1000)]);
      await this.#ledger?.close();
    })();
    await Promise.race([work, delay(timeoutMs)]);
    this.#log.info({ event: 'stopped' }, 'dcrvoted stopped');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
