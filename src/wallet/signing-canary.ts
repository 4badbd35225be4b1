// The signing canary: before a ticket wins, prove that the wallet can sign
// its votes. For each account holding the voting key of a live ticket it
// builds that ticket's vote on the current tip (the caster's own inputs,
// vote/assembler.ts), has the wallet sign it WITHOUT a passphrase, checks
// the ticket input's signature script (vote/vote-signature.ts) and throws
// the vote away. It never broadcasts: the wallet it is given has no
// publish call at all.
//
// Why no passphrase: a call that carries one relocks a wallet unlocked with
// a timeout, and a wrong one locks an unlocked wallet (DESIGN.md §5). So for
// a wallet left locked on purpose (votingMode daemon or both, unlock:
// false), the canary cannot sign. It still proves what it can — a live
// ticket found, its vote built, the voting key's account known and not
// locked on its own, gRPC answering SignTransaction — and reports
// `locked_by_design`; that the passphrase opens the wallet is proved apart,
// by the unlocker's empty-transaction check (unlocker.ts), which changes
// nothing on a locked wallet.

import type { Logger } from 'pino';
import { CANARY_STATUSES, type BlockRef, type CanaryCause, type CanaryStatus } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import { VoteAssemblyError, type VoteAssembler } from '../vote/assembler.js';
import { checkVoteSignature } from '../vote/vote-signature.js';
import type { AccountLockGuard, LockedAccount } from './account-locks.js';
import type { LiveTicket, LiveTicketScan } from './grpc-client.js';
import { isConnectivityError } from './rpc-errors.js';


export interface CanaryReport {
  status: CanaryStatus;
  /** Set when status is cannot_sign. */
  cause: CanaryCause | null;
  message: string;
  /** The ticket whose vote failed (or, on success, the last one signed). */
  ticket: string | null;
  /** Txid of the last vote signed and thrown away (never broadcast). */
  voteTxid: string | null;
  block: BlockRef | null;
  /** Voting accounts whose vote was signed and checked. */
  accountsSigned: number[];
  lockedAccounts: LockedAccount[];
  at: number;
}

/** What the canary may call: no publish, by construction. */
export interface CanaryWallet {
  scanLiveTickets(): Promise<LiveTicketScan>;
  /** Always called with null: never a passphrase. */
  signTransaction(passphrase: null, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }>;
}

export interface CanaryLockView {
  /** walletinfo.unlocked as last probed; null when unknown. */
  unlocked(): boolean | null;
  /** The wallet is meant to stay locked: dcrvoted signs each vote with the passphrase (votingMode daemon/both, unlock false). */
  lockedByDesign(): boolean;
}

/**
 * dcrwallet 2.1.5 votes a ticket itself only if it "has the private key" of
 * its voting address, which it decides from the account number alone:
 * below ImportedAddrAccount (2^31-1) (wallet/wallet.go hasVotingAuthority,
 * wallet/udb/addressmanager.go HavePrivateKey). An account made by
 * ImportVotingAccountFromSeed is numbered from 2^31 on, so the wallet never
 * votes its tickets, unlocked or not — although SignTransaction signs them.
 */
export const FIRST_ACCOUNT_THE_WALLET_WILL_NOT_VOTE = 2 ** 31 - 1;

export interface SigningCanaryOptions {
  walletName: string;
  /** votingMode wallet: only the wallet votes, so a ticket it will not vote is lost. */
  walletAloneVotes: boolean;
  wallet: CanaryWallet;
  assembler: VoteAssembler;
  accounts: AccountLockGuard;
  lock: CanaryLockView;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

class CanaryFailure extends Error {
  constructor(
    readonly kind: CanaryCause,
    message: string,
    readonly ticket: string | null,
  ) {
    super(message);
  }
}

export class SigningCanary {
  readonly #o: SigningCanaryOptions;

  constructor(opts: SigningCanaryOptions) {
    this.#o = opts;
  }

  /**
   * One run on the given tip. Connectivity errors are thrown (the
   * supervisor marks the wallet unreachable); everything else ends up in
   * the report, and in the metrics.
   */
  async run(tip: BlockRef): Promise<CanaryReport> {
    const o = this.#o;
    const at = (o.now ?? Date.now)();
    const base = { block: tip, at, accountsSigned: [] as number[], lockedAccounts: [] as LockedAccount[], voteTxid: null as string | null };
    let report: CanaryReport;
    try {
      const scan = await this.#call('GetTickets', () => o.wallet.scanLiveTickets());
      if (scan.live === 0) {
        report = { ...base, status: 'no_live_ticket', cause: null, ticket: null, message: `wallet ${o.walletName} has no live ticket: nothing to sign yet` };
      } else {
        base.lockedAccounts = await this.#call('AccountUnlocked', () => o.accounts.check(scan.byAccount.keys()));
        report = await this.#signAll(scan, tip, base);
      }
    } catch (err) {
      if (!(err instanceof CanaryFailure)) throw err;
      report = { ...base, status: 'cannot_sign', cause: err.kind, ticket: err.ticket, message: err.message };
    }
    this.#publish(report);
    return report;
  }

  async #signAll(scan: LiveTicketScan, tip: BlockRef, base: Omit<CanaryReport, 'status' | 'cause' | 'message' | 'ticket'>): Promise<CanaryReport> {
    const o = this.#o;
    const locked = new Map(base.lockedAccounts.map((l) => [l.account, l]));
    let lockedByDesign = false;
    let last: string | null = null;
    // A live ticket whose voting key the wallet lacks wins like any other and cannot be voted.
    const tickets = [...scan.byAccount.values(), ...(scan.withoutKey ? [scan.withoutKey] : [])];
    for (const t of tickets) {
      const lockedAccount = t.votingAccount === null ? undefined : locked.get(t.votingAccount);
      if (lockedAccount) throw new CanaryFailure('account_locked', `cannot sign votes of ticket ${t.hash}: ${lockedAccount.why}`, t.hash);
      const outcome = await this.#signOne(t, tip);
      if (outcome === 'locked_by_design') lockedByDesign = true;
      else {
        base.voteTxid = outcome.txid;
        if (t.votingAccount !== null) base.accountsSigned.push(t.votingAccount);
      }
      last = t.hash;
    }
    if (lockedByDesign) {
      return {
        ...base,
        status: 'locked_by_design',
        cause: null,
        ticket: last,
        message: `wallet ${o.walletName} is locked on purpose (dcrvoted signs each vote with the passphrase), so the canary could not sign; it found live tickets, built their votes, and checked their accounts and the gRPC path`,
      };
    }
    return { ...base, status: 'ok', cause: null, ticket: last, message: `wallet ${o.walletName} signed a vote for ticket ${last ?? '?'} with its voting key (thrown away, not broadcast)` };
  }

  async #signOne(t: LiveTicket, tip: BlockRef): Promise<{ txid: string } | 'locked_by_design'> {
    const o = this.#o;
    let unsigned;
    try {
      unsigned = await o.assembler.build(t.hash, tip);
    } catch (err) {
      if (err instanceof VoteAssemblyError) throw new CanaryFailure('build_failed', err.message, t.hash);
      throw this.#asFailure(err, 'building the vote', t.hash);
    }
    const signed = await this.#call('SignTransaction', () => o.wallet.signTransaction(null, Buffer.from(unsigned.hex, 'hex')), t.hash);
    if (signed.unsignedInputIndexes.some((i) => i !== 0)) {
      if (o.lock.unlocked() === false) {
        if (o.lock.lockedByDesign()) return 'locked_by_design';
        throw new CanaryFailure('wallet_locked', `wallet ${o.walletName} is locked: it left the vote of ticket ${t.hash} unsigned`, t.hash);
      }
      if (t.votingAccount === null) {
        throw new CanaryFailure('missing_key', `wallet ${o.walletName} holds no key for the voting address of live ticket ${t.hash}: it cannot vote it`, t.hash);
      }
      throw new CanaryFailure(
        'watching_only',
        `wallet ${o.walletName} knows the voting address of ticket ${t.hash} (account ${t.votingAccount}) but left its vote unsigned: no private key for it (a watching-only wallet, or an account imported from an extended public key)`,
        t.hash,
      );
    }
    const check = checkVoteSignature(signed.tx, t.tx);
    if (!check.ok) throw new CanaryFailure('bad_signature', `wallet ${o.walletName} signed the vote of ticket ${t.hash}, but ${check.why}`, t.hash);
    if (o.walletAloneVotes && t.votingAccount !== null && t.votingAccount >= FIRST_ACCOUNT_THE_WALLET_WILL_NOT_VOTE) {
      throw new CanaryFailure(
        'wallet_will_not_vote',
        `wallet ${o.walletName} signs votes of ticket ${t.hash}, but its voting key is in imported account ${t.votingAccount} (ImportVotingAccountFromSeed), whose tickets dcrwallet never votes itself; set votingMode: both (or daemon) for this wallet so dcrvoted casts them`,
        t.hash,
      );
    }
    return { txid: unsigned.txid };
  }

  /** A wallet call: connectivity errors go up, any other refusal is a canary failure. */
  async #call<T>(what: string, fn: () => Promise<T>, ticket: string | null = null): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#asFailure(err, what, ticket);
    }
  }

  #asFailure(err: unknown, what: string, ticket: string | null): Error {
    if (err instanceof CanaryFailure) return err;
    if (isConnectivityError(err)) return err instanceof Error ? err : new Error(String(err));
    return new CanaryFailure('grpc_refused', `wallet ${this.#o.walletName} refused ${what}: ${errorMessage(err)}`, ticket);
  }

  #publish(r: CanaryReport): void {
    const o = this.#o;
    const wallet = o.walletName;
    for (const s of CANARY_STATUSES) o.metrics.signingCanaryStatus.set({ wallet, status: s }, s === r.status ? 1 : 0);
    if (r.cause) o.metrics.signingCanaryFailuresTotal.inc({ wallet, cause: r.cause });
    const fields = { event: 'signing_canary', status: r.status, cause: r.cause, ticket: r.ticket, block: r.block, accountsSigned: r.accountsSigned };
    if (r.status === 'cannot_sign') o.logger.error(fields, `signing canary: ${r.message}`);
    else o.logger.info(fields, `signing canary: ${r.message}`);
  }
}
