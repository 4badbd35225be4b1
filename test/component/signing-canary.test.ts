// The signing canary and the voting-account locks, against the fake wallet
// (SignTransaction, GetTickets, AccountUnlocked, UnlockAccount modelled on
// dcrwallet's internal/rpc/rpcserver/server.go) and the fake dcrd.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispose, launch, startDaemonUnderTest, startFakePeers, waitFor, WALLET_PASSPHRASE, type DaemonUnderTest, type DaemonUnderTestOptions } from '../support/daemon-under-test.js';
import { makeTicket, newVotingKey } from '../support/fake-tickets.js';
import { startReceiver } from '../support/receiver.js';
import type { FakeWalletState } from '../support/fake-wallet.js';

let dut: DaemonUnderTest | null = null;

afterEach(async () => {
  await dispose(dut);
  dut = null;
});

const ACCOUNT_PASSPHRASE = 'voting-account-passphrase-s3cret';

interface CanaryView {
  status: string;
  cause: string | null;
  message: string;
  ticket: string | null;
  accountsSigned: number[];
  lockedAccounts: { account: number; why: string }[];
}
interface WalletView {
  ready: boolean;
  reasons: string[];
  canary: CanaryView | null;
}

async function walletView(d: DaemonUnderTest): Promise<WalletView> {
  return ((await d.get('/status')).body as { wallets: WalletView[] }).wallets[0]!;
}

function liveTicket(state: Partial<FakeWalletState>, account: number | undefined, withKey = true): string {
  const key = newVotingKey();
  const t = makeTicket(key);
  state.tickets ??= new Map();
  state.tickets.set(t.hash, { status: 'LIVE', tx: t.hex, ...(account === undefined ? {} : { votingAccount: account }), ...(withKey ? { votingKey: key } : {}) });
  return t.hash;
}

/** A wallet with one live ticket whose voting key is in account 1, which has a passphrase of its own. */
function votingAccountWallet(unlocked = false): Partial<FakeWalletState> {
  const state: Partial<FakeWalletState> = {
    accounts: new Map([
      [0, { name: 'default', unlocked: true }],
      [1, { name: 'voting', passphrase: ACCOUNT_PASSPHRASE, unlocked }],
    ]),
  };
  liveTicket(state, 1);
  return state;
}

function start(opts: DaemonUnderTestOptions): Promise<DaemonUnderTest> {
  return startDaemonUnderTest(opts);
}

async function canaryRan(d: DaemonUnderTest): Promise<CanaryView> {
  return (await waitFor('canary ran', async () => (await walletView(d)).canary)) as CanaryView;
}

/** A block on the fake dcrd, and the fake wallet synced to it. */
function mine(d: DaemonUnderTest): void {
  d.dcrd.connectBlock();
  d.wallet.state.bestBlock = d.dcrd.tip;
}

function expectNothingBroadcast(d: DaemonUnderTest): void {
  expect(d.wallet.calls('PublishTransaction')).toBe(0);
  expect(d.dcrd.sent).toEqual([]);
}

describe('signing canary', () => {
  it('signs a vote for a live ticket without a passphrase, checks it, throws it away: ready', async () => {
    const state: Partial<FakeWalletState> = { locked: false };
    const ticket = liveTicket(state, 0);
    dut = await start({ wallet: state });
    const c = await canaryRan(dut);
    expect(c).toMatchObject({ status: 'ok', cause: null, ticket, accountsSigned: [0] });
    expect(dut.wallet.state.signRequests).toEqual([{ passphrase: false, inputs: 2 }]);
    await waitFor('ready', async () => (await walletView(dut!)).ready);
    expect(await dut.metric('dcrvoted_signing_canary_status', { wallet: 'main', status: 'ok' })).toBe(1);
    expect(await dut.metric('dcrvoted_signing_canary_status', { wallet: 'main', status: 'cannot_sign' })).toBe(0);
    expectNothingBroadcast(dut);
  });

  it('with no live ticket reports that state and leaves the wallet ready', async () => {
    dut = await start({ wallet: { locked: false } });
    expect(await canaryRan(dut)).toMatchObject({ status: 'no_live_ticket', cause: null });
    await waitFor('ready', async () => (await walletView(dut!)).ready);
    expect(await dut.metric('dcrvoted_signing_canary_status', { wallet: 'main', status: 'no_live_ticket' })).toBe(1);
    expect(dut.wallet.state.signRequests).toEqual([]);
  });

  it('runs again every canaryEveryBlocks blocks', async () => {
    const state: Partial<FakeWalletState> = { locked: false };
    liveTicket(state, 0);
    dut = await start({ wallet: state, config: { supervisor: { probeIntervalMs: 100, policyCheckIntervalMs: 300, backoffMinMs: 50, backoffMaxMs: 400, wrongPassphraseRetryMs: 60_000, canaryEveryBlocks: 3 } } });
    await canaryRan(dut);
    const first = dut.wallet.state.signRequests.length;
    for (let i = 0; i < 2; i++) mine(dut);
    await new Promise((r) => setTimeout(r, 400));
    expect(dut.wallet.state.signRequests.length).toBe(first);
    mine(dut);
    await waitFor('canary ran again', () => dut!.wallet.state.signRequests.length === first + 1);
    expectNothingBroadcast(dut);
  });

  it('runs again after the wallet reconnects (a restarted wallet may come back locked or without an account unlocked)', async () => {
    const state: Partial<FakeWalletState> = { locked: false };
    liveTicket(state, 0);
    dut = await start({ wallet: state });
    await canaryRan(dut);
    const scans = dut.wallet.calls('GetTickets');
    await dut.wallet.stop();
    await waitFor('not ready while the wallet is down', async () => (await dut!.get('/readyz')).status === 503);
    await dut.wallet.restart();
    await waitFor('canary ran after the reconnect', () => dut!.wallet.calls('GetTickets') > scans, 15_000);
    await waitFor('ready', async () => (await walletView(dut!)).ready);
    expectNothingBroadcast(dut);
  });

  it('a locked wallet (unlock: false) is cannot_sign (locked wallet) and ready again as soon as it is unlocked, without waiting for a block', async () => {
    const state: Partial<FakeWalletState> = { locked: true };
    liveTicket(state, 0);
    dut = await start({ wallet: state, walletConfig: { unlock: false } });
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'wallet_locked' });
    expect((await walletView(dut)).reasons.join()).toContain('cannot_sign (locked wallet)');
    dut.wallet.state.locked = false;
    await waitFor('ready', async () => (await walletView(dut!)).ready);
    expect((await walletView(dut)).canary?.status).toBe('ok');
  });

  it('a canary failure pages through notify at once (cannot_sign:<wallet>, the cause in the details) and resolves when the canary signs again', async () => {
    const hook = await startReceiver();
    try {
      const state: Partial<FakeWalletState> = { locked: true };
      liveTicket(state, 0);
      dut = await start({ wallet: state, walletConfig: { unlock: false }, config: { notify: { targets: [{ name: 'hook', kind: 'webhook', url: hook.url }], startupMessage: false, backoffMinMs: 20, backoffMaxMs: 50 } } });
      const pages = () => hook.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; details: Record<string, unknown> }).filter((b) => b.key === 'cannot_sign:main');
      await waitFor('paged', () => pages().length === 1);
      expect(pages()[0]).toMatchObject({ state: 'firing', details: { wallet: 'main', cause: 'wallet_locked' } });
      dut.wallet.state.locked = false;
      await waitFor('resolved', () => pages().length === 2);
      expect(pages().map((p) => p.state)).toEqual(['firing', 'resolved']);
    } finally {
      await hook.close();
    }
  });

  it('a watching-only wallet cannot sign: not ready with cannot_sign (watching-only)', async () => {
    const state: Partial<FakeWalletState> = { locked: false, watchingOnly: true };
    liveTicket(state, 0);
    dut = await start({ wallet: state });
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'watching_only' });
    const v = await walletView(dut);
    expect(v.ready).toBe(false);
    expect(v.reasons.join()).toContain('cannot_sign (watching-only)');
    expect(await dut.metric('dcrvoted_signing_canary_failures_total', { wallet: 'main', cause: 'watching_only' })).toBeGreaterThanOrEqual(1);
    expectNothingBroadcast(dut);
  });

  it('a live ticket whose voting key the wallet lacks: cannot_sign (missing key)', async () => {
    const state: Partial<FakeWalletState> = { locked: false };
    liveTicket(state, undefined, false);
    dut = await start({ wallet: state });
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'missing_key' });
    expect((await walletView(dut)).reasons.join()).toContain('cannot_sign (missing key)');
  });

  it('a wallet that refuses SignTransaction: cannot_sign (gRPC refused), and ready again once it signs', async () => {
    const state: Partial<FakeWalletState> = { locked: false, refuse: { SignTransaction: 'permission denied by policy' } };
    liveTicket(state, 0);
    dut = await start({ wallet: state });
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'grpc_refused' });
    expect((await walletView(dut)).reasons.join()).toContain('cannot_sign (gRPC refused)');
    dut.wallet.state.refuse = {};
    // While failing, the canary runs again at every block.
    mine(dut);
    await waitFor('canary ok', async () => (await walletView(dut!)).canary?.status === 'ok');
    await waitFor('ready', async () => (await walletView(dut!)).ready);
  });

  it('votingMode daemon, the wallet locked on purpose and a wrong passphrase file: not ready; once the file is fixed, ready again without waiting for a block', async () => {
    const state: Partial<FakeWalletState> = { locked: true };
    liveTicket(state, 0);
    dut = await start({ wallet: state, walletConfig: { votingMode: 'daemon', unlock: false }, passphraseOnDisk: 'not-the-passphrase' });
    await waitFor('not ready: passphrase rejected', async () => (await walletView(dut!)).reasons.join().includes('rejected the passphrase'));
    // Without a usable passphrase the lock is no longer by design: the canary says the wallet cannot sign.
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'wallet_locked' });
    writeFileSync(join(dut.dir, 'wallet-passphrase'), WALLET_PASSPHRASE + '\n');
    await waitFor('ready with the fixed file', async () => (await walletView(dut!)).ready);
    expect((await walletView(dut)).canary?.status).toBe('locked_by_design');
    expect(dut.wallet.state.locked).toBe(true);
    expectNothingBroadcast(dut);
  });

  it('votingMode daemon with the wallet locked on purpose: locked_by_design, ready, no passphrase sent with a vote', async () => {
    const state: Partial<FakeWalletState> = { locked: true };
    liveTicket(state, 0);
    dut = await start({ wallet: state, walletConfig: { votingMode: 'daemon', unlock: false } });
    expect(await canaryRan(dut)).toMatchObject({ status: 'locked_by_design', cause: null });
    await waitFor('ready', async () => (await walletView(dut!)).ready);
    expect(dut.wallet.state.locked).toBe(true);
    // The only passphrase sent is the unlocker's check on an empty transaction (no inputs).
    expect(dut.wallet.state.signRequests.filter((r) => r.passphrase && r.inputs > 0)).toEqual([]);
    expect(dut.wallet.state.signRequests.some((r) => !r.passphrase && r.inputs === 2)).toBe(true);
    expectNothingBroadcast(dut);
  });
});

describe('voting accounts with their own passphrase', () => {
  it('a locked voting account with no passphrase configured: not ready with account_locked', async () => {
    dut = await start({ wallet: votingAccountWallet() });
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'account_locked', lockedAccounts: [{ account: 1 }] });
    const v = await walletView(dut);
    expect(v.ready).toBe(false);
    expect(v.reasons.join()).toContain('account_locked: account 1 has a passphrase of its own and is locked; configure it in wallets[main].accountPassphraseFiles.1');
    expect(await dut.metric('dcrvoted_locked_voting_accounts', { wallet: 'main' })).toBe(1);
    expect(await dut.metric('dcrvoted_wallet_unlocked', { wallet: 'main' })).toBe(1);
    expect(dut.wallet.calls('UnlockAccount')).toBe(0);
  });

  it('unlocks the account with its configured passphrase; the canary then signs: ready', async () => {
    const d = await startDaemonUnderTestWithAccountFile(ACCOUNT_PASSPHRASE, votingAccountWallet());
    dut = d;
    await waitFor('canary ok', async () => (await walletView(d)).canary?.status === 'ok');
    expect(d.wallet.state.accounts.get(1)?.unlocked).toBe(true);
    expect(await d.metric('dcrvoted_account_unlock_attempts_total', { wallet: 'main', result: 'ok' })).toBe(1);
    expect(await d.metric('dcrvoted_locked_voting_accounts', { wallet: 'main' })).toBe(0);
    await waitFor('ready', async () => (await walletView(d)).ready);
    expect(d.logs.text).not.toContain(ACCOUNT_PASSPHRASE);
    expect(JSON.stringify((await d.get('/status')).body)).not.toContain(ACCOUNT_PASSPHRASE);
    expectNothingBroadcast(d);
  });

  it("votingMode wallet with the voting key in an imported account (2^31 and up): cannot_sign, the wallet will not vote it", async () => {
    const state: Partial<FakeWalletState> = { locked: false, accounts: new Map([[0, { name: 'default', unlocked: true }], [2 ** 31, { name: 'voting', passphrase: ACCOUNT_PASSPHRASE, unlocked: true }]]) };
    liveTicket(state, 2 ** 31);
    dut = await start({ wallet: state });
    expect(await canaryRan(dut)).toMatchObject({ status: 'cannot_sign', cause: 'wallet_will_not_vote' });
    expect((await walletView(dut)).reasons.join()).toContain('set votingMode: both (or daemon)');
  });

  it('the same ticket in votingMode both: dcrvoted casts its votes, so the canary is content', async () => {
    const state: Partial<FakeWalletState> = { locked: false, accounts: new Map([[0, { name: 'default', unlocked: true }], [2 ** 31, { name: 'voting', passphrase: ACCOUNT_PASSPHRASE, unlocked: true }]]) };
    liveTicket(state, 2 ** 31);
    dut = await start({ wallet: state, walletConfig: { votingMode: 'both' } });
    expect(await canaryRan(dut)).toMatchObject({ status: 'ok', accountsSigned: [2 ** 31] });
    expectNothingBroadcast(dut);
  });

  it('never sends the passphrase to an account that is already unlocked', async () => {
    const d = await startDaemonUnderTestWithAccountFile(ACCOUNT_PASSPHRASE, votingAccountWallet(true));
    dut = d;
    expect(await canaryRan(d)).toMatchObject({ status: 'ok', accountsSigned: [1] });
    expect(d.wallet.calls('AccountUnlocked')).toBeGreaterThanOrEqual(1);
    expect(d.wallet.calls('UnlockAccount')).toBe(0);
  });

  it('a rejected account passphrase is not sent again until its file changes', async () => {
    const d = await startDaemonUnderTestWithAccountFile('not the account passphrase', votingAccountWallet());
    dut = d;
    await waitFor('rejected', async () => (await d.metric('dcrvoted_account_unlock_attempts_total', { wallet: 'main', result: 'wrong_passphrase' })) === 1);
    const v = await walletView(d);
    expect(v.ready).toBe(false);
    expect(v.reasons.join()).toContain('account_locked: account 1 is locked and rejected the passphrase');
    // More canary runs (one per block while failing): the rejected bytes are not sent again.
    for (let i = 0; i < 3; i++) {
      mine(d);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(d.wallet.calls('UnlockAccount')).toBe(1);
    writeFileSync(join(d.dir, 'account-1-passphrase'), ACCOUNT_PASSPHRASE + '\n');
    mine(d);
    await waitFor('unlocked after the fix', () => d.wallet.state.accounts.get(1)?.unlocked === true);
    await waitFor('ready', async () => (await walletView(d)).ready);
    expect(d.wallet.calls('UnlockAccount')).toBe(2);
  });
});

async function startDaemonUnderTestWithAccountFile(content: string, wallet: Partial<FakeWalletState>): Promise<DaemonUnderTest> {
  const peers = await startFakePeers({ wallet: { locked: false, ...wallet }, walletConfig: { accountPassphraseFiles: { 1: 'account-1-passphrase' } } });
  writeFileSync(join(peers.dir, 'account-1-passphrase'), content + '\n');
  return launch(peers);
}
