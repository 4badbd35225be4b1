/**
 * Two dcrd nodes linked over p2p, dcrvoted configured with both
 * (dcrd.additionalNodes), and the link between them cut and restored:
 *
 * - the harness's link: blocks relay over it, not once it is cut;
 * - the fake dcrd answers getpeerinfo and getblockchaininfo like dcrd 2.1.6;
 * - rebroadcast: our vote reaches the first dcrd only, dcrvoted sends it to
 *   the second;
 * - the sync guard: the second dcrd left behind, then a fork (each node
 *   mines its own block at the same height), each making dcrvoted not ready
 *   with the heights and hashes, and ready again once the link is back;
 * - a wallet not voting when its ticket wins, whose vote goes out only after
 *   the next block was found: `wallet_not_voting`, not a lost race;
 * - a `late` miss, the race lost honestly: blocks N and N+1 are found on
 *   the far side (dcrd2, where "other" votes) and dcrvoted hears both from
 *   dcrd2 before our healthy wallet's dcrd has N; our wallet votes at once
 *   when its dcrd gets N, after N+1 had arrived.
 *
 * One simnet for the file; the tests run in order and each leaves the two
 * dcrds linked and agreeing on the tip. The wallets talk to the first dcrd
 * only.
 */
import { describe, expect, it } from 'vitest';
import { parseNodeChainInfo } from '../../src/dcrd/sync-guard.js';
import type { RunningDaemon } from '../support/daemon-under-test.js';
import { DcrdClient } from '../../src/dcrd/ws-client.js';
import { quickClientOptions, startFakeDcrd } from '../support/fake-dcrd.js';
import { startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';
import { ChainObserver, type DcrdNode, type Simnet } from './harness/index.js';
import { startReceiver } from '../support/receiver.js';

/** The guard looks often and forgives little, so the test needs few blocks and little waiting. */
const GUARD = { syncCheckIntervalMs: 250, syncGraceMs: 1_500 };

function shape(obj: Record<string, unknown>, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(obj).sort()) {
    if (skip.includes(k)) continue;
    const v = obj[k];
    out[k] = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  }
  return out;
}

async function tipOf(node: DcrdNode): Promise<{ hash: string; height: number }> {
  return (await node.rpc('getbestblock')) as { hash: string; height: number };
}

async function startDut(sim: Simnet, voting?: { decisionGraceMs: number }, notify?: Record<string, unknown>): Promise<RunningDaemon> {
  const dut = await startInProcess(writeConfig(sim, { dcrd: GUARD, ...(voting ? { voting } : {}), ...(notify ? { notify } : {}) }));
  await waitFor('dcrvoted ready with both dcrd nodes connected', async () => (await dut.get('/readyz')).status === 200, 60_000, 100);
  return dut;
}

async function readyz(dut: RunningDaemon): Promise<{ status: number; reasons: string[] }> {
  const r = await dut.get('/readyz');
  const body = r.body as { reasons?: Record<string, string[]> } | null;
  return { status: r.status, reasons: body?.reasons?.dcrd ?? [] };
}

/**
 * For a finally: the dcrds linked again and on one tip, whatever a failing
 * test left (the link cut, dcrd2 behind, or a fork of equal work that only
 * the next block heals), so that the next test does not fail because of it.
 * Errors are logged, not thrown: they would hide the test's own failure.
 */
async function relink(sim: Simnet, linkCut: boolean): Promise<void> {
  try {
    if (linkCut) await sim.restoreLink();
    await sim.waitDcrdsAgree(10_000).catch(async () => {
      await sim.mine(1);
      await sim.waitDcrdsAgree();
    });
  } catch (err) {
    console.log(`[e2e] could not link the two dcrds again for the next test: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Our votes on `blockHash` in the first dcrd's mempool. */
async function ourVotes(sim: Simnet, blockHash: string, ours: ReadonlySet<string>) {
  return (await sim.mempoolVotes(sim.dcrd, blockHash)).filter((v) => ours.has(v.ticket));
}

describe('two dcrd nodes', () => {
  const fx = useSimnet({ ourWallet: { managed: false }, secondDcrd: true });

  it('relays blocks over the link, not once it is cut, and catches up when it is restored', async () => {
    const sim = fx.sim;
    const dcrd2 = sim.dcrd2!;
    const [linked] = await sim.mine(1);
    await sim.waitFor(async () => (await tipOf(dcrd2)).hash === linked, 15_000, 'dcrd2 to get the block over p2p');

    let linkCut = true;
    try {
      await sim.cutLink();
      const [alone] = await sim.mine(1);
      expect((await tipOf(dcrd2)).hash).toBe(linked);
      await expect(dcrd2.rpc('getblockheader', [alone, true])).rejects.toThrow();

      await sim.restoreLink();
      linkCut = false;
      expect((await sim.waitDcrdsAgree()).hash).toBe(alone);
    } finally {
      await relink(sim, linkCut);
    }
  });

  it('the fake dcrd answers getpeerinfo and getblockchaininfo as dcrd 2.1.6 does with a peer', async () => {
    const sim = fx.sim;
    // dcrd learns dcrd2's height from dcrd2's headers announcement, which can
    // arrive after dcrd2 reports the block as its tip (the test before waited for that).
    const farHeight = (await tipOf(sim.dcrd2!)).height;
    const realPeers = await waitFor('dcrd to list dcrd2 at its tip height', async () => {
      const p = (await sim.dcrd.rpc('getpeerinfo')) as Record<string, unknown>[];
      return p.some((x) => x['currentheight'] === farHeight) ? p : null;
    }, 15_000);
    const realChain = (await sim.dcrd.rpc('getblockchaininfo')) as Record<string, unknown>;
    const fake = await startFakeDcrd({ password: 'fake-pw' });
    const client = new DcrdClient(quickClientOptions(fake, 'fake-pw'));
    try {
      client.start();
      await waitFor('a connection to the fake dcrd', () => client.isConnected, 10_000);
      fake.peers = [{ addr: sim.dcrd2!.p2pAddress!, currentHeight: fake.tip.height }];
      const fakePeers = await client.request<Record<string, unknown>[]>('getpeerinfo', []);
      const fakeChain = await client.request<Record<string, unknown>>('getblockchaininfo', []);
      expect(realPeers).toHaveLength(1);
      // pingwait is there only while a ping is unanswered (omitempty).
      expect(shape(fakePeers[0]!, ['pingwait'])).toEqual(shape(realPeers[0]!, ['pingwait']));
      expect(shape(fakeChain)).toEqual(shape(realChain));
      // What the guard reads from each agrees in kind: a current node, one peer with a height.
      const real = parseNodeChainInfo('real', realChain, realPeers);
      const fromFake = parseNodeChainInfo('fake', fakeChain, fakePeers);
      expect({ current: fromFake.current, peers: fromFake.peers.length, headers: fromFake.headers === fromFake.height }).toEqual({
        current: real.current,
        peers: real.peers.length,
        headers: real.headers === real.height,
      });
      expect(real.peers[0]!.height).toBe((await tipOf(sim.dcrd2!)).height);
    } finally {
      await client.close();
      await fake.dispose();
    }
  });

  it('sends our vote again to the dcrd that lacks it (the link cut, the block relayed by hand)', async () => {
    const sim = fx.sim;
    const dcrd2 = sim.dcrd2!;
    const dut = (fx.dut = await startDut(sim));
    const ours = new Set(await sim.ourLiveTickets());
    let linkCut = true;
    try {
      await sim.cutLink();
      let found: { txid: string; ticket: string; height: number } | null = null;
      // Ours holds ~15% of the tickets: 8 blocks (40 winners) held none of ours in about 1 run of 670; 20 blocks, 1 of 11 million.
      for (let i = 0; i < 20 && !found; i++) {
        const [hash] = await sim.mine(1);
        // dcrd2 gets the block, not the votes on it: it has no p2p link.
        expect(await dcrd2.rpc('submitblock', [await sim.dcrd.rpc('getblock', [hash, false])])).toBeNull();
        const winners = (await sim.winnersOf(hash!)).tickets.filter((t) => ours.has(t));
        if (winners.length === 0) continue;
        const votes = await waitFor('our wallet\'s votes in the first dcrd\'s mempool', async () => {
          const v = await ourVotes(sim, hash!, ours);
          return v.length === winners.length ? v : null;
        }, 15_000);
        found = { txid: votes[0]!.voteTxid, ticket: votes[0]!.ticket, height: (await tipOf(sim.dcrd)).height };
      }
      expect(found, 'one of our tickets won within 20 blocks').not.toBeNull();
      const { txid } = found!;
      // This vote's own rebroadcast: with two of ours winning, the other vote's can come first.
      await waitFor('dcrvoted to rebroadcast this vote to dcrd2', () => dut.logs.events('vote_rebroadcast').some((l) => l.txid === txid && l.node === 'dcrd2'), 15_000);
      expect(await dut.metric('dcrvoted_votes_rebroadcast_total', { wallet: 'ours', node: 'dcrd2' })).toBeGreaterThan(0);
      expect(await dcrd2.rpc('existsmempooltxs', [[txid]])).toBe('01');
      expect(await dut.metric('dcrvoted_votes_rebroadcast_total', { wallet: 'ours', node: 'dcrd' })).toBe(0);

      await sim.restoreLink();
      linkCut = false;
      await sim.waitDcrdsAgree();
      // The vote's timeline names each node: seen in the first dcrd's mempool, sent again to dcrd2, and the block that decided it.
      const [next] = await sim.mine(1);
      await sim.waitDcrdsAgree();
      const entry = await waitFor('the outcome', () => dut.daemon.ledger?.recent(50).find((e) => e.winner.ticket === found!.ticket && e.outcome), 15_000);
      const tl = await waitFor('its timeline', () => dut.daemon.ledger?.timeline(entry.winner.ticket, entry.winner.block.hash), 10_000);
      console.log(`[e2e] two dcrd nodes, timeline of ticket ${entry.winner.ticket.slice(0, 12)}: ${JSON.stringify(tl)}`);
      expect(tl).toMatchObject({ caster: 'wallet', firstNode: 'dcrd', accepted: [], nextBlock: { hash: next } });
      expect(tl).not.toHaveProperty('builtMs');
      // dcrd2 got the block by hand, after the first: its winningtickets came later, and the pool's dropped copy still counts.
      expect(tl.otherNodes.map((o) => o.node)).toEqual(['dcrd2']);
      expect(tl.rebroadcast.map((r) => r.node)).toContain('dcrd2');
      expect(tl.mempool.map((m) => m.node)).toContain('dcrd');
    } finally {
      await relink(sim, linkCut);
    }
  });

  it('a dcrd left behind makes dcrvoted not ready, naming both heights; the restored link makes it ready again', async () => {
    const sim = fx.sim;
    const hook = await startReceiver();
    const dut = (fx.dut = await startDut(sim, undefined, { targets: [{ name: 'hook', url: hook.url }], startupMessage: false }));
    const paged = () => hook.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; details: Record<string, unknown> }).filter((b) => b.key === 'dcrd_sync:dcrd2:lagging');
    let linkCut = true;
    try {
      await sim.cutLink();
      const behind = await tipOf(sim.dcrd2!);
      await sim.mine(2);
      const ahead = await tipOf(sim.dcrd);

      const r = await waitFor('dcrvoted not ready because dcrd2 lags', async () => {
        const x = await readyz(dut);
        return x.status === 503 && x.reasons.some((m) => m.includes('dcrd2 is 2 blocks behind')) ? x : null;
      }, 20_000, 100);
      expect(r.reasons).toContainEqual(expect.stringContaining(`dcrd dcrd2 is 2 blocks behind: its tip is height ${behind.height} (${behind.hash}) while dcrd dcrd is at height ${ahead.height}`));
      expect(await dut.metric('dcrvoted_dcrd_sync_problem', { node: 'dcrd2', kind: 'lagging' })).toBe(1);
      expect(await dut.metric('dcrvoted_dcrd_blocks_behind', { node: 'dcrd2' })).toBe(2);
      expect(await dut.metric('dcrvoted_dcrd_sync_problem', { node: 'dcrd', kind: 'lagging' })).toBe(0);
      expect(dut.logs.events('dcrd_sync_problem').some((l) => l.node === 'dcrd2' && l.kind === 'lagging')).toBe(true);

      await sim.restoreLink();
      linkCut = false;
      await sim.waitDcrdsAgree();
      await waitFor('dcrvoted ready again', async () => (await readyz(dut)).status === 200, 20_000, 100);
      expect(await dut.metric('dcrvoted_dcrd_sync_problem', { node: 'dcrd2', kind: 'lagging' })).toBe(0);
      expect(dut.logs.events('dcrd_sync_recovered').some((l) => l.node === 'dcrd2' && l.kind === 'lagging')).toBe(true);
      // The same story reached the staker's webhook: paged with the heights, then resolved.
      await waitFor('lag paged and resolved', () => paged().length >= 2, 30_000, 100);
      expect(paged().map((b) => b.state)).toEqual(['firing', 'resolved']);
      expect(String(paged()[0]!.details['message'])).toContain(`dcrd dcrd2 is 2 blocks behind: its tip is height ${behind.height}`);
    } finally {
      await hook.close();
      await relink(sim, linkCut);
    }
  });

  it('a fork (each dcrd mines its own block at the same height) is reported with both hashes, and heals', async () => {
    const sim = fx.sim;
    const dcrd2 = sim.dcrd2!;
    const dut = (fx.dut = await startDut(sim));
    const tip = await sim.waitDcrdsAgree();
    // dcrd2 needs votes on the tip to mine on it: they come over the link.
    await waitFor('3 votes on the tip in dcrd2\'s mempool', async () => (await sim.mempoolVotes(dcrd2, tip.hash)).length >= 3, 15_000);
    let linkCut = true;
    try {
      await sim.cutLink();
      const [mine1] = await sim.mine(1);
      const [mine2] = (await dcrd2.rpc('generate', [1], 45_000)) as string[];
      expect(mine2).not.toBe(mine1);
      const height = tip.height + 1;

      const r = await waitFor('dcrvoted not ready because of the fork', async () => {
        const x = await readyz(dut);
        return x.status === 503 && x.reasons.some((m) => m.includes('disagree')) ? x : null;
      }, 20_000, 100);
      expect(r.reasons).toContainEqual(expect.stringContaining(`dcrd dcrd and dcrd dcrd2 disagree at height ${height}: dcrd has ${mine1}, dcrd2 has ${mine2}`));
      expect(r.reasons).toContainEqual(expect.stringContaining(`dcrd dcrd2 and dcrd dcrd disagree at height ${height}: dcrd2 has ${mine2}, dcrd has ${mine1}`));
      expect(await dut.metric('dcrvoted_dcrd_fork_info', { node: 'dcrd', height: String(height), hash: mine1!, other_node: 'dcrd2', other_hash: mine2! })).toBe(1);

      // Equal work: neither node gives up its block until the next one is mined.
      await sim.restoreLink();
      linkCut = false;
      await sim.mine(1);
      const healed = await sim.waitDcrdsAgree();
      expect(await dcrd2.rpc('getblockhash', [height])).toBe(mine1);
      expect(healed.height).toBe(height + 1);
      await waitFor('dcrvoted ready again', async () => (await readyz(dut)).status === 200, 20_000, 100);
      expect(await dut.metric('dcrvoted_dcrd_sync_problem', { node: 'dcrd2', kind: 'forked' })).toBe(0);
    } finally {
      await relink(sim, linkCut);
    }
  });

  it('a wallet not voting when its ticket won, whose vote goes out after the next block, is `wallet_not_voting`, not a lost race', async () => {
    // Our wallet is not voting when its ticket wins; the second dcrd, cut
    // off, mines the next block with the other wallet's votes; only then
    // does our wallet vote, on the first dcrd, which has not seen that block
    // yet. The vote reached dcrd late, but because of the wallet.
    const sim = fx.sim;
    const dcrd2 = sim.dcrd2!;
    const dut = (fx.dut = await startDut(sim));
    let linkCut = false;
    let ourWalletVoting = true;
    try {
      const ours = new Set(await sim.ourLiveTickets());
      await sim.ours.stop();
      ourWalletVoting = false;
      await sim.ours.start({ enableVoting: false });
      // voting_enabled is 0 for a wallet that does not answer too (just restarted): it must answer and say it is not voting.
      await waitFor('dcrvoted to see our wallet up and not voting', async () => (await dut.metric('dcrvoted_wallet_up', { wallet: 'ours' })) === 1 && (await dut.metric('dcrvoted_wallet_voting_enabled', { wallet: 'ours' })) === 0, 15_000, 100);

      let won: { hash: string; height: number; tickets: string[] } | null = null;
      const oursPerBlock: number[] = [];
      for (let i = 0; i < 20 && !won; i++) {
        const [hash] = await sim.mine(1);
        const tickets = (await sim.winnersOf(hash!)).tickets.filter((t) => ours.has(t));
        oursPerBlock.push(tickets.length);
        // 1 or 2 of ours: the other 3+ winners let a block be mined without us.
        if (tickets.length >= 1 && tickets.length <= 2) won = { hash: hash!, height: (await tipOf(sim.dcrd)).height, tickets };
      }
      expect(won, `one or two of our ${ours.size} tickets won within 20 blocks (ours per block: ${oursPerBlock.join(' ')})`).not.toBeNull();
      const { hash, height, tickets } = won!;
      await sim.waitDcrdsAgree();
      await waitFor('the other wallet\'s votes in dcrd2\'s mempool', async () => (await sim.mempoolVotes(dcrd2, hash)).length >= 5 - tickets.length, 15_000);
      await waitFor('dcrvoted to record our winners', () => tickets.every((t) => dut.daemon.ledger?.get(t, hash)), 15_000);

      await sim.cutLink();
      linkCut = true;
      const [next] = (await dcrd2.rpc('generate', [1], 45_000)) as string[];
      await waitFor('dcrvoted to see the next block (from dcrd2)', () => dut.daemon.status().dcrd.bestBlock?.hash === next, 15_000);
      // dcrd2 announced the next block and has it, while our wallet's dcrd does
      // not: dcrvoted decides from dcrd2 at once. Our wallet was not voting
      // when its tickets won, so that is the reason, with no wait for a vote.
      const decided = await waitFor('the ledger to decide our winners on the block only dcrd2 has', () => {
        const entries = tickets.map((t) => dut.daemon.ledger?.get(t, hash));
        return entries.every((e) => e?.outcome) ? entries : null;
      }, 15_000);
      for (const e of decided) expect(e?.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_not_voting', decidedBy: { hash: next, height: height + 1 } });

      // Now our wallet votes, on the first dcrd, whose tip is still `hash`.
      // Unlocked from the moment it opens: dcrwallet votes at startup for the
      // tip's winners it owns, and a wallet unlocked only afterwards misses that.
      await sim.ours.stop();
      await sim.ours.start({ enableVoting: true, unlockedAtStart: true });
      ourWalletVoting = true;
      await waitFor('our votes in the first dcrd\'s mempool', async () => (await ourVotes(sim, hash, ours)).length === tickets.length, 30_000);

      // The vote that went out after the next block changes nothing: the
      // decision stands once the first dcrd has that block too.
      await sim.restoreLink();
      linkCut = false;
      await sim.waitDcrdsAgree();
      expect(await sim.dcrd.rpc('getblockhash', [height + 1])).toBe(next);
      await sim.mine(1);
      for (const t of tickets) expect(dut.daemon.ledger?.get(t, hash)?.outcome).toMatchObject({ outcome: 'missed', reason: 'wallet_not_voting', decidedBy: { hash: next, height: height + 1 } });
    } finally {
      // The next test needs our wallet voting and the dcrds linked, whatever happened here.
      if (!ourWalletVoting || !sim.ours.isRunning()) {
        await sim.ours.stop();
        await sim.ours.start({ enableVoting: true, unlockedAtStart: true });
      }
      await relink(sim, linkCut);
    }
  });

  it('a healthy wallet whose dcrd gets the block only after the next one was found elsewhere loses the race: `late`', async () => {
    // With the link cut and "other" voting through dcrd2, dcrd2 mines block
    // after block; our wallet's dcrd gets each one by hand right away, except
    // for a block N that 1 or 2 of our tickets win: dcrd2 mines N+1 on it at
    // once with other's votes. dcrvoted, configured with both dcrds, hears N's
    // winners and N+1 from dcrd2. Only then does the first dcrd get N; our
    // wallet, unlocked and voting, votes at once, and its vote reaches dcrd
    // after N+1 arrived. dcrvoted has N+1 from dcrd2 at once, so it holds
    // the decision for our ready wallet's unseen vote (voting.decisionGraceMs,
    // long here: handing N over and the wallet's vote take a while on a
    // loaded machine) and calls it `late` when the vote turns up.
    const sim = fx.sim;
    const dcrd2 = sim.dcrd2!;
    const dut = (fx.dut = await startDut(sim, { decisionGraceMs: 20_000 }));
    const ours = new Set(await sim.ourLiveTickets());
    const far = new ChainObserver({ wsUrl: dcrd2.wsUrl, caCertPath: dcrd2.caCertPath, user: dcrd2.user, password: dcrd2.password });
    await far.start();
    const handOver = async (hash: string) => {
      expect(await sim.dcrd.rpc('submitblock', [await dcrd2.rpc('getblock', [hash, false])])).toBeNull();
    };
    let race: { hash: string; height: number; tickets: string[]; next: string } | null = null;
    try {
      const tip = await sim.waitDcrdsAgree();
      await waitFor('3 votes on the tip in dcrd2\'s mempool', async () => (await sim.mempoolVotes(dcrd2, tip.hash)).length >= 3, 15_000);
      await sim.cutLink();
      await sim.other.stop();
      await sim.other.start({ dcrd: 'dcrd2' });

      let won: { hash: string; height: number; tickets: string[] } | null = null;
      for (let i = 0; i < 20 && !won; i++) {
        const [hash] = (await dcrd2.rpc('generate', [1], 45_000)) as string[];
        const winners = await waitFor('dcrd2\'s winning tickets', () => far.winnersAt(hash!), 15_000);
        const tickets = winners.tickets.filter((t) => ours.has(t));
        // 1 or 2 of ours: other's 3+ votes let dcrd2 mine the next block without us.
        if (tickets.length >= 1 && tickets.length <= 2) {
          won = { hash: hash!, height: winners.blockHeight, tickets };
          break;
        }
        await handOver(hash!);
        if (tickets.length >= 3) {
          // Too many of ours for dcrd2 to go on without them: hand our votes over too.
          const votes = await waitFor('our votes in the first dcrd\'s mempool', async () => {
            const v = await ourVotes(sim, hash!, ours);
            return v.length === tickets.length ? v : null;
          }, 15_000);
          for (const v of votes) await dcrd2.rpc('sendrawtransaction', [await sim.dcrd.rpc('getrawtransaction', [v.voteTxid])]);
        }
        await waitFor('3 votes on dcrd2\'s tip', async () => (await sim.mempoolVotes(dcrd2, hash!)).length >= 3, 15_000);
      }
      expect(won, 'one or two of our tickets won within 20 blocks').not.toBeNull();
      const { hash, tickets } = won!;
      await waitFor('other\'s votes on N in dcrd2\'s mempool', async () => (await sim.mempoolVotes(dcrd2, hash)).length >= 5 - tickets.length, 15_000);
      await waitFor('dcrvoted to record our winners (heard from dcrd2)', () => tickets.every((t) => dut.daemon.ledger?.get(t, hash)), 15_000);
      const [next] = (await dcrd2.rpc('generate', [1], 45_000)) as string[];
      await waitFor('dcrvoted to see N+1 (from dcrd2)', () => dut.daemon.status().dcrd.bestBlock?.hash === next, 15_000);
      expect(await ourVotes(sim, hash, ours)).toEqual([]);

      // Our wallet's dcrd gets N now; the wallet votes as soon as dcrd tells it.
      await handOver(hash);
      await waitFor('our votes in the first dcrd\'s mempool', async () => (await ourVotes(sim, hash, ours)).length === tickets.length, 15_000);
      // Decided as soon as dcrvoted sees the votes, on N+1 from dcrd2, before our dcrd has it.
      await waitFor('the ledger to decide our winners once their votes are seen', () => tickets.every((t) => dut.daemon.ledger?.get(t, hash)?.outcome), 15_000);
      await handOver(next!);
      race = { ...won!, next: next! };
    } finally {
      await far.close();
      await sim.other.stop();
      await sim.other.start();
    }
    const { hash, height, tickets, next } = race!;
    await sim.restoreLink();
    await sim.waitDcrdsAgree();
    await sim.mine(1);
    const decided = await waitFor('the ledger to decide our winners', () => {
      const entries = tickets.map((t) => dut.daemon.ledger?.get(t, hash));
      return entries.every((e) => e?.outcome) ? entries : null;
    }, 20_000);
    for (const e of decided) expect(e?.outcome).toMatchObject({ outcome: 'missed', reason: 'late', decidedBy: { hash: next, height: height + 1 } });
    // dcrvoted saw the wallet ready throughout: the miss is nobody's fault but the race's.
    for (const e of decided) expect(e?.winner.readiness).toMatchObject({ reachable: true, unlocked: true, voting: true });
  });
});
