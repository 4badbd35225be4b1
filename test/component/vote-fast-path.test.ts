// dcrvoted's own vote path with the ticket index loaded: after the
// winningtickets notification the only wallet call is SignTransaction, and
// nothing is asked of dcrd but the broadcast. Counted on the fakes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTx, txid } from '../../src/vote/tx.js';
import { newVotingKey } from '../support/fake-tickets.js';
import { dispose, giveTicket, startDaemonUnderTest, waitFor, type DaemonUnderTest } from '../support/daemon-under-test.js';

const fx = readdirSync('test/fixtures/votes')
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join('test/fixtures/votes', f), 'utf8')) as { ticketHash: string; ticketHex: string })[0]!;

let dut: DaemonUnderTest | null = null;
afterEach(async () => {
  await dispose(dut);
  dut = null;
});

const WALLET_CALLS = ['GetTicket', 'VoteChoices', 'TSpendPolicies', 'TreasuryPolicies', 'SignTransaction'] as const;
const DCRD_CALLS = ['getblockchaininfo', 'getrawtransaction', 'sendrawtransaction'] as const;

function counts(d: DaemonUnderTest) {
  return {
    wallet: Object.fromEntries(WALLET_CALLS.map((m) => [m, d.wallet.calls(m)])),
    dcrd: Object.fromEntries(DCRD_CALLS.map((m) => [m, d.dcrd.callCount(m)])),
  };
}

function delta(before: ReturnType<typeof counts>, after: ReturnType<typeof counts>) {
  const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(a).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));
  return { wallet: diff(before.wallet, after.wallet), dcrd: diff(before.dcrd, after.dcrd) };
}

describe('vote fast path', () => {
  it('with the index loaded a winner is voted with only SignTransaction asked of the wallet after the notification', async () => {
    dut = await startDaemonUnderTest({
      walletConfig: { votingMode: 'daemon' },
      // No policy check during the measured window: it would call VoteChoices itself.
      config: { supervisor: { probeIntervalMs: 100, policyCheckIntervalMs: 3_600_000, backoffMinMs: 50, backoffMaxMs: 400, wrongPassphraseRetryMs: 60_000 } },
    });
    const d = dut;
    await waitFor('ready', async () => (await d.get('/readyz')).status === 200);
    // The signing canary's first run (no live ticket yet) is over before the ticket arrives: a later
    // run would sign the very same vote and be counted below. It runs again only in 12 blocks.
    await waitFor('canary ran', async () => ((await d.get('/status')).body as { wallets: { canary: unknown }[] }).wallets[0]?.canary);
    await giveTicket(d.wallet, d.daemon, { ticket: fx.ticketHash, tx: fx.ticketHex, votingKey: newVotingKey() });
    // A block: the prepared inputs are read for it, off the vote path.
    const tip = d.dcrd.connectBlock({ winners: [] });
    await waitFor('inputs prepared', () => d.daemon.votePreparation('main')?.forWinner(fx.ticketHash, tip));
    // Let every refresh already asked for finish before counting.
    await d.daemon.votePreparation('main')!.refresh();

    const before = counts(d);
    // The lottery result for the tip (as dcrd's rebroadcastwinners sends it): no block event, so nothing else runs.
    d.dcrd.sendRaw(JSON.stringify({ jsonrpc: '1.0', method: 'winningtickets', params: [tip.hash, tip.height, { '0': fx.ticketHash }], id: null }));
    await waitFor('vote broadcast', () => d.dcrd.sent.length === 1);
    await waitFor('cast logged', () => d.logs.events('vote_cast')[0]);
    expect(delta(before, counts(d))).toEqual({
      wallet: { GetTicket: 0, VoteChoices: 0, TSpendPolicies: 0, TreasuryPolicies: 0, SignTransaction: 1 },
      dcrd: { getblockchaininfo: 0, getrawtransaction: 0, sendrawtransaction: 1 },
    });
    const cast = d.logs.events('vote_cast')[0]!;
    expect(cast).toMatchObject({ prepared: true, ticket: fx.ticketHash });
    const sent = decodeTx(d.dcrd.sent[0]!);
    expect(sent.ok && txid(sent.value.tx)).toBe(cast['txid']);
    // The cast starts before the winner's record is written (and fsynced): the record can come after the cast's log line.
    await waitFor('winner recorded', () => d.daemon.ledger?.get(fx.ticketHash, tip.hash));
  });

  it('while the index is not loaded the winner is looked up and gathered as before (GetTicket, VoteChoices)', async () => {
    dut = await startDaemonUnderTest({ walletConfig: { votingMode: 'daemon' } });
    const d = dut;
    await waitFor('ready', async () => (await d.get('/readyz')).status === 200);
    await giveTicket(d.wallet, d.daemon, { ticket: fx.ticketHash, tx: fx.ticketHex });
    // /metrics shows the operator what the index holds and whether it follows the wallet.
    expect(await d.metric('dcrvoted_ticket_index_tickets', { wallet: 'main' })).toBe(1);
    expect(await d.metric('dcrvoted_ticket_index_loaded', { wallet: 'main' })).toBe(1);
    // The wallet's notifications end and cannot be had again: the index no longer claims to know.
    d.wallet.state.refuseStreams = true;
    d.wallet.endNotifications();
    await waitFor('index unloaded', () => d.daemon.ticketIndex('main')?.loaded === false);
    expect(await d.metric('dcrvoted_ticket_index_loaded', { wallet: 'main' })).toBe(0);
    const getTickets = d.wallet.calls('GetTicket');
    const won = d.dcrd.connectBlock({ winners: [fx.ticketHash] });
    await waitFor('winner recorded', () => d.daemon.ledger?.get(fx.ticketHash, won.hash));
    expect(d.wallet.calls('GetTicket')).toBeGreaterThan(getTickets);
  });
});
