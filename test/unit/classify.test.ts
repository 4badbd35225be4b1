import { describe, expect, it } from 'vitest';
import { classify } from '../../src/voting/classify.js';
import type { WalletReadiness } from '../../src/domain.js';

const ok: WalletReadiness = { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true };

describe('outcome classification', () => {
  it('a vote in the next block is voted, whatever the wallet looked like', () => {
    expect(classify({ includedInNextBlock: true, seenInMempool: false, atNotification: { ...ok, unlocked: false }, atDeadline: null })).toEqual({ outcome: 'voted' });
  });
  it('a vote seen in the mempool but left out is not_included', () => {
    expect(classify({ includedInNextBlock: false, seenInMempool: true, atNotification: ok, atDeadline: null })).toEqual({ outcome: 'missed', reason: 'not_included' });
  });
  it.each([
    [{ ...ok, reachable: false, unlocked: null }, 'wallet_unreachable'],
    [{ ...ok, unlocked: false }, 'wallet_locked'],
    [{ ...ok, voting: false }, 'wallet_not_voting'],
    [ok, 'vote_not_broadcast'],
  ] as const)('wallet state %j → %s', (state, reason) => {
    expect(classify({ includedInNextBlock: false, seenInMempool: false, atNotification: state, atDeadline: null })).toEqual({ outcome: 'missed', reason });
  });
  it('a fault found by the probe at the deadline counts too', () => {
    expect(classify({ includedInNextBlock: false, seenInMempool: false, atNotification: ok, atDeadline: { ...ok, unlocked: false } })).toEqual({ outcome: 'missed', reason: 'wallet_locked' });
  });
  it('the state when the ticket won names the fault before what the deadline probe saw (a wallet restarted to fix it is not why it missed)', () => {
    const restarting = { ...ok, reachable: false, unlocked: null, voting: null };
    expect(classify({ includedInNextBlock: false, seenInMempool: false, atNotification: { ...ok, voting: false }, atDeadline: restarting })).toEqual({ outcome: 'missed', reason: 'wallet_not_voting' });
    expect(classify({ includedInNextBlock: false, seenInMempool: true, voteReachedDcrdAt: 1_050, nextBlockAt: 1_000, atNotification: { ...ok, unlocked: false }, atDeadline: restarting })).toEqual({ outcome: 'missed', reason: 'wallet_locked' });
  });
  it('locked takes precedence over voting disabled (the more basic fault)', () => {
    expect(classify({ includedInNextBlock: false, seenInMempool: null, atNotification: { ...ok, unlocked: false, voting: false }, atDeadline: null })).toEqual({ outcome: 'missed', reason: 'wallet_locked' });
  });
  it('a vote that reached dcrd after the next block had arrived lost the race: late', () => {
    const e = { includedInNextBlock: false, seenInMempool: true, atNotification: ok, atDeadline: null };
    expect(classify({ ...e, voteReachedDcrdAt: 1_050, nextBlockAt: 1_000 })).toEqual({ outcome: 'missed', reason: 'late' });
    expect(classify({ ...e, voteReachedDcrdAt: 950, nextBlockAt: 1_000 })).toEqual({ outcome: 'missed', reason: 'not_included' });
    // A cast accepted by dcrd in time counts as in the mempool even if the poll never saw it.
    expect(classify({ ...e, seenInMempool: false, voteReachedDcrdAt: 950, nextBlockAt: 1_000 })).toEqual({ outcome: 'missed', reason: 'not_included' });
    // Without the block's arrival (found after the fact) there is no race to judge.
    expect(classify({ ...e, voteReachedDcrdAt: 1_050, nextBlockAt: null })).toEqual({ outcome: 'missed', reason: 'not_included' });
  });
  describe('a late vote from a wallet that could not vote when its ticket won is the wallet\'s fault, not a lost race', () => {
    const late = { includedInNextBlock: false, seenInMempool: true, voteReachedDcrdAt: 1_050, nextBlockAt: 1_000 };
    it.each([
      [{ ...ok, reachable: false, unlocked: null, voting: null }, 'wallet_unreachable'],
      [{ ...ok, unlocked: false }, 'wallet_locked'],
      [{ ...ok, voting: false }, 'wallet_not_voting'],
    ] as const)('state at notification %j → %s', (state, reason) => {
      expect(classify({ ...late, atNotification: state, atDeadline: null })).toEqual({ outcome: 'missed', reason });
    });
    it('a fault found by the probe at the deadline names the miss too', () => {
      expect(classify({ ...late, atNotification: ok, atDeadline: { ...ok, unlocked: false } })).toEqual({ outcome: 'missed', reason: 'wallet_locked' });
    });
    it('a healthy wallet whose vote still arrived after the next block lost the race', () => {
      expect(classify({ ...late, atNotification: ok, atDeadline: ok })).toEqual({ outcome: 'missed', reason: 'late' });
    });
    it('votingMode daemon: the wallet\'s lock and voting state are not known (dcrvoted votes), so a late vote is late', () => {
      const daemonView: WalletReadiness = { ...ok, unlocked: null, voting: null };
      expect(classify({ ...late, atNotification: daemonView, atDeadline: daemonView })).toEqual({ outcome: 'missed', reason: 'late' });
    });
  });
  it('a vote at dcrd before the next block arrived was left out by the miner, whatever the wallet looked like (e.g. dcrvoted cast it for a locked wallet)', () => {
    expect(classify({ includedInNextBlock: false, seenInMempool: true, voteReachedDcrdAt: 950, nextBlockAt: 1_000, atNotification: { ...ok, unlocked: false }, atDeadline: null })).toEqual({ outcome: 'missed', reason: 'not_included' });
  });
});
