// One supervisor per wallet keeps that wallet able to vote and answers
// "could this wallet vote right now, and if not, why".
//
// It runs one loop: make the wallet ready (reachable, right network, opened
// and syncing in managed mode, unlocked, policy applied), then probe it on an
// interval; any failure drops back into the repair step, which p-retry runs
// with capped exponential backoff until it succeeds or we shut down.

import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { WalletConfig } from '../config/load.js';
import type { BlockRef, NetworkName, WalletReadiness } from '../domain.js';
import { PolicyMismatchError, PolicyReconciler, describeChanges, type PolicyWallet } from '../policy/reconciler.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { PassphraseState, WalletPassphrase } from './passphrase.js';
import { WalletRpcError } from './rpc-errors.js';

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
export interface SupervisedWallet extends PolicyWallet {
  ping(): Promise<void>;
  network(): Promise<NetworkName | 'unknown'>;
  bestBlock(): Promise<BlockRef>;
  stakeInfo(): Promise<StakeCounts>;
  getTicket(hash: string): Promise<{ status: string } | null>;
  unlockWallet(passphrase: Buffer): Promise<void>;
  signTransaction(passphrase: Buffer | null, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }>;
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

export interface WalletInfo {
  unlocked: boolean;
  voting: boolean;
  daemonConnected: boolean;
  voteVersion?: number;
  /** The wallet syncs over SPV, where it never hears of winning tickets. */
  spv?: boolean;
}

export interface WalletStatusProbe {
  walletInfo(): Promise<WalletInfo>;
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
  /** How often stake info (O(tickets) inside the wallet) is refreshed. */
  stakeInfoIntervalMs?: number;
  now?: () => number;
}

export interface WalletStatusView {
  name: string;
  mode: 'attached' | 'managed';
  votingMode: 'wallet' | 'daemon' | 'both';
  address: string;
  ready: boolean;
  reasons: string[];
  readiness: WalletReadiness;
  bestBlock: BlockRef | null;
  voteVersion: number | null;
  policy: {
    inSync: boolean | null;
    lastCheckedAt: string | null;
    voteBits: number | null;
    undecidedAgendas: string[];
  };
  tickets: Record<string, number> | null;
  unlock: { enabled: boolean; lastResult: string | null; lastAttemptAt: string | null; passphrase: PassphraseState };
  lastError: { message: string; at: string } | null;
  readySince: string | null;
}

type Events = { ready: []; unready: [reasons: string[]]; fatal: [err: WalletFatalError] };

export class WalletSupervisor extends EventEmitter<Events> {
  readonly name: string;
  readonly #o: SupervisorOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  #needsSetup = true;
  #everReachable = false;
  #sync: SyncHandle | null = null;
  #readiness: WalletReadiness = { reachable: false, unlocked: null, voting: null, daemonConnected: null, synced: null };
  #bestBlock: BlockRef | null = null;
  #voteVersion: number | null = null;
  #policyInSync: boolean | null = null;
  #policyCheckedAt = 0;
  #voteBits: number | null = null;
  #undecided: string[] = [];
  #tickets: Record<string, number> | null = null;
  #stakeInfoAt = 0;
  #wrongPassphraseUntil = 0;
  #unlockResult: string | null = null;
  #unlockAt = 0;
  #lastError: { message: string; at: number } | null = null;
  #readySince: number | null = null;
  #spv = false;

  constructor(opts: SupervisorOptions) {
    super();
    this.#o = opts;
    this.name = opts.config.name;
    this.#log = opts.logger.child({ component: 'wallet', wallet: this.name });
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    this.#sync?.cancel();
    await this.#loop?.catch(() => undefined);
    this.#o.client.close();
  }

  readiness(): WalletReadiness {
    return { ...this.#readiness };
  }

  /** Reasons this wallet could not vote right now; empty when it can. */
  reasons(): string[] {
    const r = this.#readiness;
    const out: string[] = [];
    if (!r.reachable) out.push(this.#lastError ? `unreachable: ${this.#lastError.message}` : 'connecting (not checked yet)');
    else if (this.#o.config.votingMode === 'daemon') {
      // dcrvoted casts the votes: --enablevoting does not matter, and a
      // locked wallet signs with the passphrase given per call — unless the
      // wallet has rejected that passphrase.
      if (r.unlocked === false && this.#o.passphrase.usable() === null) out.push(this.#lockedReason());
      if (r.synced !== true) out.push(r.daemonConnected === false ? 'not connected to dcrd' : 'not synced to dcrd');
    } else {
      if (r.unlocked !== true) out.push(r.unlocked === false ? this.#lockedReason() : 'lock state unknown (walletinfo failed)');
      if (r.voting !== true) {
        out.push(
          r.voting === false
            ? this.#spv
              ? 'the wallet syncs over SPV and never hears of winning tickets (run it with an RPC connection to dcrd)'
              : 'voting disabled (start dcrwallet with --enablevoting)'
            : 'voting state unknown',
        );
      }
      if (r.synced !== true) out.push(r.daemonConnected === false ? 'not connected to dcrd' : 'not synced to dcrd');
    }
    return out;
  }

  isReady(): boolean {
    return this.reasons().length === 0;
  }

  #lockedReason(): string {
    const p = this.#o.passphrase;
    if (p.state() === 'rejected') {
      return `locked, and the wallet rejected the passphrase in ${p.path ?? 'wallets[].passphraseFile'}: fix the file (dcrvoted will not send it again until it changes)`;
    }
    return 'locked';
  }

  /** The lock state the vote caster signs by: the last probe's, or a fresh walletinfo. */
  lockState(): { unlocked(): boolean | null; refreshUnlocked(): Promise<boolean | null> } {
    return {
      unlocked: () => this.#readiness.unlocked,
      refreshUnlocked: async () => {
        try {
          const info = await this.#o.probe.walletInfo();
          if (this.#readiness.reachable) {
            this.#readiness = { ...this.#readiness, unlocked: info.unlocked };
            this.#publishGauges();
          }
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
    this.#wake?.();
    return this.readiness();
  }

  /** The wallet's vote version as walletinfo last reported it. */
  voteVersion(): number | null {
    return this.#voteVersion;
  }

  async ownsTicket(ticket: string): Promise<boolean> {
    return (await this.#o.client.getTicket(ticket)) !== null;
  }

  async ticketStatus(ticket: string): Promise<string | null> {
    return (await this.#o.client.getTicket(ticket))?.status ?? null;
  }

  status(): WalletStatusView {
    const iso = (t: number | null) => (t ? new Date(t).toISOString() : null);
    return {
      name: this.name,
      mode: this.#o.config.mode,
      votingMode: this.#o.config.votingMode,
      address: this.#o.config.grpc.address,
      ready: this.isReady(),
      reasons: this.reasons(),
      readiness: this.readiness(),
      bestBlock: this.#bestBlock,
      voteVersion: this.#voteVersion,
      policy: {
        inSync: this.#policyInSync,
        lastCheckedAt: iso(this.#policyCheckedAt || null),
        voteBits: this.#voteBits,
        undecidedAgendas: this.#undecided,
      },
      tickets: this.#tickets,
      unlock: { enabled: this.#o.config.unlock, lastResult: this.#unlockResult, lastAttemptAt: iso(this.#unlockAt || null), passphrase: this.#o.passphrase.state() },
      lastError: this.#lastError ? { message: this.#lastError.message, at: new Date(this.#lastError.at).toISOString() } : null,
      readySince: iso(this.#readySince),
    };
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
        const fatal = err instanceof WalletFatalError ? err : new WalletFatalError(this.name, errMessage(err));
        this.#log.fatal({ err: { message: fatal.message } }, fatal.message);
        this.emit('fatal', fatal);
        return;
      }
      await this.#sleep(this.#o.probeIntervalMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
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
      if (this.#everReachable && !this.#readiness.reachable) this.#o.metrics.reconnectsTotal.inc({ peer: `wallet:${this.name}` });
      this.#everReachable = true;
      const net = await c.network();
      if (net !== this.#o.network) {
        throw new WalletFatalError(
          this.name,
          `wallet ${this.name} at ${this.#o.config.grpc.address} is on ${net}, but dcrvoted is configured for ${this.#o.network} (config key network, or wallets[].grpcAddress points at the wrong wallet)`,
        );
      }
      this.#policyCheckedAt = 0;
      this.#o.policy.reset();
      this.#needsSetup = false;
      this.#log.info({ event: 'wallet_connected' }, `connected to wallet ${this.name} at ${this.#o.config.grpc.address}`);
    }
    if (this.#o.config.mode === 'managed' && this.#sync === null) this.#startSync();
    await this.#observe();
    await this.#unlockIfNeeded();
    await this.#checkPassphraseOfLockedWallet();
    if (this.#now() - this.#policyCheckedAt >= this.#o.policyCheckIntervalMs) await this.#checkPolicy();
    if (this.#now() - this.#stakeInfoAt >= (this.#o.stakeInfoIntervalMs ?? 60_000)) await this.#refreshStakeInfo();
    this.#publishReadiness();
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
      this.#wake?.();
    };
    handle.on('synced', () => this.#log.info({ event: 'rpc_sync_synced' }, `wallet ${this.name} synced to dcrd`));
    handle.on('error', (err) => ended(err.message));
    handle.on('end', () => ended('stream closed'));
  }

  async #observe(): Promise<void> {
    const c = this.#o.client;
    const [best, info] = await Promise.all([c.bestBlock(), this.#o.probe.walletInfo().catch((err: unknown) => err as Error)]);
    this.#bestBlock = best;
    this.#o.metrics.walletBestBlockHeight.set({ wallet: this.name }, best.height);
    const dcrdHeight = this.#o.dcrdHeight();
    const closeToDcrd = dcrdHeight === null ? true : Math.abs(dcrdHeight - best.height) <= 1;
    if (info instanceof Error) {
      this.#readiness = { reachable: true, unlocked: null, voting: null, daemonConnected: null, synced: null };
      this.#lastError = { message: `walletinfo failed: ${info.message}`, at: this.#now() };
    } else {
      this.#voteVersion = info.voteVersion ?? this.#voteVersion;
      this.#spv = info.spv === true;
      this.#readiness = {
        reachable: true,
        unlocked: info.unlocked,
        voting: info.voting && info.spv !== true,
        daemonConnected: info.daemonConnected,
        synced: info.daemonConnected && closeToDcrd,
      };
    }
    this.#publishGauges();
  }

  /** Runs right after a fresh walletinfo: the passphrase goes only to a wallet seen locked. */
  async #unlockIfNeeded(): Promise<void> {
    const cfg = this.#o.config;
    // Only a wallet known to be locked: an unknown state may be an unlocked wallet.
    if (!cfg.unlock || this.#readiness.unlocked !== false) return;
    if (this.#now() < this.#wrongPassphraseUntil) return;
    const passphrase = this.#o.passphrase.usable();
    if (!passphrase) return;
    this.#unlockAt = this.#now();
    try {
      await this.#o.client.unlockWallet(passphrase);
    } catch (err) {
      if (err instanceof WalletRpcError && err.kind === 'wrong_passphrase') {
        this.#o.passphrase.markRejected(passphrase);
        this.#wrongPassphraseUntil = this.#now() + this.#o.wrongPassphraseRetryMs;
        this.#unlockResult = 'wrong_passphrase';
        this.#o.metrics.unlockAttemptsTotal.inc({ wallet: this.name, result: 'wrong_passphrase' });
        this.#log.error(
          { event: 'unlock_failed', reason: 'wrong_passphrase', file: cfg.passphrasePath },
          `wallet ${this.name} rejected the passphrase from ${cfg.passphrasePath} (wallets[].passphraseFile); fix the file — dcrvoted will not send this passphrase again until the file changes`,
        );
        return;
      }
      this.#unlockResult = 'error';
      this.#o.metrics.unlockAttemptsTotal.inc({ wallet: this.name, result: 'error' });
      throw err;
    }
    this.#o.passphrase.markAccepted(passphrase);
    this.#unlockResult = 'ok';
    this.#o.metrics.unlockAttemptsTotal.inc({ wallet: this.name, result: 'ok' });
    this.#log.warn({ event: 'unlocked' }, `wallet ${this.name} was locked; unlocked it without a time limit (wallets[].unlock: true)`);
    await this.#observe();
  }

  /**
   * A wallet left locked for dcrvoted to sign with the passphrase per vote
   * (votingMode daemon or both, unlock false): learn now, not at the first
   * winning ticket, whether the wallet takes that passphrase. Signing an
   * empty transaction unlocks a locked wallet for the call only, and a wrong
   * passphrase leaves a locked wallet locked, so this changes nothing.
   */
  async #checkPassphraseOfLockedWallet(): Promise<void> {
    const p = this.#o.passphrase;
    if (this.#o.config.votingMode === 'wallet' || this.#readiness.unlocked !== false || p.state() !== 'unverified') return;
    const passphrase = p.usable();
    if (!passphrase) return;
    try {
      await this.#o.client.signTransaction(passphrase, EMPTY_TX);
      p.markAccepted(passphrase);
    } catch (err) {
      if (!(err instanceof WalletRpcError && err.kind === 'wrong_passphrase')) {
        this.#log.debug({ err: { message: errMessage(err) } }, 'could not check the passphrase against the locked wallet');
        return;
      }
      p.markRejected(passphrase);
      this.#log.error(
        { event: 'passphrase_rejected', file: this.#o.config.passphrasePath },
        `wallet ${this.name} is locked and rejected the passphrase from ${this.#o.config.passphrasePath} (wallets[].passphraseFile), so dcrvoted cannot sign its votes; fix the file — it will not be sent again until the file changes`,
      );
    }
  }

  async #checkPolicy(): Promise<void> {
    const m = this.#o.metrics;
    try {
      const r = await this.#o.policy.reconcile(this.#o.client);
      this.#policyCheckedAt = this.#now();
      this.#policyInSync = true;
      this.#voteBits = r.voteBits;
      this.#voteVersion = r.voteVersion;
      const changes = describeChanges(r.applied);
      if (r.drifted) {
        m.policyReappliedTotal.inc({ wallet: this.name });
        this.#log.warn({ event: 'policy_drift', changes }, `wallet ${this.name} had drifted from the policy; re-applied: ${changes.join('; ')}`);
      } else if (changes.length > 0) {
        this.#log.info({ event: 'policy_applied', changes }, `applied policy to wallet ${this.name}: ${changes.join('; ')}`);
      }
      if (r.undecided.join() !== this.#undecided.join() && r.undecided.length > 0) {
        this.#log.warn(
          { event: 'undecided_agendas', agendas: r.undecided },
          `wallet ${this.name} offers agendas the policy does not decide: ${r.undecided.join(', ')} (add them under policy.agendas)`,
        );
      }
      this.#undecided = r.undecided;
      m.undecidedAgendas.set({ wallet: this.name }, r.undecided.length);
    } catch (err) {
      this.#policyInSync = false;
      if (err instanceof PolicyMismatchError) throw new WalletFatalError(this.name, err.message);
      throw err;
    } finally {
      m.policyInSync.set({ wallet: this.name }, this.#policyInSync ? 1 : 0);
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
      this.#tickets = byStatus;
      this.#stakeInfoAt = this.#now();
      for (const [status, n] of Object.entries(byStatus)) this.#o.metrics.tickets.set({ wallet: this.name, status }, n);
    } catch (err) {
      this.#log.debug({ err: { message: errMessage(err) } }, 'stake info failed');
    }
  }

  #markUnreachableOrFailed(err: Error): void {
    // Whatever failed, run the full setup again on the next attempt: a
    // wallet that restarted between probes needs opening, unlocking and a
    // policy check, and redoing them on a healthy wallet is harmless.
    this.#needsSetup = true;
    this.#lastError = { message: err.message, at: this.#now() };
    if (isConnectivity(err)) this.#markUnreachable(err);
    else this.#publishReadiness();
  }

  #markUnreachable(err: unknown): void {
    this.#needsSetup = true;
    this.#lastError = { message: errMessage(err), at: this.#now() };
    this.#readiness = { reachable: false, unlocked: null, voting: null, daemonConnected: null, synced: null };
    this.#publishGauges();
    this.#publishReadiness();
  }

  #publishGauges(): void {
    const r = this.#readiness;
    const m = this.#o.metrics;
    const w = { wallet: this.name };
    m.walletUp.set(w, r.reachable ? 1 : 0);
    m.walletUnlocked.set(w, r.unlocked ? 1 : 0);
    m.walletVotingEnabled.set(w, r.voting ? 1 : 0);
    m.walletSynced.set(w, r.synced ? 1 : 0);
  }

  #publishReadiness(): void {
    const ready = this.isReady();
    if (ready && this.#readySince === null) {
      this.#readySince = this.#now();
      this.#log.info({ event: 'wallet_ready' }, `wallet ${this.name} is ready to vote`);
      this.emit('ready');
    } else if (!ready && this.#readySince !== null) {
      this.#readySince = null;
      const reasons = this.reasons();
      this.#log.warn({ event: 'wallet_not_ready', reasons }, `wallet ${this.name} cannot vote: ${reasons.join('; ')}`);
      this.emit('unready', reasons);
    }
  }
}

/** A transaction without inputs or outputs: the wallet checks the passphrase and signs nothing. */
const EMPTY_TX = Buffer.from('010000000000000000000000000000', 'hex');

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errKind(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'kind' in err ? String((err as { kind: unknown }).kind) : undefined;
}

/**
 * Anything but a wallet-side refusal means the wallet (or the path to it)
 * is gone: set everything up again once it answers.
 */
function isConnectivity(err: unknown): boolean {
  const kind = errKind(err);
  return kind === undefined || ['unreachable', 'unavailable', 'deadline', 'tls_rejected', 'tls_untrusted'].includes(kind);
}
