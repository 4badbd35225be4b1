import { afterEach, describe, expect, it } from 'vitest';
import { randomHash } from '../support/fake-dcrd.js';
import {
  DCRD_PASSWORD,
  JSONRPC_PASSWORD,
  WALLET_PASSPHRASE,
  dispose,
  giveTicket,
  launch,
  startDaemonUnderTest,
  waitFor,
  type DaemonUnderTest,
} from '../support/daemon-under-test.js';

let dut: DaemonUnderTest | null = null;

afterEach(async () => {
  await dispose(dut);
  dut = null;
});

const ready = async (d: DaemonUnderTest) => (await d.get('/readyz')).status === 200;

function ownTicket(d: DaemonUnderTest): Promise<string> {
  return giveTicket(d.wallet, d.daemon);
}

function expectNoSecrets(d: DaemonUnderTest) {
  for (const s of [WALLET_PASSPHRASE, DCRD_PASSWORD, JSONRPC_PASSWORD, 'PRIVATE KEY']) expect(d.logs.text).not.toContain(s);
}

describe('daemon against fake peers', () => {
  it('starts, unlocks the locked wallet, applies the policy and becomes ready', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    await waitFor('policy applied', async () => (await dut!.metric('dcrvoted_policy_in_sync', { wallet: 'main' })) === 1);
    expect(dut.wallet.state.locked).toBe(false);
    expect(dut.wallet.state.voteChoices.get('maxblocksize')).toBe('yes');
    expect(dut.wallet.state.voteChoices.get('blake3pow')).toBe('no');
    expect(await dut.metric('dcrvoted_wallet_unlocked', { wallet: 'main' })).toBe(1);
    expect(await dut.metric('dcrvoted_policy_in_sync', { wallet: 'main' })).toBe(1);
    expect(await dut.metric('dcrvoted_dcrd_connected')).toBe(1);
    const status = (await dut.get('/status')).body as { ready: boolean; wallets: { name: string; policy: { voteBits: number } }[] };
    expect(status.ready).toBe(true);
    expect(status.wallets[0]!.name).toBe('main');
    const metrics = (await dut.get('/metrics')).text;
    for (const name of ['build_info', 'wallet_up', 'wallet_unlocked', 'wallet_voting_enabled', 'wallet_synced', 'wallet_best_block_height', 'dcrd_connected', 'dcrd_best_block_height', 'last_block_timestamp_seconds', 'tickets', 'winning_tickets_total', 'votes_total', 'missed_votes_total', 'vote_seen_seconds', 'policy_in_sync', 'policy_reapplied_total', 'undecided_agendas', 'unlock_attempts_total', 'reconnects_total', 'process_cpu_seconds_total']) {
      expect(metrics).toContain(`dcrvoted_${name}`);
    }
    expect(metrics).not.toContain(WALLET_PASSPHRASE);
    expect(JSON.stringify(status)).not.toContain(WALLET_PASSPHRASE);
    expectNoSecrets(dut);
  });

  it('unlocks the wallet again after it is locked, and counts it', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    dut.wallet.state.locked = true;
    await waitFor('unlocked again', () => !dut!.wallet.state.locked, 15_000);
    // The fake flips its state while answering; dcrvoted counts once the answer is back.
    await waitFor('counted', async () => (await dut!.metric('dcrvoted_unlock_attempts_total', { wallet: 'main', result: 'ok' })) >= 2, 15_000);
  });

  it('re-applies the policy when the wallet drifts, and counts the drift', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('policy applied', async () => (await dut!.metric('dcrvoted_policy_in_sync', { wallet: 'main' })) === 1);
    dut.wallet.state.voteChoices.set('maxblocksize', 'no');
    await waitFor('policy re-applied', () => dut!.wallet.state.voteChoices.get('maxblocksize') === 'yes', 5000);
    await waitFor('drift counted', async () => (await dut!.metric('dcrvoted_policy_reapplied_total', { wallet: 'main' })) === 1);
  });

  it('recovers after the wallet restarts: reconnects, unlocks, re-applies the policy', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    await dut.wallet.stop();
    // Waited for, not read after the first 503: a probe whose gRPC call was answered just before the stop
    // loses only walletinfo, and until the next probe /readyz says "lock state unknown (walletinfo failed)".
    await waitFor('not ready: the wallet unreachable', async () => {
      const r = await dut!.get('/readyz');
      return r.status === 503 && /unreachable/.test((r.body as { reasons: Record<string, string[]> }).reasons.main?.[0] ?? '');
    });
    // The wallet comes back locked and with its choices reset (a restored wallet).
    dut.wallet.state.locked = true;
    dut.wallet.state.voteChoices.clear();
    await dut.wallet.restart();
    await waitFor('ready again', () => ready(dut!), 20_000);
    // Readiness does not wait for the policy; it follows within a round.
    await waitFor('policy re-applied', () => dut!.wallet.state.voteChoices.get('maxblocksize') === 'yes', 20_000);
    expect(await dut.metric('dcrvoted_reconnects_total', { peer: 'wallet:main' })).toBeGreaterThanOrEqual(1);
  });

  it('managed mode: opens the wallet, starts RpcSync, and does both again after a restart', async () => {
    dut = await startDaemonUnderTest({ wallet: { opened: false, daemonConnected: false }, walletConfig: { mode: 'managed' } });
    await waitFor('ready', () => ready(dut!));
    expect(dut.wallet.state.opened).toBe(true);
    expect(dut.wallet.state.lastRpcSync?.networkAddress).toBe(`127.0.0.1:${dut.dcrd.port}`);
    const syncs = dut.wallet.calls('RpcSync');
    dut.wallet.state.opened = false;
    dut.wallet.state.daemonConnected = false;
    await dut.wallet.restart();
    await waitFor('re-opened and re-synced', () => dut!.wallet.state.opened && dut!.wallet.calls('RpcSync') > syncs, 10_000);
    await waitFor('ready again', () => ready(dut!), 10_000);
  });

  it('votes: a winning ticket whose vote is mined is recorded as voted with its latency', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const ticket = await ownTicket(dut);
    const won = dut.dcrd.connectBlock({ winners: [ticket, randomHash(), randomHash(), randomHash(), randomHash()] });
    await waitFor('winner recorded', () => dut!.daemon.ledger?.get(ticket, won.hash));
    dut.dcrd.addMempoolVote(ticket, won, 5);
    await waitFor('vote seen', async () => (await dut!.metric('dcrvoted_vote_seen_seconds_count', { wallet: 'main' })) === 1);
    dut.dcrd.connectBlock({ votesFor: [{ ticket, voteBits: 5 }] });
    const e = await waitFor('decided', () => dut!.daemon.ledger?.get(ticket, won.hash)?.outcome);
    expect(e).toMatchObject({ outcome: 'voted' });
    expect(await dut.metric('dcrvoted_votes_total', { wallet: 'main', outcome: 'voted' })).toBe(1);
    expect(dut.logs.events('vote_outcome')).toHaveLength(1);
  });

  it('a miss while the wallet is locked (unlocking disabled) is recorded as wallet_locked', async () => {
    dut = await startDaemonUnderTest({ walletConfig: { unlock: false } });
    await waitFor('probed', async () => (await dut!.metric('dcrvoted_wallet_up', { wallet: 'main' })) === 1);
    expect(dut.wallet.calls('UnlockWallet')).toBe(0);
    const r = (await dut.get('/readyz')).body as { reasons: Record<string, string[]> };
    expect(r.reasons.main).toContain('locked');
    const ticket = await ownTicket(dut);
    const won = dut.dcrd.connectBlock({ winners: [ticket] });
    await waitFor('winner recorded', () => dut!.daemon.ledger?.get(ticket, won.hash));
    dut.dcrd.connectBlock({ revocations: [ticket] });
    const e = await waitFor('decided', () => dut!.daemon.ledger?.get(ticket, won.hash)?.outcome);
    expect(e).toMatchObject({ outcome: 'missed', reason: 'wallet_locked' });
    expect(await dut.metric('dcrvoted_missed_votes_total', { wallet: 'main', reason: 'wallet_locked' })).toBe(1);
    const miss = dut.logs.events('vote_outcome')[0]!;
    expect(miss.level).toBe(50);
    expect(String(miss.msg)).toContain('MISSED VOTE');
  });

  it('a reorg that removes the winning block makes the ticket superseded', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const ticket = await ownTicket(dut);
    const won = dut.dcrd.connectBlock({ winners: [ticket] });
    await waitFor('winner recorded', () => dut!.daemon.ledger?.get(ticket, won.hash));
    dut.dcrd.reorg(1, { winners: [randomHash()] }, {});
    const e = await waitFor('decided', () => dut!.daemon.ledger?.get(ticket, won.hash)?.outcome);
    expect(e).toMatchObject({ outcome: 'superseded' });
  });

  it('reconnects to dcrd, re-subscribes and catches up on blocks it missed', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const ticket = await ownTicket(dut);
    const parent = dut.dcrd.connectBlock({});
    await waitFor('block seen', async () => (await dut!.metric('dcrvoted_dcrd_best_block_height')) === parent.height);
    await dut.dcrd.stop();
    await waitFor('dcrd down noticed', async () => (await dut!.metric('dcrvoted_dcrd_connected')) === 0);
    // While dcrvoted is away, our ticket wins the parent's lottery and votes.
    dut.dcrd.connectBlock({ votesFor: [{ ticket, voteBits: 5 }] });
    await dut.dcrd.start();
    const e = await waitFor('caught up', () => dut!.daemon.ledger?.get(ticket, parent.hash)?.outcome, 15_000);
    expect(e).toMatchObject({ outcome: 'voted' });
    expect(await dut.metric('dcrvoted_reconnects_total', { peer: 'dcrd' })).toBeGreaterThanOrEqual(1);
    expect(dut.dcrd.subscriberCount('winners')).toBe(1);
    // The websocket client's own account of the loss reaches the daemon's log, tagged with its node.
    expect(dut.logs.lines.some((l) => l.component === 'dcrd' && l.node === 'dcrd' && l.msg === 'dcrd connection lost')).toBe(true);
  });

  it('logs and counts a malformed notification and keeps working', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    dut.dcrd.sendRaw(JSON.stringify({ jsonrpc: '1.0', method: 'winningtickets', params: ['nothex', -1, 7], id: null }));
    dut.dcrd.sendRaw('{not json');
    await waitFor('counted', async () => (await dut!.metric('dcrvoted_malformed_notifications_total', { method: 'winningtickets' })) === 1);
    const ticket = await ownTicket(dut);
    const won = dut.dcrd.connectBlock({ winners: [ticket] });
    await waitFor('still tracking', () => dut!.daemon.ledger?.get(ticket, won.hash));
  });

  it('a kill -9 style restart keeps every winner exactly once and resolves the pending one', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const ticket = await ownTicket(dut);
    const won = dut.dcrd.connectBlock({ winners: [ticket] });
    await waitFor('winner recorded', () => dut!.daemon.ledger?.get(ticket, won.hash));
    await dut.stop();
    dut.dcrd.connectBlock({ votesFor: [{ ticket, voteBits: 5 }] });
    const again = await launch(dut);
    dut = Object.assign(dut, { daemon: again.daemon, logs: again.logs, url: again.url, get: again.get, metric: again.metric, stop: again.stop });
    const e = await waitFor('resolved after restart', () => dut!.daemon.ledger?.get(ticket, won.hash)?.outcome, 10_000);
    expect(e).toMatchObject({ outcome: 'voted' });
    expect(dut.daemon.ledger!.size).toBe(1);
  });
});

describe('bad setups give clear errors and lose nothing', () => {
  it('a wrong passphrase is reported with the file to fix, retried slowly, never logged', async () => {
    dut = await startDaemonUnderTest({ passphraseOnDisk: 'wrong-passphrase-xyz' });
    await waitFor('unlock failed', async () => (await dut!.metric('dcrvoted_unlock_attempts_total', { wallet: 'main', result: 'wrong_passphrase' })) === 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await dut.metric('dcrvoted_unlock_attempts_total', { wallet: 'main', result: 'wrong_passphrase' })).toBe(1);
    const err = dut.logs.events('unlock_failed')[0]!;
    expect(String(err.msg)).toMatch(/rejected the passphrase from .*wallet-passphrase \(wallets\[\]\.passphraseFile\)/);
    expect(dut.logs.text).not.toContain('wrong-passphrase-xyz');
    expect((await dut.get('/readyz')).status).toBe(503);
  });

  it('a wallet on another network stops the daemon with exit code 78', async () => {
    dut = await startDaemonUnderTest({ wallet: { network: 'testnet' } });
    await waitFor('fatal', () => dut!.fatal);
    expect(dut.fatal!.exitCode).toBe(78);
    expect(dut.fatal!.message).toMatch(/is on testnet, but dcrvoted is configured for simnet/);
  });

  it('dcrd on another network stops the daemon with exit code 78', async () => {
    dut = await startDaemonUnderTest({ network: 'testnet' });
    await waitFor('fatal', () => dut!.fatal);
    expect(dut.fatal!.exitCode).toBe(78);
    expect(dut.fatal!.message).toMatch(/dcrd .* is on testnet/);
  });

  it('an unknown agenda in the policy stops the daemon naming it', async () => {
    dut = await startDaemonUnderTest({ config: { policy: { agendas: { nosuchagenda: 'yes' } } } });
    await waitFor('fatal', () => dut!.fatal);
    expect(dut.fatal!.exitCode).toBe(78);
    expect(dut.fatal!.message).toContain('policy.agendas.nosuchagenda');
  });

  it('a client certificate the wallet does not trust is reported with what to do', async () => {
    dut = await startDaemonUnderTest({ useRogueClientCert: true });
    await waitFor('reported', async () => {
      const r = (await dut!.get('/readyz')).body as { reasons: Record<string, string[]> };
      return r.reasons.main?.[0]?.includes('clients.pem');
    });
    expect(dut.fatal).toBeNull();
  });

  it('the wrong dcrd password is reported naming the config keys, and the daemon keeps trying', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    dut.dcrd.setCredentials('rpcuser', 'changed');
    dut.dcrd.dropConnections();
    await waitFor('auth failure logged', () => dut!.logs.events('dcrd_connect_failed').some((l) => String(l.msg).includes('dcrd.passwordFile')), 10_000);
    expect((await dut.get('/readyz')).status).toBe(503);
    dut.dcrd.setCredentials('rpcuser', DCRD_PASSWORD);
  });
});
