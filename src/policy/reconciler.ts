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
  /**
   * Policy entries the wallet's vote version does not offer. Only ever
   * non-empty after the wallet changed its vote version under a running
   * daemon (an upgrade): the rest of the policy is applied, these are not.
   */
  problems: PolicyProblem[];
  /** The vote version the policy was last reconciled against, when it differs from voteVersion. */
  previousVersion: number | null;
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
  /** The vote version of the last successful reconcile; kept across reset(). */
  #lastVersion: number | null = null;

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
    // At start the operator fixes the policy before anything votes by it. A
    // wallet upgraded under a running daemon must keep the rest of its
    // choices: apply what the new version offers and report the rest.
    if (problems.length > 0 && this.#lastVersion === null) throw new PolicyMismatchError(this.walletName, problems);
    const previousVersion = this.#lastVersion !== null && this.#lastVersion !== version ? this.#lastVersion : null;
    const policy = withoutProblems(this.policy, problems);

    const before = await readState(wallet);
    const changes = diffPolicy(policy, before);
    // A new vote version starts with no choices: that is not drift.
    const drifted = this.#appliedOnce && previousVersion === null && !isEmpty(changes);
    if (!isEmpty(changes)) {
      await writeChanges(wallet, changes);
      const after = await readState(wallet);
      const remaining = diffPolicy(policy, after);
      if (!isEmpty(remaining)) throw new PolicyNotAppliedError(this.walletName, remaining);
      this.#lastState = after;
    } else {
      this.#lastState = before;
    }
    this.#appliedOnce = true;
    this.#lastVersion = version;
    const { voteBits } = await wallet.voteChoices();
    return { applied: changes, drifted, undecided: undecidedAgendas(this.policy, agendas), voteBits, voteVersion: version, problems, previousVersion };
  }
}

/** The policy minus the agenda entries the wallet cannot take. */
function withoutProblems(policy: PolicyConfig, problems: readonly PolicyProblem[]): PolicyConfig {
  if (problems.length === 0) return policy;
  const bad = new Set(problems.map((p) => p.key));
  return { ...policy, agendas: Object.fromEntries(Object.entries(policy.agendas).filter(([id]) => !bad.has(`policy.agendas.${id}`))) };
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
