// Runs the guards: on a timer, and shortly after each block that starts a
// new rule-change interval, stake-version interval or treasury-vote
// interval (when what the guards judge can change). A check never runs on
// the vote path: the block handler only sets a timer, checks run one at a
// time, and the first one waits until the daemon is up.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ChainTracker } from '../dcrd/chain.js';
import type { NetworkName } from '../domain.js';
import { errorMessage } from '../errors.js';
import { TREASURY_VOTE_WINDOW } from '../vote/assembler.js';
import type { Finding, GuardEvent } from './findings.js';
import { CHAIN_PARAMS, calcWantHeight } from './params.js';
import type { TreasuryGuard, TreasuryGuardWallet, UndecidedTSpend } from './treasury-guard.js';
import type { UpgradeGuard, UpgradeGuardWallet } from './upgrade-guard.js';

export type GuardWallet = UpgradeGuardWallet & TreasuryGuardWallet;

export interface GuardSchedulerOptions {
  network: NetworkName;
  upgrade: UpgradeGuard;
  treasury: TreasuryGuard;
  wallets: readonly GuardWallet[];
  logger: Logger;
  checkIntervalMs: number;
  /** A check while no dcrd node is connected would only fail: skip it (the reconnect triggers one). */
  dcrdConnected: () => boolean;
  /** How long after a boundary block to check: the block's votes go first. */
  boundaryDelayMs?: number;
}

/** What /status shows of the guards. */
export interface GuardsView {
  lastCheckAt: string | null;
  lastError: string | null;
  findings: Finding[];
  undecidedTSpends: Record<string, UndecidedTSpend[]>;
}

export class GuardScheduler extends EventEmitter<{ event: [GuardEvent] }> {
  readonly #o: GuardSchedulerOptions;
  #timer: NodeJS.Timeout | null = null;
  #boundaryTimer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #lastCheckAt: number | null = null;
  #lastError: string | null = null;

  constructor(o: GuardSchedulerOptions) {
    super();
    this.#o = o;
  }

  /** Check now and every checkIntervalMs, and after each interval boundary the chain reaches. */
  start(chain: Pick<ChainTracker, 'on'>): void {
    chain.on('blockConnected', ({ block }) => {
      if (this.#isBoundary(block.height)) this.#soon();
    });
    chain.on('reconnected', () => this.#soon());
    this.#timer = setInterval(() => void this.checkNow(), this.#o.checkIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#boundaryTimer) clearTimeout(this.#boundaryTimer);
  }

  /** One check of every guard; a check asked for while one runs follows it once. */
  checkNow(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#checkOnce();
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  view(): GuardsView {
    const o = this.#o;
    return {
      lastCheckAt: this.#lastCheckAt ? new Date(this.#lastCheckAt).toISOString() : null,
      lastError: this.#lastError,
      findings: [...o.upgrade.reporter.all(), ...o.treasury.reporter.all()],
      undecidedTSpends: Object.fromEntries(o.wallets.map((w) => [w.name, o.treasury.undecided(w.name)])),
    };
  }

  async #checkOnce(): Promise<void> {
    const o = this.#o;
    if (this.#stopped || !o.dcrdConnected()) return;
    const failures: string[] = [];
    for (const [name, run] of [
      ['upgrade', () => o.upgrade.check(o.wallets)],
      ['treasury', () => o.treasury.check(o.wallets)],
    ] as const) {
      try {
        await run();
      } catch (err) {
        failures.push(`${name} guard: ${errorMessage(err)}`);
      }
    }
    this.#lastCheckAt = Date.now();
    const error = failures.length ? failures.join('; ') : null;
    if (error && error !== this.#lastError) o.logger.warn({ event: 'guard_check_failed', error }, `guard check failed (retried at the next interval): ${error}`);
    this.#lastError = error;
  }

  #soon(): void {
    if (this.#stopped || this.#boundaryTimer) return;
    this.#boundaryTimer = setTimeout(() => {
      this.#boundaryTimer = null;
      void this.checkNow();
    }, this.#o.boundaryDelayMs ?? 3000);
    this.#boundaryTimer.unref();
  }

  /** The first block of a rule-change, stake-version or treasury-vote interval. */
  #isBoundary(height: number): boolean {
    const p = CHAIN_PARAMS[this.#o.network];
    const starts = (interval: number) => calcWantHeight(p.stakeValidationHeight, interval, height) !== calcWantHeight(p.stakeValidationHeight, interval, height - 1);
    return starts(p.ruleChangeInterval) || starts(p.stakeVersionInterval) || height % TREASURY_VOTE_WINDOW[this.#o.network].tvi === 0;
  }
}
