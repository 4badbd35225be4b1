// Pure comparison of the configured policy with what a wallet offers and
// holds. No I/O here, so every rule is unit-tested directly.

import type { TreasuryChoice } from '../domain.js';
import type { PolicyConfig } from '../config/load.js';

export interface WalletAgenda {
  id: string;
  description: string;
  choices: { id: string; description: string; isAbstain?: boolean; isNo?: boolean }[];
}

/** What a wallet currently holds, as read back over gRPC. */
export interface WalletPolicyState {
  choices: { agendaId: string; choiceId: string }[];
  treasuryKeys: { key: string; policy: string }[];
  tspends: { hash: string; policy: string }[];
}

export interface PolicyProblem {
  /** The config key an operator must change. */
  key: string;
  message: string;
}

/** Policy entries that refer to something the wallet does not offer. */
export function validateAgainstAgendas(policy: PolicyConfig, agendas: WalletAgenda[], voteVersion: number): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const byId = new Map(agendas.map((a) => [a.id, a]));
  for (const [agendaId, choiceId] of Object.entries(policy.agendas)) {
    const agenda = byId.get(agendaId);
    if (!agenda) {
      const offered = agendas.map((a) => a.id).join(', ') || 'none';
      problems.push({
        key: `policy.agendas.${agendaId}`,
        message: `the wallet offers no agenda "${agendaId}" for vote version ${voteVersion} (it offers: ${offered})`,
      });
      continue;
    }
    if (!agenda.choices.some((c) => c.id === choiceId)) {
      problems.push({
        key: `policy.agendas.${agendaId}`,
        message: `agenda "${agendaId}" has no choice "${choiceId}" (choices: ${agenda.choices.map((c) => c.id).join(', ')})`,
      });
    }
  }
  return problems;
}

/** Agendas the wallet offers that the policy does not decide. */
export function undecidedAgendas(policy: PolicyConfig, agendas: WalletAgenda[]): string[] {
  return agendas.map((a) => a.id).filter((id) => !(id in policy.agendas));
}

export interface PolicyChanges {
  agendas: { agendaId: string; choiceId: string; was: string | null }[];
  treasuryKeys: { key: string; policy: TreasuryChoice; was: string | null }[];
  tspends: { hash: string; policy: TreasuryChoice; was: string | null }[];
}

export function isEmpty(c: PolicyChanges): boolean {
  return c.agendas.length === 0 && c.treasuryKeys.length === 0 && c.tspends.length === 0;
}

/**
 * What must be set on the wallet to match the policy. Only entries the
 * policy decides are compared: a choice the operator left to the wallet is
 * not ours to change.
 */
export function diffPolicy(policy: PolicyConfig, wallet: WalletPolicyState): PolicyChanges {
  const choices = new Map(wallet.choices.map((c) => [c.agendaId, c.choiceId]));
  const keys = new Map(wallet.treasuryKeys.map((k) => [k.key.toLowerCase(), k.policy]));
  const tspends = new Map(wallet.tspends.map((t) => [t.hash.toLowerCase(), t.policy]));
  return {
    agendas: Object.entries(policy.agendas)
      .filter(([id, choice]) => choices.get(id) !== choice)
      .map(([agendaId, choiceId]) => ({ agendaId, choiceId, was: choices.get(agendaId) ?? null })),
    treasuryKeys: Object.entries(policy.treasuryKeys)
      .filter(([key, p]) => normalizeTreasury(keys.get(key)) !== p)
      .map(([key, p]) => ({ key, policy: p, was: keys.get(key) ?? null })),
    tspends: Object.entries(policy.tspends)
      .filter(([hash, p]) => normalizeTreasury(tspends.get(hash)) !== p)
      .map(([hash, p]) => ({ hash, policy: p, was: tspends.get(hash) ?? null })),
  };
}

/** The wallet reports an unset treasury policy as abstain (or empty). */
function normalizeTreasury(p: string | undefined): string {
  return p === undefined || p === '' ? 'abstain' : p.toLowerCase();
}

export function describeChanges(c: PolicyChanges): string[] {
  return [
    ...c.agendas.map((a) => `agenda ${a.agendaId}: ${a.was ?? '(unset)'} → ${a.choiceId}`),
    ...c.treasuryKeys.map((k) => `treasury key ${k.key.slice(0, 12)}…: ${k.was ?? '(unset)'} → ${k.policy}`),
    ...c.tspends.map((t) => `tspend ${t.hash.slice(0, 12)}…: ${t.was ?? '(unset)'} → ${t.policy}`),
  ];
}
