import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BlockRef } from '../../src/domain.js';
import { buildUnsignedVote } from '../../src/vote/builder.js';
import { projectDeployments, VotePreparation, type PreparationChain, type PreparationWallet } from '../../src/vote/prepared-inputs.js';
import { SUBSIDY_PARAMS, subsidySplitFor, type DeploymentState } from '../../src/vote/subsidy.js';
import { TicketIndex } from '../../src/wallet/ticket-index.js';
import { deploymentsOf, voteFixtures, type VoteFixture as Fixture } from '../support/vote-fixtures.js';

const fixtures = voteFixtures.map((v) => v.fx);

/** A wallet as dcrwallet answers the voting calls (server.go VoteChoices, TSpendPolicies, TreasuryPolicies), with call counts. */
class PolicyWallet implements PreparationWallet {
  voteBits = 1;
  choices = [{ agendaId: 'maxblocksize', choiceId: 'abstain' }];
  tspends: { hash: string; policy: string }[] = [];
  /** Per-ticket settings: choices (and bits), tspend policies, key policies. */
  ticketChoices = new Map<string, { choices: { agendaId: string; choiceId: string }[]; voteBits: number }>();
  ticketTSpends = new Map<string, Map<string, string>>();
  keyPolicyTickets: string[] = [];
  calls: string[] = [];
  async voteChoices(ticket?: string) {
    this.calls.push(ticket ? 'VoteChoices(ticket)' : 'VoteChoices');
    return (ticket && this.ticketChoices.get(ticket)) || { choices: this.choices, voteBits: this.voteBits };
  }
  async tspendPolicies(_hash?: string, ticket?: string) {
    this.calls.push(ticket ? 'TSpendPolicies(ticket)' : 'TSpendPolicies');
    const own = ticket ? this.ticketTSpends.get(ticket) : undefined;
    return this.tspends.map((t) => ({ hash: t.hash, policy: own?.get(t.hash) ?? t.policy }));
  }
  async treasuryPolicies() {
    this.calls.push('TreasuryPolicies');
    return [{ ticketHash: null }, ...this.keyPolicyTickets.map((t) => ({ ticketHash: t }))];
  }
}

class Chain implements PreparationChain {
  height = 100;
  deployments: Record<string, DeploymentState> = {};
  expiries = new Map<string, number>();
  async deploymentsAt() {
    return { height: this.height, deployments: this.deployments };
  }
  async tspendExpiry(hash: string) {
    return this.expiries.get(hash) ?? null;
  }
}

async function settled(p: VotePreparation): Promise<void> {
  await p.refresh();
  for (let i = 0; i < 200 && p.pendingChecks > 0; i++) await new Promise((r) => setTimeout(r, 2));
}

function setup(tickets: { hash: string; hex: string }[], network: 'simnet' | 'mainnet' = 'simnet') {
  const index = new TicketIndex({ network });
  const wallet = new PolicyWallet();
  const chain = new Chain();
  const prep = new VotePreparation({ walletName: 'w', network, index, wallet, chain, logger: pino({ level: 'silent' }) });
  index.fill(
    tickets.map((t) => ({ hash: t.hash, status: 'LIVE' as const, tx: Buffer.from(t.hex, 'hex'), blockHeight: 10 })),
    100,
  );
  return { index, wallet, chain, prep };
}

const fx = fixtures.find((f) => !f.tspend)!;
const at = (height: number): BlockRef => ({ hash: 'ab'.repeat(32), height });

describe('prepared vote inputs', () => {
  it.each(fixtures.map((f) => [f.voteTxid.slice(0, 12), f] as const))('build the same vote the real wallet cast, from memory (%s)', async (_n, f) => {
    const { wallet, chain, prep } = setup([{ hash: f.ticketHash, hex: f.ticketHex }]);
    wallet.voteBits = f.voteBits;
    chain.height = f.votedBlock.height;
    chain.deployments = deploymentsOf(f);
    if (f.tspend && f.tspendPolicy) {
      wallet.tspends = [{ hash: f.tspend.hash, policy: f.tspendPolicy[f.wallet] }];
      chain.expiries.set(f.tspend.hash, f.tspend.expiry);
    }
    await settled(prep);
    const p = prep.forWinner(f.ticketHash, f.votedBlock);
    expect(p).not.toBeNull();
    const vote = buildUnsignedVote({ network: 'simnet', ticket: p!.ticketTx, block: f.votedBlock, voteBits: p!.voteBits, voteVersion: f.voteVersion, subsidySplit: p!.subsidySplit, treasuryVotes: p!.treasuryVotes });
    expect(vote.txid).toBe(f.voteTxid);
  });

  it('nothing is prepared before the first refresh, nor for a ticket the index does not hold', async () => {
    const { prep } = setup([{ hash: fx.ticketHash, hex: fx.ticketHex }]);
    expect(prep.forWinner(fx.ticketHash, at(100))).toBeNull();
    await settled(prep);
    expect(prep.forWinner(fx.ticketHash, at(100))).not.toBeNull();
    expect(prep.forWinner('cd'.repeat(32), at(100))).toBeNull();
  });

  it('each block refreshes them: inputs read at height h serve h and h+1 only', async () => {
    const { chain, prep, wallet } = setup([{ hash: fx.ticketHash, hex: fx.ticketHex }]);
    await settled(prep);
    expect(prep.forWinner(fx.ticketHash, at(101))).not.toBeNull();
    expect(prep.forWinner(fx.ticketHash, at(102))).toBeNull();
    chain.height = 102;
    const before = wallet.calls.length;
    await prep.refresh();
    expect(prep.forWinner(fx.ticketHash, at(102))).not.toBeNull();
    // A refresh reads the wallet-wide settings, never one call per ticket.
    expect(wallet.calls.slice(before).sort()).toEqual(['TSpendPolicies', 'TreasuryPolicies', 'VoteChoices']);
  });

  it('a policy change is picked up by the next refresh', async () => {
    const { prep, wallet } = setup([{ hash: fx.ticketHash, hex: fx.ticketHex }]);
    await settled(prep);
    expect(prep.forWinner(fx.ticketHash, at(100))?.voteBits).toBe(1);
    wallet.voteBits = 5;
    wallet.choices = [{ agendaId: 'maxblocksize', choiceId: 'yes' }];
    await settled(prep);
    expect(prep.forWinner(fx.ticketHash, at(100))?.voteBits).toBe(5);
  });

  it('treasury votes: tspends inside their window with a yes/no policy, the window moving with the height', async () => {
    const { prep, wallet, chain } = setup([{ hash: fx.ticketHash, hex: fx.ticketHex }]);
    // simnet TVI 48 × 3: a tspend expiring at 338 is voted on from 192 to 336.
    wallet.tspends = [
      { hash: '11'.repeat(32), policy: 'yes' },
      { hash: '22'.repeat(32), policy: '' },
    ];
    chain.expiries.set('11'.repeat(32), 338).set('22'.repeat(32), 338);
    chain.height = 191;
    await settled(prep);
    expect(prep.forWinner(fx.ticketHash, at(191))?.treasuryVotes).toEqual([]);
    expect(prep.forWinner(fx.ticketHash, at(192))?.treasuryVotes).toEqual([{ tspend: '11'.repeat(32), vote: 'yes' }]);
  });

  it('a ticket with per-ticket agenda choices, tspend policies or key policies gets no prepared inputs (its vote asks the wallet)', async () => {
    const [a, b, c, d] = [...new Map(fixtures.map((f) => [f.ticketHash, f])).values()] as [Fixture, Fixture, Fixture, Fixture];
    const { prep, wallet, chain } = setup([a, b, c, d].map((f) => ({ hash: f.ticketHash, hex: f.ticketHex })));
    wallet.tspends = [{ hash: '11'.repeat(32), policy: 'yes' }];
    chain.expiries.set('11'.repeat(32), 338);
    wallet.ticketChoices.set(b.ticketHash, { choices: [{ agendaId: 'maxblocksize', choiceId: 'no' }], voteBits: 3 });
    wallet.ticketTSpends.set(c.ticketHash, new Map([['11'.repeat(32), 'no']]));
    wallet.keyPolicyTickets = [d.ticketHash];
    await settled(prep);
    expect(prep.forWinner(a.ticketHash, at(100))).not.toBeNull();
    expect(prep.forWinner(b.ticketHash, at(100))).toBeNull();
    expect(prep.forWinner(c.ticketHash, at(100))).toBeNull();
    expect(prep.forWinner(d.ticketHash, at(100))).toBeNull();
  });

  it('a ticket bought later is checked once for settings of its own, then prepared', async () => {
    const [a, b] = [...new Map(fixtures.map((f) => [f.ticketHash, f])).values()] as [Fixture, Fixture];
    const { prep, wallet, index } = setup([{ hash: a.ticketHash, hex: a.ticketHex }]);
    await settled(prep);
    index.apply({ attached: [], detached: [], unmined: [{ hash: b.ticketHash, tx: Buffer.from(b.ticketHex, 'hex'), type: 'TICKET_PURCHASE' }] });
    await settled(prep);
    expect(prep.forWinner(b.ticketHash, at(100))).not.toBeNull();
    expect(wallet.calls.filter((c) => c === 'VoteChoices(ticket)')).toHaveLength(2);
  });

  it('deployments read one block early give the split in force at the voted height (a lockedin rule turns active)', () => {
    const rcai = SUBSIDY_PARAMS.mainnet.ruleChangeActivationInterval;
    const since = 10 * rcai;
    const read = { changesubsidysplit: { status: 'active', since: 1 }, changesubsidysplitr2: { status: 'lockedin', since } };
    // What dcrd would report at each height: lockedin through since+rcai-1, active from since+rcai.
    const truth = (h: number) => (h >= since + rcai ? { ...read, changesubsidysplitr2: { status: 'active', since: since + rcai } } : read);
    for (const h of [since + rcai - 2, since + rcai - 1, since + rcai, since + rcai + 1]) {
      expect(subsidySplitFor('mainnet', h, projectDeployments('mainnet', truth(h - 1), h))).toBe(subsidySplitFor('mainnet', h, truth(h)));
    }
  });
});
