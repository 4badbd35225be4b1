// WalletState alone: what a wallet's observations mean for whether it could vote.
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { WalletPassphrase } from '../../src/wallet/passphrase.js';
import { WalletState, type WalletIdentity } from '../../src/wallet/wallet-state.js';

const best = { hash: 'ab'.repeat(32), height: 100 };
const healthy = { unlocked: true, voting: true, daemonConnected: true, voteVersion: 10 };

function state(votingMode: WalletIdentity['votingMode'], passphrase = new WalletPassphrase(new Secret(Buffer.from('pw')), null)): WalletState {
  return new WalletState({ name: 'w', mode: 'attached', votingMode, address: '127.0.0.1:19111', unlockEnabled: true }, passphrase);
}

describe('wallet state', () => {
  it('says why a wallet that was never reached cannot vote, then what the last error was', () => {
    const s = state('wallet');
    expect(s.reasons()).toEqual(['connecting (not checked yet)']);
    s.unreachable('connection refused', 1);
    expect(s.reasons()).toEqual(['unreachable: connection refused']);
    expect(s.status()).toMatchObject({ ready: false, lastError: { message: 'connection refused' } });
  });

  it('wallet mode needs unlocked, voting, RPC sync and closeness to dcrd; daemon mode only the sync', () => {
    for (const mode of ['wallet', 'daemon'] as const) {
      const s = state(mode);
      s.observed(best, { ...healthy, unlocked: false, voting: false }, false, 1);
      expect(s.reasons()).toEqual(mode === 'wallet' ? ['locked', 'voting disabled (start dcrwallet with --enablevoting)', 'not synced to dcrd'] : ['not synced to dcrd']);
      s.observed(best, healthy, true, 2);
      expect(s.isReady()).toBe(true);
    }
    const spv = state('wallet');
    spv.observed(best, { ...healthy, spv: true }, true, 1);
    expect(spv.reasons()).toEqual(['the wallet syncs over SPV and never hears of winning tickets (run it with an RPC connection to dcrd)']);
  });

  it('a failed walletinfo leaves the facts unknown, never assumed', () => {
    const s = state('wallet');
    s.observed(best, new Error('HTTP 401'), true, 1);
    expect(s.reasons()).toEqual(['lock state unknown (walletinfo failed)', 'voting state unknown', 'not synced to dcrd']);
    expect(s.readiness).toEqual({ reachable: true, unlocked: null, voting: null, daemonConnected: null, synced: null });
  });

  it('a locked wallet in daemon mode is ready while its passphrase may sign, not once the wallet rejected it', () => {
    const p = new WalletPassphrase(new Secret(Buffer.from('wrong')), null);
    const s = state('daemon', p);
    s.observed(best, { ...healthy, unlocked: false }, true, 1);
    expect(s.isReady()).toBe(true);
    p.markRejected(Buffer.from('wrong'));
    expect(s.reasons()).toEqual(['locked, and the wallet rejected the passphrase in wallets[].passphraseFile: fix the file (dcrvoted will not send it again until it changes)']);
    expect(s.status().unlock.passphrase).toBe('rejected');
  });
});
