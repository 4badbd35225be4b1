// Brings one wallet's vote choices and treasury policies to the configured
// policy and proves it by reading them back. The first reconcile after a
// (re)connect is "apply"; a difference found later means something changed
// the wallet behind our back, which is drift and is counted.

import type { PolicyConfig } from '../config/load.js';
import type { TreasuryChoice } from '../domain.js';
import {
  describeChanges,
  diffPolicy,
  isEmpty,
  undecidedAgendas,
  validateAgainstAgendas,
  type PolicyChanges,
  type PolicyProblem,
  type WalletAgenda,
  type WalletPolicyState,
} from './diff.js';

export interface PolicyWallet {
  agendas(): Promise<{ version: number; agendas: WalletAgenda[] }>;
  voteChoices(): Promise<{ version: number; choices: { agendaId: string; choiceId: string }[]; voteBits: number }>;
  setVoteChoices(choices: { agendaId: string; choiceId: string }[]): Promise<unknown>;
  treasuryPolicies(): Promise<{ key: string; policy: string; ticketHash?: string | null }[]>;
  setTreasuryPolicy(key: string, policy: TreasuryChoice): Promise<unknown>;
  tspendPolicies(): Promise<{ hash: string; policy: string; ticketHash?: string | null }[]>;
  setTSpendPolicy(hash: string, policy: TreasuryChoice): Promise<unknown>;
}

/** The policy names an agenda or choice the wallet does not offer. */
export class PolicyMismatchError extends Error {
  constructor(
    readonly wallet: string,
    readonly problems: PolicyProblem[],
  ) {
    super(
      `wallet ${wallet} cannot apply the configured policy:\n` +
        problems.map((p) => `  ${p.key}: ${p.message}`).join('\n'),
    );
    this.name = 'PolicyMismatchError';
  }
}

/** The wallet accepted the changes but reads back something else. */
export class PolicyNotAppliedError extends Error {
  constructor(
    readonly wallet: string,
    readonly remaining: PolicyChanges,
  ) {
    super(`wallet ${wallet} did not keep the policy after applying it: ${describeChanges(remaining).join('; ')}`);
    this.name = 'PolicyNotAppliedError';
  }
}

export interface ReconcileResult {
  /** Changes made; empty when the wallet already matched. */
  applied: PolicyChanges;
  /** True when the wallet differed although we had applied the policy before. */
  drifted: boolean;
  undecided: string[];
  voteBits: number;
  voteVersion: number;
}

export class PolicyReconciler {
  /** Set after a successful reconcile; cleared when the wallet (re)connects. */
  #appliedOnce = false;
  #lastState: WalletPolicyState | null = null;

  constructor(
    readonly walletName: string,
    readonly policy: PolicyConfig,
  ) {}

  /** Forget that the policy was applied, e.g. after a wallet restart. */
  reset(): void {
    this.#appliedOnce = false;
  }

  get lastState(): WalletPolicyState | null {
    return this.#lastState;
  }

  async reconcile(wallet: PolicyWallet): Promise<ReconcileResult> {
    const { version, agendas } = await wallet.agendas();
    const problems = validateAgainstAgendas(this.policy, agendas, version);
    if (problems.length > 0) throw new PolicyMismatchError(this.walletName, problems);

    const before = await readState(wallet);
    const changes = diffPolicy(this.policy, before);
    const drifted = this.#appliedOnce && !isEmpty(changes);
    if (!isEmpty(changes)) {
      await writeChanges(wallet, changes);
      const after = await readState(wallet);
      const remaining = diffPolicy(this.policy, after);
      if (!isEmpty(remaining)) throw new PolicyNotAppliedError(this.walletName, remaining);
      this.#lastState = after;
    } else {
      this.#lastState = before;
    }
    this.#appliedOnce = true;
    const { voteBits } = await wallet.voteChoices();
    return { applied: changes, drifted, undecided: undecidedAgendas(this.policy, agendas), voteBits, voteVersion: version };
  }
}

async function readState(wallet: PolicyWallet): Promise<WalletPolicyState> {
  const [choices, treasuryKeys, tspends] = await Promise.all([
    wallet.voteChoices(),
    wallet.treasuryPolicies(),
    wallet.tspendPolicies(),
  ]);
  // Per-ticket policies belong to VSP tickets; the policy here is wallet-wide.
  const walletWide = <T extends { ticketHash?: string | null }>(p: T) => !p.ticketHash;
  return {
    choices: choices.choices,
    treasuryKeys: treasuryKeys.filter(walletWide),
    tspends: tspends.filter(walletWide),
  };
}

async function writeChanges(wallet: PolicyWallet, c: PolicyChanges): Promise<void> {
  if (c.agendas.length > 0) {
    await wallet.setVoteChoices(c.agendas.map(({ agendaId, choiceId }) => ({ agendaId, choiceId })));
  }
  for (const k of c.treasuryKeys) await wallet.setTreasuryPolicy(k.key, k.policy);
  for (const t of c.tspends) await wallet.setTSpendPolicy(t.hash, t.policy);
}

export { describeChanges };
