// Accounts with a passphrase of their own (ImportVotingAccountFromSeed,
// SetAccountPassphrase) stay locked when the wallet is unlocked, and
// walletinfo.unlocked does not show it (DESIGN.md §5). For each account that
// holds the voting key of a live ticket, this asks the wallet
// (AccountUnlocked) and unlocks a locked one with the passphrase configured
// for it (wallets[].accountPassphraseFiles).
//
// The same rules as the wallet passphrase (passphrase.ts, unlocker.ts): a
// passphrase goes only to an account just seen locked (dcrwallet's
// UnlockAccount compares a passphrase sent to an unlocked account and fails
// on a mismatch: wallet/udb/addressmanager.go UnlockAccount), and one the
// wallet rejected is not sent again until its file changes.

import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics.js';
import type { WalletPassphrase } from './passphrase.js';
import { WalletRpcError } from './rpc-errors.js';

export interface AccountLockWallet {
  /** null: the account has no passphrase of its own (it is as locked as the wallet). */
  accountUnlocked(account: number): Promise<boolean | null>;
  unlockAccount(account: number, passphrase: Buffer): Promise<void>;
}

export interface LockedAccount {
  account: number;
  /** Why dcrvoted could not unlock it, for /status and the log. */
  why: string;
}

export interface AccountLockGuardOptions {
  walletName: string;
  wallet: AccountLockWallet;
  /** Account number → its passphrase (wallets[].accountPassphraseFiles). */
  passphrases: ReadonlyMap<number, WalletPassphrase>;
  metrics: Metrics;
  logger: Logger;
}

export class AccountLockGuard {
  readonly #o: AccountLockGuardOptions;

  constructor(opts: AccountLockGuardOptions) {
    this.#o = opts;
  }

  /**
   * Checks each voting account, unlocks the locked ones it has a passphrase
   * for, and returns those still locked. Throws on a wallet error other than
   * a rejected passphrase (the caller treats it like any failed call).
   */
  async check(accounts: Iterable<number>): Promise<LockedAccount[]> {
    const locked: LockedAccount[] = [];
    for (const account of accounts) {
      const why = await this.#ensureUnlocked(account);
      if (why !== null) locked.push({ account, why });
    }
    this.#o.metrics.lockedVotingAccounts.set({ wallet: this.#o.walletName }, locked.length);
    return locked;
  }

  /** null once the account is unlocked (or has no passphrase of its own); otherwise why it is still locked. */
  async #ensureUnlocked(account: number): Promise<string | null> {
    const { walletName, wallet, metrics, logger } = this.#o;
    if ((await wallet.accountUnlocked(account)) !== false) return null;
    const configured = this.#o.passphrases.get(account);
    const key = `wallets[${walletName}].accountPassphraseFiles.${account}`;
    if (!configured) return `account ${account} has a passphrase of its own and is locked; configure it in ${key}`;
    const passphrase = configured.usable();
    if (!passphrase) return `account ${account} is locked and rejected the passphrase in ${configured.path ?? key} before; fix the file (dcrvoted will not send it again until it changes)`;
    try {
      await wallet.unlockAccount(account, passphrase);
    } catch (err) {
      if (!(err instanceof WalletRpcError && err.kind === 'wrong_passphrase')) {
        metrics.accountUnlockAttemptsTotal.inc({ wallet: walletName, result: 'error' });
        throw err;
      }
      configured.markRejected(passphrase);
      metrics.accountUnlockAttemptsTotal.inc({ wallet: walletName, result: 'wrong_passphrase' });
      logger.error(
        { event: 'account_unlock_failed', account, reason: 'wrong_passphrase', file: configured.path },
        `wallet ${walletName} rejected the passphrase of account ${account} from ${configured.path} (${key}); fix the file — dcrvoted will not send it again until the file changes`,
      );
      return `account ${account} is locked and rejected the passphrase in ${configured.path ?? key}; fix the file (dcrvoted will not send it again until it changes)`;
    }
    configured.markAccepted(passphrase);
    metrics.accountUnlockAttemptsTotal.inc({ wallet: walletName, result: 'ok' });
    logger.warn({ event: 'account_unlocked', account }, `wallet ${walletName}: voting account ${account} was locked; unlocked it (${key})`);
    return null;
  }
}
