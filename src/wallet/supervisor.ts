// One supervisor per wallet keeps that wallet able to vote.
//
// It runs one loop: make the wallet ready (reachable, right network, opened
// and syncing in managed mode, unlocked, policy applied), then probe it on an
// interval; any failure drops back into the repair step, which p-retry runs
// with capped exponential backoff until it succeeds or we shut down. What it
// sees goes into the wallet's WalletState, which answers "could this wallet
// vote right now, and if not, why"; the passphrase is the unlocker's.

import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { WalletConfig } from '../config/load.js';
import type { BlockRef, NetworkName, WalletReadiness } from '../domain.js';
import { PolicyMismatchError, PolicyReconciler, describeChanges, type PolicyWallet } from '../policy/reconciler.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { WalletPassphrase } from './passphrase.js';
import { isConnectivityError } from './rpc-errors.js';
import type { CanaryReport, SigningCanary } from './signing-canary.js';
import { WalletUnlocker, type UnlockableWallet } from './unlocker.js';
import { WalletState, type WalletInfo, type WalletStatusView } from './wallet-state.js';
import { errorMessage } from '../errors.js';
import { WakeableDelay } from '../wakeable-delay.js';

export type { WalletInfo, WalletStatusView } from './wallet-state.js';

export interface SyncHandle {
  on(event: 'synced', cb: () => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  on(event: 'end', cb: () => void): unknown;
  cancel(): void;
}

/** Ticket counts as StakeInfo reports them. */
export interface StakeCounts {
  ownMempoolTix: number;
  immature: number;
  live: number;
  voted: number;
  missed: number;
  revoked: number;
  expired: number;
}

/** The calls a supervisor makes; WalletClient implements them over gRPC. */
export interface SupervisedWallet extends PolicyWallet, UnlockableWallet {
  ping(): Promise<void>;
  network(): Promise<NetworkName | 'unknown'>;
  bestBlock(): Promise<BlockRef>;
  stakeInfo(): Promise<StakeCounts>;
  getTicket(hash: string): Promise<{ status: string } | null>;
  walletExists(): Promise<boolean>;
  openWallet(publicPassphrase?: Buffer): Promise<unknown>;
  rpcSync(opts: {
    networkAddress: string;
    username: string;
    password: Buffer;
    certificate: Buffer;
    privatePassphrase?: Buffer;
  }): SyncHandle;
  close(): void;
}

export interface WalletStatusProbe {
  walletInfo(): Promise<WalletInfo>;
}

/** What the supervisor last saw of its wallet, for the signing canary. */
export interface CanaryWalletView {
  unlocked(): boolean | null;
  voteVersion(): number | null;
  /** Locked is how this wallet is meant to be: dcrvoted signs its votes with a passphrase it may send. */
  lockedByDesign(): boolean;
}

/** A problem no retry can fix: the operator must change the setup. */
export class WalletFatalError extends Error {
  constructor(
    readonly wallet: string,
    message: string,
  ) {
    super(message);
    this.name = 'WalletFatalError';
  }
}

export interface SupervisorOptions {
  config: WalletConfig;
  network: NetworkName;
  client: SupervisedWallet;
  probe: WalletStatusProbe;
  policy: PolicyReconciler;
  /** The private passphrase, shared with the vote caster so a rejection stops both. */
  passphrase: WalletPassphrase;
  metrics: Metrics;
  logger: Logger;
  /** dcrd's best height as dcrvoted last saw it, to judge whether the wallet is synced. */
  dcrdHeight: () => number | null;
  probeIntervalMs: number;
  policyCheckIntervalMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Least time between two unlock attempts after a rejection, even when the file changed meanwhile. */
  wrongPassphraseRetryMs: number;
  /** Called at every repair/probe round, whatever its result: the watchdog's proof of progress. */
  onRound?: () => void;
  /** Builds the canary that proves the wallet can sign votes, run after every (re)connect and every canaryEveryBlocks blocks. */
  makeCanary?: (seen: CanaryWalletView) => SigningCanary;
  /** Default 12. While the last run failed, the canary runs again at every block. */
  canaryEveryBlocks?: number;
  /** The tip the canary's vote is built on (dcrd's); the wallet's best block when unknown. */
  tip?: () => BlockRef | null;
  /** How often stake info (O(tickets) inside the wallet) is refreshed. */
  stakeInfoIntervalMs?: number;
  now?: () => number;
}

/** policyChecked: the wallet's choices were read (and set) again; prepared vote inputs follow them. */
type Events = { ready: []; fatal: [err: WalletFatalError]; policyChecked: []; canary: [report: CanaryReport] };

export class WalletSupervisor extends EventEmitter<Events> {
  readonly name: string;
  readonly #o: SupervisorOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  readonly #pause = new WakeableDelay();

  #needsSetup = true;
  #everReachable = false;
  #sync: SyncHandle | null = null;
  #stakeInfoAt = 0;
  #canaryDue = true;
  #blocksSinceCanary = 0;
  /** The canary run in flight: it streams every ticket, so it runs beside the probe loop, not in it. */
  #canaryRun: Promise<void> | null = null;
  readonly #state: WalletState;
  readonly #unlocker: WalletUnlocker;
  readonly #canary: SigningCanary | null;

  constructor(opts: SupervisorOptions) {
    super();
    this.#o = opts;
    this.name = opts.config.name;
    this.#log = opts.logger.child({ component: 'wallet', wallet: this.name });
    const c = opts.config;
    this.#state = new WalletState({ name: c.name, mode: c.mode, votingMode: c.votingMode, address: c.grpc.address, unlockEnabled: c.unlock }, opts.passphrase);
    this.#unlocker = new WalletUnlocker({
      state: this.#state,
      wallet: opts.client,
      metrics: opts.metrics,
      logger: this.#log,
      wrongPassphraseRetryMs: opts.wrongPassphraseRetryMs,
      now: () => this.#now(),
    });
    this.#canary = opts.makeCanary?.({ unlocked: () => this.#state.readiness.unlocked, voteVersion: () => this.#state.voteVersion, lockedByDesign: () => this.#passphraseSignsLockedVotes() }) ?? null;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#pause.wake();
    this.#sync?.cancel();
    await this.#loop?.catch(() => undefined);
    // Closing the client cancels a canary's calls in flight.
    this.#o.client.close();
    await this.#canaryRun;
  }

  readiness(): WalletReadiness {
    return this.#state.readiness;
  }

  /** A block connected: every canaryEveryBlocks blocks (every block while it fails) the canary runs again. */
  noteBlock(): void {
    if (!this.#canary) return;
    this.#blocksSinceCanary++;
    const failing = this.#state.canary?.status === 'cannot_sign';
    if (failing || this.#blocksSinceCanary >= (this.#o.canaryEveryBlocks ?? 12)) {
      this.#canaryDue = true;
      this.#pause.wake();
    }
  }

  /** Reasons this wallet could not vote right now; empty when it can. */
  reasons(): string[] {
    return this.#state.reasons();
  }

  isReady(): boolean {
    return this.#state.isReady();
  }

  /** The lock state the vote caster signs by: the last probe's, or a fresh walletinfo. */
  lockState(): { unlocked(): boolean | null; refreshUnlocked(): Promise<boolean | null> } {
    return {
      unlocked: () => this.#state.readiness.unlocked,
      refreshUnlocked: async () => {
        try {
          const info = await this.#o.probe.walletInfo();
          this.#state.lockObserved(info.unlocked);
          this.#publishGauges();
          return info.unlocked;
        } catch {
          return null;
        }
      },
    };
  }

  /** Probe now (used when a vote is late) and return the fresh state. */
  async probeNow(): Promise<WalletReadiness> {
    try {
      await this.#observe();
    } catch (err) {
      this.#markUnreachable(err);
    }
    this.#pause.wake();
    return this.readiness();
  }

  /** The wallet's vote version as walletinfo last reported it. */
  voteVersion(): number | null {
    return this.#state.voteVersion;
  }

  async ownsTicket(ticket: string): Promise<boolean> {
    return (await this.#o.client.getTicket(ticket)) !== null;
  }

  async ticketStatus(ticket: string): Promise<string | null> {
    return (await this.#o.client.getTicket(ticket))?.status ?? null;
  }

  status(): WalletStatusView {
    return this.#state.status();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await pRetry(() => this.#ensureReady(), {
          retries: Number.POSITIVE_INFINITY,
          factor: 2,
          minTimeout: this.#o.backoffMinMs,
          maxTimeout: this.#o.backoffMaxMs,
          randomize: true,
          signal,
          unref: true,
          onFailedAttempt: ({ error, attemptNumber }) => {
            if (error instanceof WalletFatalError) return;
            this.#markUnreachableOrFailed(error);
            const level = attemptNumber === 1 ? 'warn' : 'debug';
            this.#log[level]({ err: { message: error.message }, attempt: attemptNumber }, `wallet ${this.name} not ready: ${error.message}; retrying with backoff`);
          },
          shouldRetry: ({ error }) => !(error instanceof WalletFatalError),
        });
      } catch (err) {
        if (signal.aborted) break;
        const fatal = err instanceof WalletFatalError ? err : new WalletFatalError(this.name, errorMessage(err));
        this.#log.fatal({ err: { message: fatal.message } }, fatal.message);
        this.emit('fatal', fatal);
        return;
      }
      await this.#pause.sleep(this.#o.probeIntervalMs);
    }
  }

  /** One pass: repair whatever is wrong, then refresh every observation. Throws to retry. */
  async #ensureReady(): Promise<void> {
    this.#o.onRound?.();
    const c = this.#o.client;
    if (this.#needsSetup) {
      // A managed wallet answers only its loader service until it is opened,
      // so open it first; WalletExists doubles as the reachability check.
      if (this.#o.config.mode === 'managed') await this.#openManaged();
      await c.ping();
      // A reconnect is coming back after the wallet was lost; a setup rerun
      // after some other failure is not one.
      if (this.#everReachable && !this.#state.readiness.reachable) this.#o.metrics.reconnectsTotal.inc({ peer: `wallet:${this.name}` });
      this.#everReachable = true;
      const net = await c.network();
      if (net !== this.#o.network) {
        throw new WalletFatalError(
          this.name,
          `wallet ${this.name} at ${this.#o.config.grpc.address} is on ${net}, but dcrvoted is configured for ${this.#o.network} (config key network, or wallets[].grpcAddress points at the wrong wallet)`,
        );
      }
      this.#state.policyCheckedAt = 0;
      this.#o.policy.reset();
      this.#canaryDue = true;
      this.#needsSetup = false;
      this.#log.info({ event: 'wallet_connected' }, `connected to wallet ${this.name} at ${this.#o.config.grpc.address}`);
    }
    if (this.#o.config.mode === 'managed' && this.#sync === null) this.#startSync();
    await this.#observe();
    if (await this.#unlocker.unlockIfNeeded()) await this.#observe();
    await this.#unlocker.checkPassphraseOfLockedWallet();
    if (this.#now() - this.#state.policyCheckedAt >= this.#o.policyCheckIntervalMs) await this.#checkPolicy();
    if (this.#now() - this.#stakeInfoAt >= (this.#o.stakeInfoIntervalMs ?? 60_000)) await this.#refreshStakeInfo();
    // A canary that failed on a locked wallet is out of date as soon as the
    // wallet is unlocked, or (daemon/both) as soon as dcrvoted has a
    // passphrase to sign with again: the operator fixed the file, and waiting
    // for the next block would keep a working wallet not ready.
    const last = this.#state.canary;
    if (last?.status === 'cannot_sign' && last.cause === 'wallet_locked' && (this.#state.readiness.unlocked === true || this.#passphraseSignsLockedVotes())) this.#canaryDue = true;
    if (this.#canaryDue) this.#startCanary();
    this.#publishReadiness();
  }

  /** dcrvoted casts this wallet's votes and holds a passphrase it may send (not rejected since its file changed). */
  #passphraseSignsLockedVotes(): boolean {
    return this.#o.config.votingMode !== 'wallet' && this.#o.passphrase.usable() !== null;
  }

  /**
   * Starts a canary run unless one is in flight. A wallet with many tickets
   * takes a while to stream them, and the probe loop must keep its pace (the
   * watchdog counts on it), so the run goes on beside it. A connectivity
   * error leaves the last report alone and the canary due: the probe loop
   * notices a lost wallet by itself.
   */
  #startCanary(): void {
    const canary = this.#canary;
    const tip = this.#o.tip?.() ?? this.#state.bestBlock;
    if (!canary || !tip || this.#canaryRun) return;
    this.#canaryDue = false;
    this.#blocksSinceCanary = 0;
    this.#canaryRun = canary
      .run(tip)
      .then(
        (report) => {
          this.#state.canary = report;
          this.#publishReadiness();
          this.emit('canary', report);
        },
        (err: unknown) => {
          this.#canaryDue = true;
          if (!this.#abort.signal.aborted) this.#log.warn({ event: 'signing_canary_interrupted', err: { message: errorMessage(err) } }, `wallet ${this.name}: signing canary interrupted (${errorMessage(err)}); it runs again at the next round`);
        },
      )
      .finally(() => {
        this.#canaryRun = null;
      });
  }

  async #openManaged(): Promise<void> {
    const c = this.#o.client;
    if (!(await c.walletExists())) {
      throw new WalletFatalError(this.name, `wallet ${this.name}: no wallet exists in the wallet's appdata for this network; create or restore it first (mode: managed opens an existing wallet)`);
    }
    await c.openWallet(this.#o.config.managed?.publicPassphrase?.reveal());
  }

  #startSync(): void {
    const m = this.#o.config.managed;
    if (!m) return;
    // No private passphrase: the wallet uses one only to discover accounts,
    // which dcrvoted never asks for, and every passphrase sent is a chance to lock it.
    const handle = this.#o.client.rpcSync({
      networkAddress: m.dcrdAddress,
      username: m.dcrdUser,
      password: m.dcrdPassword.reveal(),
      certificate: m.dcrdCaCert.bytes,
    });
    this.#sync = handle;
    const ended = (why: string) => {
      if (this.#sync !== handle) return;
      this.#sync = null;
      if (this.#abort.signal.aborted) return;
      this.#log.warn({ event: 'rpc_sync_ended' }, `wallet ${this.name}: RpcSync to dcrd ended (${why}); restarting it`);
      this.#needsSetup = true;
      this.#pause.wake();
    };
    handle.on('synced', () => this.#log.info({ event: 'rpc_sync_synced' }, `wallet ${this.name} synced to dcrd`));
    handle.on('error', (err) => ended(err.message));
    handle.on('end', () => ended('stream closed'));
  }

  async #observe(): Promise<void> {
    const c = this.#o.client;
    const [best, info] = await Promise.all([c.bestBlock(), this.#o.probe.walletInfo().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))]);
    this.#o.metrics.walletBestBlockHeight.set({ wallet: this.name }, best.height);
    const dcrdHeight = this.#o.dcrdHeight();
    const closeToDcrd = dcrdHeight === null ? true : Math.abs(dcrdHeight - best.height) <= 1;
    const st = this.#state;
    st.observed(best, info, closeToDcrd, this.#now());
    this.#publishGauges();
    // A new vote version (the wallet was upgraded, perhaps between two
    // probes without a reconnect) has none of the policy's choices yet:
    // check the policy in this round, not at the next interval.
    if (st.policyVoteVersion !== null && st.voteVersion !== null && st.voteVersion !== st.policyVoteVersion && st.policyCheckedAt !== 0) {
      this.#log.info({ event: 'vote_version_changed', from: st.policyVoteVersion, to: st.voteVersion }, `wallet ${this.name} now votes version ${st.voteVersion} (was ${st.policyVoteVersion}); re-applying the policy`);
      st.policyCheckedAt = 0;
    }
  }

  async #checkPolicy(): Promise<void> {
    const m = this.#o.metrics;
    try {
      const r = await this.#o.policy.reconcile(this.#o.client);
      const st = this.#state;
      st.policyCheckedAt = this.#now();
      st.policyInSync = r.problems.length === 0;
      st.voteBits = r.voteBits;
      st.voteVersion = r.voteVersion;
      st.policyVoteVersion = r.voteVersion;
      const changes = describeChanges(r.applied);
      if (r.problems.map((p) => p.message).join() !== st.policyProblems.map((p) => p.message).join() && r.problems.length > 0) {
        this.#log.error(
          { event: 'policy_mismatch', voteVersion: r.voteVersion, problems: r.problems },
          `wallet ${this.name} (vote version ${r.voteVersion}) cannot take part of the policy; the rest is applied. Fix: ${r.problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`,
        );
      }
      st.policyProblems = r.problems;
      if (r.previousVersion !== null) {
        this.#log.warn(
          { event: 'policy_version_changed', from: r.previousVersion, to: r.voteVersion, changes },
          `wallet ${this.name} changed vote version ${r.previousVersion} → ${r.voteVersion}; policy re-applied and checked on the new version: ${changes.join('; ') || 'nothing to change'}`,
        );
      } else if (r.drifted) {
        m.policyReappliedTotal.inc({ wallet: this.name });
        this.#log.warn({ event: 'policy_drift', changes }, `wallet ${this.name} had drifted from the policy; re-applied: ${changes.join('; ')}`);
      } else if (changes.length > 0) {
        this.#log.info({ event: 'policy_applied', changes }, `applied policy to wallet ${this.name}: ${changes.join('; ')}`);
      }
      if (r.undecided.join() !== st.undecidedAgendas.join() && r.undecided.length > 0) {
        this.#log.warn(
          { event: 'undecided_agendas', agendas: r.undecided },
          `wallet ${this.name} offers agendas the policy does not decide: ${r.undecided.join(', ')} (add them under policy.agendas)`,
        );
      }
      st.undecidedAgendas = r.undecided;
      m.undecidedAgendas.set({ wallet: this.name }, r.undecided.length);
      this.emit('policyChecked');
    } catch (err) {
      this.#state.policyInSync = false;
      if (err instanceof PolicyMismatchError) throw new WalletFatalError(this.name, err.message);
      throw err;
    } finally {
      m.policyInSync.set({ wallet: this.name }, this.#state.policyInSync ? 1 : 0);
    }
  }

  async #refreshStakeInfo(): Promise<void> {
    try {
      const s = await this.#o.client.stakeInfo();
      const byStatus: Record<string, number> = {
        unmined: s.ownMempoolTix,
        immature: s.immature,
        live: s.live,
        voted: s.voted,
        missed: s.missed,
        revoked: s.revoked,
        expired: s.expired,
      };
      this.#state.tickets = byStatus;
      this.#stakeInfoAt = this.#now();
      for (const [status, n] of Object.entries(byStatus)) this.#o.metrics.tickets.set({ wallet: this.name, status }, n);
    } catch (err) {
      this.#log.debug({ err: { message: errorMessage(err) } }, 'stake info failed');
    }
  }

  #markUnreachableOrFailed(err: Error): void {
    // Whatever failed, run the full setup again on the next attempt: a
    // wallet that restarted between probes needs opening, unlocking and a
    // policy check, and redoing them on a healthy wallet is harmless.
    this.#needsSetup = true;
    this.#state.lastError = { message: err.message, at: this.#now() };
    if (isConnectivityError(err)) this.#markUnreachable(err);
    else this.#publishReadiness();
  }

  #markUnreachable(err: unknown): void {
    this.#needsSetup = true;
    this.#state.unreachable(errorMessage(err), this.#now());
    this.#publishGauges();
    this.#publishReadiness();
  }

  #publishGauges(): void {
    const r = this.#state.readiness;
    const m = this.#o.metrics;
    const w = { wallet: this.name };
    m.walletUp.set(w, r.reachable ? 1 : 0);
    m.walletUnlocked.set(w, r.unlocked ? 1 : 0);
    m.walletVotingEnabled.set(w, r.voting ? 1 : 0);
    m.walletSynced.set(w, r.synced ? 1 : 0);
  }

  #publishReadiness(): void {
    const st = this.#state;
    const ready = st.isReady();
    if (ready && st.readySince === null) {
      st.readySince = this.#now();
      this.#log.info({ event: 'wallet_ready' }, `wallet ${this.name} is ready to vote`);
      this.emit('ready');
    } else if (!ready && st.readySince !== null) {
      st.readySince = null;
      const reasons = st.reasons();
      this.#log.warn({ event: 'wallet_not_ready', reasons }, `wallet ${this.name} cannot vote: ${reasons.join('; ')}`);
    }
  }
}
