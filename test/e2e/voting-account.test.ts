/**
 * A voting account with a passphrase of its own, on real dcrd 2.1.6 and
 * dcrwallet 2.1.5: imported with ImportVotingAccountFromSeed, tickets bought
 * with their voting rights in it. The wallet is unlocked (walletinfo says
 * so) and still cannot vote those tickets. The signing canary finds that out
 * before a ticket wins; with the account's passphrase configured dcrvoted
 * unlocks it, and the tickets' votes get mined.
 *
 * Also checks the calls the fake wallet models (test/support/fake-wallet.ts)
 * against the real one: GetTickets credits (the voting account),
 * AccountUnlocked, UnlockAccount, SignTransaction of a vote whose key is in a
 * locked account.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningDaemon } from '../support/daemon-under-test.js';
import { VoteAssembler } from '../../src/vote/assembler.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { chainOf, mineUntil, mineWithOurVotes, startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';
import { startReceiver } from '../support/receiver.js';

const MINUTE = 60_000;
const ACCOUNT_PASSPHRASE = 'voting-account-own-passphrase';

const fx = useSimnet();
let account = -1;
let votingTickets: string[] = [];

interface WalletView {
  ready: boolean;
  reasons: string[];
  canary: { status: string; cause: string | null; accountsSigned: number[]; lockedAccounts: { account: number }[]; voteTxid: string | null; ticket: string | null } | null;
}
const walletView = async (d: RunningDaemon): Promise<WalletView> => ((await d.get('/status')).body as { wallets: WalletView[] }).wallets[0]!;

beforeAll(async () => {
  const g = fx.sim.ours.grpc();
  try {
    account = await g.importVotingAccountFromSeed(randomBytes(32), `voting-${Date.now()}`, ACCOUNT_PASSPHRASE);
    votingTickets = await g.purchaseTicketsVotingIn(account, 12);
  } finally {
    g.close();
  }
  // Mined, then mature (simnet ticket maturity 16). A ticket that wins before
  // dcrvoted runs is missed (its account is locked): keep only the live ones.
  const statusOf = async (t: string) => (await fx.wallet.getTicket(t))?.status;
  await mineUntil(fx.sim, async () => (await Promise.all(votingTickets.map(statusOf))).every((st) => st !== 'UNMINED' && st !== 'IMMATURE'), 40);
  const statuses = await Promise.all(votingTickets.map(statusOf));
  votingTickets = votingTickets.filter((_, i) => statuses[i] === 'LIVE');
  expect(votingTickets.length).toBeGreaterThan(0);
}, 5 * MINUTE);

describe('a voting account with its own passphrase (real wallet)', () => {
  it('the real wallet answers the calls the fake models the same way', async () => {
    const scan = await fx.wallet.scanLiveTickets();
    // The voting account is the credit at output 0 (wallet/notifications.go makeTxSummary).
    expect(scan.byAccount.get(account)).toBeDefined();
    expect(votingTickets).toContain(scan.byAccount.get(account)!.hash);
    expect(scan.live).toBeGreaterThanOrEqual(votingTickets.length);
    // AccountUnlocked: locked on its own while the wallet is unlocked; null for the default account.
    expect(await fx.wallet.accountUnlocked(account)).toBe(false);
    expect(await fx.wallet.accountUnlocked(0)).toBeNull();
    await expect(fx.wallet.accountUnlocked(987_654)).rejects.toMatchObject({ kind: 'not_found' });
    expect((await fx.sim.ours.rpc('walletinfo')).unlocked).toBe(true);
    // A wrong account passphrase is refused as a passphrase and changes nothing.
    const wrong = await fx.wallet.unlockAccount(account, Buffer.from('wrong')).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(WalletRpcError);
    expect((wrong as WalletRpcError).kind).toBe('wrong_passphrase');
    expect(await fx.wallet.accountUnlocked(account)).toBe(false);
    // UnlockAccount on the default account (no passphrase of its own): DataLoss, as the fake answers.
    await expect(fx.wallet.unlockAccount(0, Buffer.from('x'))).rejects.toMatchObject({ code: 15 });
    // SignTransaction without a passphrase leaves the ticket input of a locked account's vote unsigned (no error).
    const tip = await fx.sim.tip();
    const assembler = new VoteAssembler({
      walletName: 'ours',
      network: 'simnet',
      wallet: fx.wallet,
      chain: { deployments: async () => (await chainOf(fx.sim).getBlockchainInfo()).deployments, tspendExpiry: async () => null },
      voteVersion: () => 12,
      logger: (await import('pino')).pino({ level: 'silent' }),
    });
    const unsigned = await assembler.build(votingTickets[0]!, tip);
    const signed = await fx.wallet.signTransaction(null, Buffer.from(unsigned.hex, 'hex'));
    expect(signed.unsignedInputIndexes).toEqual([1]);
  }, 2 * MINUTE);

  it('without the account passphrase: the canary fails, not ready with account_locked, though walletinfo says unlocked', async () => {
    const hook = await startReceiver();
    fx.dut = await startInProcess(writeConfig(fx.sim, { notify: { targets: [{ name: 'hook', url: hook.url }], startupMessage: false } }));
    const d = fx.dut;
    const view = await waitFor('canary ran', async () => {
      const v = await walletView(d);
      return v.canary ? v : null;
    }, 60_000);
    expect(view.canary).toMatchObject({ status: 'cannot_sign', cause: 'account_locked', lockedAccounts: [{ account }] });
    expect(view.ready).toBe(false);
    expect(view.reasons.join('\n')).toContain(`account_locked: account ${account} has a passphrase of its own and is locked`);
    expect((await d.get('/readyz')).status).toBe(503);
    expect(await d.metric('dcrvoted_locked_voting_accounts', { wallet: 'ours' })).toBe(1);
    expect(await d.metric('dcrvoted_signing_canary_status', { wallet: 'ours', status: 'cannot_sign' })).toBe(1);
    expect(await d.metric('dcrvoted_wallet_unlocked', { wallet: 'ours' })).toBe(1);
    expect(await fx.wallet.accountUnlocked(account)).toBe(false);
    // And it pages at once, naming the cause.
    const paged = () => hook.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; details: Record<string, unknown> }).filter((b) => b.key === 'cannot_sign:ours');
    await waitFor('cannot_sign notification', () => paged().length > 0, 30_000, 100);
    expect(paged()[0]).toMatchObject({ state: 'firing', details: { wallet: 'ours', cause: 'account_locked' } });
    await hook.close();
  }, 2 * MINUTE);

  it("with the account passphrase configured: unlocked and signing, but dcrwallet will not vote an imported account's tickets itself (votingMode wallet)", async () => {
    const config = writeConfig(fx.sim, { wallet: { accountPassphraseFiles: { [account]: 'account-passphrase' } } });
    writeFileSync(join(dirname(config), 'account-passphrase'), ACCOUNT_PASSPHRASE);
    fx.dut = await startInProcess(config);
    const d = fx.dut;
    const view = await waitFor('canary ran', async () => {
      const v = await walletView(d);
      return v.canary ? v : null;
    }, 60_000);
    expect(await fx.wallet.accountUnlocked(account)).toBe(true);
    expect(await d.metric('dcrvoted_account_unlock_attempts_total', { wallet: 'ours', result: 'ok' })).toBe(1);
    expect(await d.metric('dcrvoted_locked_voting_accounts', { wallet: 'ours' })).toBe(0);
    // dcrwallet 2.1.5 hasVotingAuthority: no "private key" for accounts numbered 2^31 and up.
    expect(account).toBeGreaterThanOrEqual(2 ** 31);
    expect(view.canary).toMatchObject({ status: 'cannot_sign', cause: 'wallet_will_not_vote' });
    expect(view.ready).toBe(false);
    expect(d.logs.text).not.toContain(ACCOUNT_PASSPHRASE);
  }, 2 * MINUTE);

  it("votingMode both: the canary signs (nothing broadcast), ready, and the voting account's tickets' votes get mined", async () => {
    // The account is still unlocked from the test before (until the wallet restarts); lock it so dcrvoted unlocks it again.
    const g = fx.sim.ours.grpc();
    await g.lockAccount(account).finally(() => g.close());
    expect(await fx.wallet.accountUnlocked(account)).toBe(false);
    const config = writeConfig(fx.sim, { wallet: { votingMode: 'both', accountPassphraseFiles: { [account]: 'account-passphrase' } } });
    writeFileSync(join(dirname(config), 'account-passphrase'), ACCOUNT_PASSPHRASE);
    fx.dut = await startInProcess(config);
    const d = fx.dut;
    const view = await waitFor('canary ok', async () => {
      const v = await walletView(d);
      return v.canary?.status === 'ok' ? v : null;
    }, 60_000);
    expect(view.canary!.accountsSigned).toContain(account);
    expect(await fx.wallet.accountUnlocked(account)).toBe(true);
    await waitFor('ready', async () => (await d.get('/readyz')).status === 200, 30_000);
    // The canary's vote was thrown away: dcrd never saw it.
    const mempool = (await fx.sim.dcrd.rpc('getrawmempool', [false, 'all'])) as string[];
    expect(view.canary!.voteTxid).toMatch(/^[0-9a-f]{64}$/);
    expect(mempool).not.toContain(view.canary!.voteTxid);
    expect(d.logs.text).not.toContain(ACCOUNT_PASSPHRASE);

    // A ticket of the voting account wins and the wallet's vote for it is mined.
    const chain = chainOf(fx.sim);
    const voted = new Set<string>();
    await mineWithOurVotes(
      fx.sim,
      d,
      async () => {
        const tip = await fx.sim.tip();
        for (const v of await fx.sim.votesIn(tip.hash)) if (votingTickets.includes(v.ticket)) voted.add(v.ticket);
        return voted.size > 0;
      },
      80,
    );
    const [ticket] = [...voted];
    const info = await fx.wallet.getTicket(ticket!);
    expect(info?.status).toBe('VOTED');
    expect(info?.spenderHash).toBeTruthy();
    // The vote is in the tip; dcrvoted decides it once it has handled that block.
    const cast = await waitFor('dcrvoted to record the vote', () => {
      const entries = (d.daemon.ledger?.recent(1000) ?? []).filter((e) => e.winner.ticket === ticket);
      return entries.some((e) => e.outcome?.outcome === 'voted') ? entries : null;
    }, 15_000);
    expect(cast.map((e) => e.outcome?.outcome)).toContain('voted');
    expect(await chain.getBestBlock()).toBeTruthy();
  }, 6 * MINUTE);
});
