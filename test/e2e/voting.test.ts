/**
 * dcrvoted against real dcrd 2.1.6 and dcrwallet 2.1.5 on a throwaway
 * simnet, "ours" attached (it syncs itself). Every assertion about votes is
 * checked on the chain itself, not only on dcrvoted's word.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningDaemon as DaemonUnderTest } from '../support/daemon-under-test.js';
import { chainOf, decidedFrom, mineUntil, startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';

const MINUTE = 60_000;

const fx = useSimnet();
let agenda: string;

beforeAll(async () => {
  const { agendas } = await fx.wallet.agendas();
  expect(agendas.length).toBeGreaterThan(0);
  agenda = agendas[0]!.id;
});

const ready = async (d: DaemonUnderTest) => (await d.get('/readyz')).status === 200;
const decided = (d: DaemonUnderTest, outcome: string) => decidedFrom(d, outcome);

async function expectedVoteBits(): Promise<number> {
  return (await fx.wallet.voteChoices()).voteBits;
}

/**
 * Every voted entry won at `since` or later: the next block really holds that
 * ticket's vote for that block, with these bits. (Winners of the tip at the
 * time the policy changed voted before it changed: they are left out.)
 */
async function checkVotedOnChain(d: DaemonUnderTest, bits: number, since: number): Promise<number> {
  const chain = chainOf(fx.sim);
  let n = 0;
  for (const e of decided(d, 'voted')) {
    if (e.winner.block.height < since) continue;
    const bv = await chain.getBlockVotes(e.outcome!.includedIn!.hash);
    expect(bv.block.previousHash).toBe(e.winner.block.hash);
    const vote = bv.votes.find((v) => v.ticketHash === e.winner.ticket);
    expect(vote, `ticket ${e.winner.ticket} voted in ${bv.block.height}`).toBeDefined();
    expect(vote!.votedBlock).toEqual(e.winner.block);
    expect(vote!.voteBits).toBe(bits);
    n++;
  }
  return n;
}

describe('attached wallet on a real simnet', () => {
  it('`dcrvoted agendas` lists the real wallet\'s agendas, choices and what the policy says', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const config = writeConfig(fx.sim, { agendas: { [agenda]: 'yes' } });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agendas', '--config', config]);
    const { agendas } = await fx.wallet.agendas();
    expect(stdout).toMatch(/^wallet ours — vote version \d+, vote bits \d+/);
    expect(stdout).toMatch(new RegExp(`${agenda}\\s+abstain/no/yes\\s+\\S+\\s+yes`));
    for (const a of agendas.slice(1)) expect(stdout).toMatch(new RegExp(`${a.id}\\s+\\S+\\s+\\S+\\s+UNDECIDED`));
  }, MINUTE);

  it('votes every winning ticket of ours with the configured choices; ledger, metrics and /status agree with the chain', async () => {
    fx.dut = await startInProcess(writeConfig(fx.sim, { agendas: { [agenda]: 'yes' } }));
    await waitFor('ready', () => ready(fx.dut!), 30_000);
    await waitFor('policy applied', async () => (await fx.dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
    const bits = await expectedVoteBits();
    const start = await fx.sim.tip();
    const votedSince = () => decided(fx.dut!, 'voted').filter((e) => e.winner.block.height > start.height).length;
    await mineUntil(fx.sim, async () => votedSince() >= 2, 40);
    const voted = await checkVotedOnChain(fx.dut, bits, start.height + 1);
    expect(voted).toBeGreaterThanOrEqual(2);
    // Every winner of ours the chain announced since we started is in the ledger.
    const end = await fx.sim.tip();
    const chain = chainOf(fx.sim);
    for (let h = start.height; h < end.height; h++) {
      const hash = await chain.getBlockHash(h);
      for (const t of fx.sim.winnersAt(hash)?.tickets ?? []) {
        if ((await fx.wallet.getTicket(t)) !== null) {
          const e = await waitFor(`ledger has ${t} at ${h}`, () => fx.dut!.daemon.ledger?.get(t, hash), 10_000);
          if (e.outcome) expect(e.outcome.outcome).toBe('voted');
        }
      }
    }
    expect(decided(fx.dut, 'missed')).toEqual([]);
    expect(await fx.dut.metric('dcrvoted_votes_total', { wallet: 'ours', outcome: 'voted' })).toBe(decided(fx.dut, 'voted').length);
    const status = (await fx.dut.get('/status')).body as { votes: { voted: number; missed: number }; wallets: { policy: { voteBits: number } }[] };
    expect(status.votes.voted).toBe(decided(fx.dut, 'voted').length);
    expect(status.votes.missed).toBe(0);
    expect(status.wallets[0]!.policy.voteBits).toBe(bits);
    expect(await fx.dut.metric('dcrvoted_vote_seen_seconds_count', { wallet: 'ours' })).toBeGreaterThanOrEqual(2);
  }, 6 * MINUTE);

  it('a changed agenda choice in the config, after a restart, changes the bits of later votes; drift behind its back is re-applied and counted', async () => {
    fx.dut = await startInProcess(writeConfig(fx.sim, { agendas: { [agenda]: 'no' } }));
    await waitFor('policy applied', async () => (await fx.dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
    expect((await fx.wallet.voteChoices()).choices.find((c) => c.agendaId === agenda)?.choiceId).toBe('no');
    const bits = await expectedVoteBits();
    const from = (await fx.sim.tip()).height + 1;
    await mineUntil(fx.sim, async () => decided(fx.dut!, 'voted').filter((e) => e.winner.block.height >= from).length >= 1, 40);
    expect(await checkVotedOnChain(fx.dut, bits, from)).toBeGreaterThanOrEqual(1);

    await fx.wallet.setVoteChoices([{ agendaId: agenda, choiceId: 'abstain' }]);
    await waitFor('drift re-applied', async () => (await fx.dut!.metric('dcrvoted_policy_reapplied_total', { wallet: 'ours' })) >= 1, 30_000);
    expect((await fx.wallet.voteChoices()).choices.find((c) => c.agendaId === agenda)?.choiceId).toBe('no');
  }, 6 * MINUTE);

  it('a wallet locked through its API is unlocked again within seconds, and no vote is missed', async () => {
    fx.dut = await startInProcess(writeConfig(fx.sim, { agendas: { [agenda]: 'yes' } }));
    await waitFor('ready', () => ready(fx.dut!), 30_000);
    const unlocksBefore = await fx.dut.metric('dcrvoted_unlock_attempts_total', { wallet: 'ours', result: 'ok' });
    await fx.wallet.lockWallet();
    const t0 = Date.now();
    await waitFor('unlock by dcrvoted', async () => (await fx.dut!.metric('dcrvoted_unlock_attempts_total', { wallet: 'ours', result: 'ok' })) > unlocksBefore, 15_000);
    await waitFor('unlocked again', async () => (await fx.sim.ours.rpc('walletinfo')).unlocked === true, 15_000);
    const took = Date.now() - t0;
    console.log(`[e2e] wallet unlocked again ${took} ms after LockWallet`);
    await mineUntil(fx.sim, async () => decided(fx.dut!, 'voted').length >= 1, 40);
    expect(decided(fx.dut, 'missed')).toEqual([]);
  }, 6 * MINUTE);

  it('a winning ticket of a locked wallet (unlocking disabled) is recorded as missed: wallet_locked, and the chain agrees', async () => {
    fx.dut = await startInProcess(writeConfig(fx.sim, { wallet: { unlock: false } }));
    await fx.wallet.lockWallet();
    await waitFor('locked noticed', async () => ((await fx.dut!.get('/readyz')).body as { reasons: Record<string, string[]> }).reasons.ours?.includes('locked'), 15_000);
    try {
      await mineUntil(fx.sim, async () => decided(fx.dut!, 'missed').length >= 1, 60);
      const miss = decided(fx.dut, 'missed')[0]!;
      expect(miss.outcome!.reason).toBe('wallet_locked');
      expect(await fx.dut.metric('dcrvoted_missed_votes_total', { wallet: 'ours', reason: 'wallet_locked' })).toBeGreaterThanOrEqual(1);
      // The chain: the next block holds no vote by that ticket for that block.
      const chain = chainOf(fx.sim);
      const next = await chain.getBlockVotes(await chain.getBlockHash(miss.winner.block.height + 1));
      expect(next.block.previousHash).toBe(miss.winner.block.hash);
      expect(next.votes.map((v) => v.ticketHash)).not.toContain(miss.winner.ticket);
      expect(next.revocations.map((r) => r.ticketHash)).toContain(miss.winner.ticket);
      const ticket = await fx.wallet.getTicket(miss.winner.ticket);
      expect(['MISSED', 'REVOKED']).toContain(ticket?.status);
    } finally {
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    }
  }, 8 * MINUTE);
});
