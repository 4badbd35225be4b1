/**
 * Notifications and the exposure planner on a real simnet:
 * - a vote missed on real nodes (the wallet locked, unlocking off) reaches a
 *   local webhook receiver as one critical event naming the ticket, block and
 *   reason the ledger holds, after the start-up test message;
 * - `dcrvoted plan` reads the same inputs the nodes report: StakeInfo's live
 *   count equals the wallet's live tickets, and the pool size equals dcrd's
 *   own list of live tickets at that block.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { decidedFrom, mineUntil, startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';

const MINUTE = 60_000;
const fx = useSimnet();
let hook: Receiver | null = null;

afterEach(async () => {
  await hook?.close();
  hook = null;
});

interface Body {
  key: string;
  state: string;
  severity: string;
  details: Record<string, unknown>;
}

describe('notifications on a real simnet', () => {
  it('a missed vote reaches the webhook as one critical event with the ledger’s ticket, block and reason', async () => {
    hook = await startReceiver();
    await fx.sim.ours.rpc('walletlock');
    try {
      fx.dut = await startInProcess(writeConfig(fx.sim, { wallet: { unlock: false }, notify: { targets: [{ name: 'hook', url: hook.url }] } }));
      await waitFor('dcrd connected', async () => (await fx.dut!.metric('dcrvoted_dcrd_connected')) === 1, 60_000, 200);
      await waitFor('test message', () => hook!.delivered.length >= 1, 30_000, 100);
      expect((JSON.parse(hook.delivered[0]!.body) as Body).state).toBe('test');
      const from = (await fx.sim.tip()).height + 1;
      const misses = () => decidedFrom(fx.dut!, 'missed', from);
      await mineUntil(fx.sim, () => misses().length > 0, 80);
      const miss = misses()[0]!;
      const key = `vote_missed:${miss.winner.ticket}:${miss.winner.block.hash}`;
      const arrived = () => hook!.delivered.map((r) => JSON.parse(r.body) as Body).filter((b) => b.key === key);
      await waitFor('miss delivered', () => arrived().length > 0, 30_000, 100);
      await fx.dut.daemon.notifications.notifier.idle();
      expect(arrived()).toEqual([
        expect.objectContaining({
          state: 'event',
          severity: 'critical',
          details: expect.objectContaining({ wallet: 'ours', ticket: miss.winner.ticket, height: miss.winner.block.height, block: miss.winner.block.hash, reason: 'wallet_locked' }),
        }),
      ]);
      expect(await fx.dut.metric('dcrvoted_notifications_failed_total', { target: 'hook' })).toBe(0);
    } finally {
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    }
  }, 10 * MINUTE);
});

describe('dcrvoted plan on a real simnet', () => {
  it('reads StakeInfo live and the best header’s pool size as the nodes report them', async () => {
    await fx.sim.waitWalletSynced('ours');
    const config = writeConfig(fx.sim);
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'plan', '--config', config, '--minutes', '5', '--json']);
    const out = JSON.parse(r.stdout) as { ours: number; blocks: number; pool: { size: number; hash: string; height: number }; expectedWins: number; atLeastOne: number };
    const tip = await fx.sim.tip();
    expect(out.pool.hash).toBe(tip.hash);
    // dcrd's own list of live tickets at this block, and the wallet's.
    const live = (await fx.sim.dcrd.rpc('livetickets')) as { tickets: string[] };
    expect(out.pool.size).toBe(live.tickets.length);
    expect(out.ours).toBe((await fx.sim.ourLiveTickets()).length);
    expect(out.blocks).toBe(300);
    expect(out.expectedWins).toBeCloseTo((300 * 5 * out.ours) / out.pool.size, 9);
    console.log(`[e2e] plan: ${out.ours} of ${out.pool.size} live tickets at height ${out.pool.height}; 5 min on simnet: ${out.expectedWins.toFixed(2)} expected wins, P(≥1) ${(out.atLeastOne * 100).toFixed(1)} %`);
  }, 5 * MINUTE);
});
