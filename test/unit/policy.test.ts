import { describe, expect, it } from 'vitest';
import { diffPolicy, isEmpty, undecidedAgendas, validateAgainstAgendas, type WalletAgenda } from '../../src/policy/diff.js';
import { PolicyMismatchError, PolicyNotAppliedError, PolicyReconciler, type PolicyWallet } from '../../src/policy/reconciler.js';
import type { PolicyConfig } from '../../src/config/load.js';

const AGENDAS: WalletAgenda[] = [
  { id: 'maxblocksize', description: 'bigger blocks', choices: [{ id: 'abstain', description: '' }, { id: 'no', description: '' }, { id: 'yes', description: '' }] },
  { id: 'blake3pow', description: 'blake3', choices: [{ id: 'abstain', description: '' }, { id: 'no', description: '' }, { id: 'yes', description: '' }] },
];
const KEY = '03f6e7041f1cf51ee10e0a01cd2b0385ce3cd9debaabb2296f7e9dee9329da946c';
const TSPEND = 'ab'.repeat(32);

const policy = (p: Partial<PolicyConfig>): PolicyConfig => ({ agendas: {}, treasuryKeys: {}, tspends: {}, ...p });

describe('policy validation', () => {
  it('names an unknown agenda and lists what the wallet offers', () => {
    const problems = validateAgainstAgendas(policy({ agendas: { nosuch: 'yes' } }), AGENDAS, 10);
    expect(problems).toEqual([{ key: 'policy.agendas.nosuch', message: expect.stringMatching(/no agenda "nosuch".*maxblocksize, blake3pow/) }]);
  });

  it('names an unknown choice and lists the valid ones', () => {
    const problems = validateAgainstAgendas(policy({ agendas: { maxblocksize: 'maybe' } }), AGENDAS, 10);
    expect(problems[0]!.message).toContain('no choice "maybe" (choices: abstain, no, yes)');
  });

  it('lists agendas the policy leaves undecided', () => {
    expect(undecidedAgendas(policy({ agendas: { maxblocksize: 'yes' } }), AGENDAS)).toEqual(['blake3pow']);
  });
});

describe('policy diff', () => {
  it('finds only what the policy decides and the wallet differs on', () => {
    const c = diffPolicy(policy({ agendas: { maxblocksize: 'yes' }, treasuryKeys: { [KEY]: 'no' }, tspends: { [TSPEND]: 'yes' } }), {
      choices: [{ agendaId: 'maxblocksize', choiceId: 'abstain' }, { agendaId: 'blake3pow', choiceId: 'no' }],
      treasuryKeys: [],
      tspends: [{ hash: TSPEND, policy: 'yes' }],
    });
    expect(c.agendas).toEqual([{ agendaId: 'maxblocksize', choiceId: 'yes', was: 'abstain' }]);
    expect(c.treasuryKeys).toEqual([{ key: KEY, policy: 'no', was: null }]);
    expect(c.tspends).toEqual([]);
  });

  it('treats an unset treasury policy as abstain', () => {
    expect(isEmpty(diffPolicy(policy({ treasuryKeys: { [KEY]: 'abstain' } }), { choices: [], treasuryKeys: [], tspends: [] }))).toBe(true);
  });
});

class MemoryWallet implements PolicyWallet {
  choices = new Map<string, string>([['maxblocksize', 'abstain'], ['blake3pow', 'abstain']]);
  keys = new Map<string, string>();
  tspendMap = new Map<string, string>();
  sets = 0;
  ignoreWrites = false;
  version = 10;
  offered = AGENDAS;
  async agendas() {
    return { version: this.version, agendas: this.offered };
  }
  async voteChoices() {
    return { version: this.version, choices: [...this.choices].map(([agendaId, choiceId]) => ({ agendaId, choiceId })), voteBits: 1 };
  }
  async setVoteChoices(c: { agendaId: string; choiceId: string }[]) {
    this.sets++;
    if (!this.ignoreWrites) for (const x of c) this.choices.set(x.agendaId, x.choiceId);
  }
  async treasuryPolicies() {
    return [...this.keys].map(([key, policy]) => ({ key, policy, ticketHash: null }));
  }
  async setTreasuryPolicy(key: string, p: string) {
    this.keys.set(key, p);
  }
  async tspendPolicies() {
    return [...this.tspendMap].map(([hash, policy]) => ({ hash, policy, ticketHash: null }));
  }
  async setTSpendPolicy(hash: string, p: string) {
    this.tspendMap.set(hash, p);
  }
}

describe('policy reconciler', () => {
  it('applies, reads back, and counts a later change behind its back as drift', async () => {
    const w = new MemoryWallet();
    const r = new PolicyReconciler('main', policy({ agendas: { maxblocksize: 'yes' }, treasuryKeys: { [KEY]: 'no' } }));
    const first = await r.reconcile(w);
    expect(first.drifted).toBe(false);
    expect(first.applied.agendas).toHaveLength(1);
    expect(w.choices.get('maxblocksize')).toBe('yes');
    expect(w.keys.get(KEY)).toBe('no');
    expect(first.undecided).toEqual(['blake3pow']);

    const steady = await r.reconcile(w);
    expect(steady.drifted).toBe(false);
    expect(isEmpty(steady.applied)).toBe(true);

    w.choices.set('maxblocksize', 'no');
    const drift = await r.reconcile(w);
    expect(drift.drifted).toBe(true);
    expect(w.choices.get('maxblocksize')).toBe('yes');
  });

  it('after reset (a reconnect) a difference is an apply, not drift', async () => {
    const w = new MemoryWallet();
    const r = new PolicyReconciler('main', policy({ agendas: { maxblocksize: 'yes' } }));
    await r.reconcile(w);
    w.choices.set('maxblocksize', 'no');
    r.reset();
    expect((await r.reconcile(w)).drifted).toBe(false);
  });

  it('refuses a policy the wallet cannot carry out', async () => {
    const r = new PolicyReconciler('main', policy({ agendas: { nosuch: 'yes' } }));
    await expect(r.reconcile(new MemoryWallet())).rejects.toBeInstanceOf(PolicyMismatchError);
  });

  it('notices when the wallet does not keep what was set', async () => {
    const w = new MemoryWallet();
    w.ignoreWrites = true;
    const r = new PolicyReconciler('main', policy({ agendas: { maxblocksize: 'yes' } }));
    await expect(r.reconcile(w)).rejects.toBeInstanceOf(PolicyNotAppliedError);
  });

  it('a wallet upgraded to a new vote version under a running daemon: the policy is re-applied on the new version, what it no longer offers is reported, not fatal', async () => {
    const w = new MemoryWallet();
    const r = new PolicyReconciler('main', policy({ agendas: { maxblocksize: 'yes', blake3pow: 'no' } }));
    await r.reconcile(w);
    // The new binary: version 11 offers blake3pow and a new agenda, and
    // (choices are stored per version in dcrwallet) none is set yet.
    w.version = 11;
    w.offered = [AGENDAS[1]!, { id: 'newrule', description: '', choices: AGENDAS[0]!.choices }];
    w.choices = new Map([['blake3pow', 'abstain'], ['newrule', 'abstain']]);
    const after = await r.reconcile(w);
    expect(after.previousVersion).toBe(10);
    expect(after.voteVersion).toBe(11);
    expect(after.drifted).toBe(false);
    expect(w.choices.get('blake3pow')).toBe('no');
    expect(after.problems).toEqual([{ key: 'policy.agendas.maxblocksize', message: expect.stringContaining('vote version 11') }]);
    expect(after.undecided).toEqual(['newrule']);
    // Settled on the new version: no longer a version change.
    expect((await r.reconcile(w)).previousVersion).toBeNull();
  });
});
