// Puts a wallet's private passphrase to use without ever costing the
// operator an unlocked wallet. dcrwallet locks an unlocked wallet when a call
// carries a wrong passphrase, so the passphrase goes only to a wallet the
// probe just saw locked, and never again once rejected, until its file
// changes (WalletPassphrase).

import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics.js';
import { WalletRpcError } from './rpc-errors.js';
import type { WalletState } from './wallet-state.js';

export interface UnlockableWallet {
  unlockWallet(passphrase: Buffer): Promise<void>;
  signTransaction(passphrase: Buffer | null, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }>;
}

export interface UnlockerOptions {
  state: WalletState;
  wallet: UnlockableWallet;
  metrics: Metrics;
  logger: Logger;
  /** Least time between two unlock attempts after a rejection, even when the file changed meanwhile. */
  wrongPassphraseRetryMs: number;
  now: () => number;
}

/** A transaction without inputs or outputs: the wallet checks the passphrase and signs nothing. */
const EMPTY_TX = Buffer.from('010000000000000000000000000000', 'hex');

export class WalletUnlocker {
  readonly #o: UnlockerOptions;
  #wrongUntil = 0;

  constructor(opts: UnlockerOptions) {
    this.#o = opts;
  }

  /**
   * Called right after a fresh walletinfo. With `unlock: true`, unlocks a
   * wallet seen locked (for good: that is what the option asks for).
   * Returns true when it unlocked the wallet. Throws on other errors.
   */
  async unlockIfNeeded(): Promise<boolean> {
    const { state, metrics, logger, now } = this.#o;
    const name = state.id.name;
    // Only a wallet known to be locked: an unknown state may be an unlocked wallet.
    if (!state.id.unlockEnabled || state.readiness.unlocked !== false) return false;
    if (now() < this.#wrongUntil) return false;
    const passphrase = state.passphrase.usable();
    if (!passphrase) return false;
    state.unlockAttemptAt = now();
    try {
      await this.#o.wallet.unlockWallet(passphrase);
    } catch (err) {
      if (err instanceof WalletRpcError && err.kind === 'wrong_passphrase') {
        state.passphrase.markRejected(passphrase);
        this.#wrongUntil = now() + this.#o.wrongPassphraseRetryMs;
        state.unlockResult = 'wrong_passphrase';
        metrics.unlockAttemptsTotal.inc({ wallet: name, result: 'wrong_passphrase' });
        logger.error(
          { event: 'unlock_failed', reason: 'wrong_passphrase', file: state.passphrase.path },
          `wallet ${name} rejected the passphrase from ${state.passphrase.path} (wallets[].passphraseFile); fix the file — dcrvoted will not send this passphrase again until the file changes`,
        );
        return false;
      }
      state.unlockResult = 'error';
      metrics.unlockAttemptsTotal.inc({ wallet: name, result: 'error' });
      throw err;
    }
    state.passphrase.markAccepted(passphrase);
    state.unlockResult = 'ok';
    metrics.unlockAttemptsTotal.inc({ wallet: name, result: 'ok' });
    logger.warn({ event: 'unlocked' }, `wallet ${name} was locked; unlocked it without a time limit (wallets[].unlock: true)`);
    return true;
  }

  /**
   * A wallet left locked for dcrvoted to sign with the passphrase per vote
   * (votingMode daemon or both, unlock false): learn now, not at the first
   * winning ticket, whether the wallet takes that passphrase. Signing an
   * empty transaction unlocks a locked wallet for the call only, and a wrong
   * passphrase leaves a locked wallet locked, so this changes nothing.
   */
  async checkPassphraseOfLockedWallet(): Promise<void> {
    const { state, logger } = this.#o;
    const p = state.passphrase;
    if (state.id.votingMode === 'wallet' || state.readiness.unlocked !== false || p.state() !== 'unverified') return;
    const passphrase = p.usable();
    if (!passphrase) return;
    try {
      await this.#o.wallet.signTransaction(passphrase, EMPTY_TX);
      p.markAccepted(passphrase);
    } catch (err) {
      if (!(err instanceof WalletRpcError && err.kind === 'wrong_passphrase')) {
        logger.debug({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not check the passphrase against the locked wallet');
        return;
      }
      p.markRejected(passphrase);
      logger.error(
        { event: 'passphrase_rejected', file: p.path },
        `wallet ${state.id.name} is locked and rejected the passphrase from ${p.path} (wallets[].passphraseFile), so dcrvoted cannot sign its votes; fix the file — it will not be sent again until the file changes`,
      );
    }
  }
}
