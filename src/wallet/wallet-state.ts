// What dcrvoted last saw of one wallet, and what follows from it: whether
// the wallet could vote right now and, if not, why. The supervisor and the
// unlocker write the observations; readiness, /status and the gauges read
// them here, so "why is this wallet not ready" has one answer.

import type { BlockRef, CanaryCause, WalletReadiness } from '../domain.js';
import type { PassphraseState, WalletPassphrase } from './passphrase.js';
import type { CanaryReport } from './signing-canary.js';

const CAUSE_TEXT: Record<CanaryCause, string> = {
  wallet_locked: 'locked wallet',
  account_locked: 'locked account',
  missing_key: 'missing key',
  watching_only: 'watching-only',
  grpc_refused: 'gRPC refused',
  bad_signature: 'bad signature',
  build_failed: 'vote not built',
  wallet_will_not_vote: 'the wallet will not vote it',
};

export interface WalletIdentity {
  name: string;
  mode: 'attached' | 'managed';
  votingMode: 'wallet' | 'daemon' | 'both';
  address: string;
  unlockEnabled: boolean;
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
    voteVersion: number | null;
    undecidedAgendas: string[];
    problems: { key: string; message: string }[];
  };
  tickets: Record<string, number> | null;
  unlock: { enabled: boolean; lastResult: string | null; lastAttemptAt: string | null; passphrase: PassphraseState };
  lastError: { message: string; at: string } | null;
  readySince: string | null;
  /** The signing canary's last run; null before the first. */
  canary: (Omit<CanaryReport, 'at'> & { checkedAt: string }) | null;
}

/** The facts walletinfo reports. */
export interface WalletInfo {
  unlocked: boolean;
  voting: boolean;
  daemonConnected: boolean;
  voteVersion?: number;
  /** The wallet syncs over SPV, where it never hears of winning tickets. */
  spv?: boolean;
}

const UNREACHABLE: WalletReadiness = Object.freeze({ reachable: false, unlocked: null, voting: null, daemonConnected: null, synced: null });
const REACHABLE_UNKNOWN: WalletReadiness = Object.freeze({ reachable: true, unlocked: null, voting: null, daemonConnected: null, synced: null });

export class WalletState {
  #readiness: WalletReadiness = UNREACHABLE;
  #spv = false;
  bestBlock: BlockRef | null = null;
  voteVersion: number | null = null;
  policyInSync: boolean | null = null;
  policyCheckedAt = 0;
  voteBits: number | null = null;
  /** The vote version the policy was last checked against. */
  policyVoteVersion: number | null = null;
  /** Policy entries the wallet's current vote version does not offer (after an upgrade). */
  policyProblems: { key: string; message: string }[] = [];
  undecidedAgendas: string[] = [];
  tickets: Record<string, number> | null = null;
  unlockResult: string | null = null;
  unlockAttemptAt = 0;
  lastError: { message: string; at: number } | null = null;
  readySince: number | null = null;
  canary: CanaryReport | null = null;

  constructor(
    readonly id: WalletIdentity,
    readonly passphrase: WalletPassphrase,
  ) {}

  get readiness(): WalletReadiness {
    return { ...this.#readiness };
  }

  /** The wallet did not answer. */
  unreachable(message: string, at: number): void {
    this.#readiness = UNREACHABLE;
    this.lastError = { message, at };
  }

  /** A probe: the best block answered over gRPC, and walletinfo's facts (or why walletinfo failed). */
  observed(best: BlockRef, info: WalletInfo | Error, closeToDcrd: boolean, at: number): void {
    this.bestBlock = best;
    if (info instanceof Error) {
      this.#readiness = REACHABLE_UNKNOWN;
      this.lastError = { message: `walletinfo failed: ${info.message}`, at };
      return;
    }
    this.voteVersion = info.voteVersion ?? this.voteVersion;
    this.#spv = info.spv === true;
    this.#readiness = {
      reachable: true,
      unlocked: info.unlocked,
      voting: info.voting && info.spv !== true,
      daemonConnected: info.daemonConnected,
      synced: info.daemonConnected && closeToDcrd,
    };
  }

  /** A fresh walletinfo taken for its lock state alone (before a signature). */
  lockObserved(unlocked: boolean): void {
    if (this.#readiness.reachable) this.#readiness = { ...this.#readiness, unlocked };
  }

  /** Reasons this wallet could not vote right now; empty when it can. */
  reasons(): string[] {
    const r = this.#readiness;
    const out: string[] = [];
    if (!r.reachable) {
      out.push(this.lastError ? `unreachable: ${this.lastError.message}` : 'connecting (not checked yet)');
      return out;
    }
    if (this.id.votingMode === 'daemon') {
      // dcrvoted casts the votes: --enablevoting does not matter, and a
      // locked wallet signs with the passphrase given per call — unless the
      // wallet has rejected that passphrase.
      if (r.unlocked === false && this.passphrase.usable() === null) out.push(this.#lockedReason());
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
    }
    if (r.synced !== true) out.push(r.daemonConnected === false ? 'not connected to dcrd' : 'not synced to dcrd');
    const c = this.canary;
    if (c?.status === 'cannot_sign' && c.cause !== null) {
      if (c.cause === 'account_locked' && c.lockedAccounts.length > 0) for (const l of c.lockedAccounts) out.push(`account_locked: ${l.why}`);
      else out.push(`cannot_sign (${CAUSE_TEXT[c.cause]}): ${c.message}`);
    }
    return out;
  }

  isReady(): boolean {
    return this.reasons().length === 0;
  }

  #lockedReason(): string {
    const p = this.passphrase;
    if (p.state() === 'rejected') {
      return `locked, and the wallet rejected the passphrase in ${p.path ?? 'wallets[].passphraseFile'}: fix the file (dcrvoted will not send it again until it changes)`;
    }
    return 'locked';
  }

  status(): WalletStatusView {
    const iso = (t: number | null) => (t ? new Date(t).toISOString() : null);
    return {
      name: this.id.name,
      mode: this.id.mode,
      votingMode: this.id.votingMode,
      address: this.id.address,
      ready: this.isReady(),
      reasons: this.reasons(),
      readiness: this.readiness,
      bestBlock: this.bestBlock,
      voteVersion: this.voteVersion,
      policy: {
        inSync: this.policyInSync,
        lastCheckedAt: iso(this.policyCheckedAt || null),
        voteBits: this.voteBits,
        voteVersion: this.policyVoteVersion,
        undecidedAgendas: this.undecidedAgendas,
        problems: this.policyProblems,
      },
      tickets: this.tickets,
      unlock: { enabled: this.id.unlockEnabled, lastResult: this.unlockResult, lastAttemptAt: iso(this.unlockAttemptAt || null), passphrase: this.passphrase.state() },
      lastError: this.lastError ? { message: this.lastError.message, at: new Date(this.lastError.at).toISOString() } : null,
      readySince: iso(this.readySince),
      canary: this.canary ? { ...withoutAt(this.canary), checkedAt: new Date(this.canary.at).toISOString() } : null,
    };
  }
}

function withoutAt(r: CanaryReport): Omit<CanaryReport, 'at'> {
  const { at: _at, ...rest } = r;
  return rest;
}
