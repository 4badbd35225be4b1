/**
 * signing: local on a real simnet (issue 9 item 3): in votingMode both the
 * wallet votes and dcrvoted casts the same vote, signed with the ticket's
 * voting key it fetched from the wallet beforehand. Every vote dcrvoted
 * signed locally has the wallet's txid and the wallet's signature, the votes
 * are mined, no vote needed the wallet's SignTransaction, and no voting key
 * shows in dcrvoted's logs, /status, /metrics or state directory.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWif } from '../../src/vote/keys.js';
import { decodeTx } from '../../src/vote/tx.js';
import { castsFor, chainOf, decidedFrom, mineUntil, mineWithOurVotes, startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';

const MINUTE = 60_000;
const fx = useSimnet();
let agenda: string;

beforeAll(async () => {
  agenda = (await fx.wallet.agendas()).agendas[0]!.id;
});


function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The voting WIF of every live ticket of ours, straight from the wallet (dumpprivkey). */
async function ourVotingKeys(): Promise<string[]> {
  const wifs: string[] = [];
  for (const t of await fx.sim.ourLiveTickets()) {
    const info = await fx.sim.dcrd.rpc('getrawtransaction', [t, 1]);
    const address = info?.vout?.[0]?.scriptPubKey?.addresses?.[0] as string | undefined;
    if (address) wifs.push((await fx.sim.ours.rpc('dumpprivkey', [address])) as string);
  }
  return wifs;
}

describe('signing: local on a real simnet', () => {
  it('votingMode both: dcrvoted signs every winner itself, with the wallet’s txid and signature; the votes are mined and no key leaks', async () => {
    const config = writeConfig(fx.sim, { agendas: { [agenda]: 'yes' }, wallet: { votingMode: 'both', signing: 'local' } });
    fx.dut = await startInProcess(config);
    await waitFor('ready', async () => (await fx.dut!.get('/readyz')).status === 200, 60_000, 200);
    await waitFor('policy', async () => (await fx.dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
    const live = (await fx.sim.ourLiveTickets()).length;
    expect(live).toBeGreaterThan(0);
    // Listed at start (the wallet is unlocked): one key per live ticket, before any win.
    await waitFor('voting keys fetched', async () => (await fx.dut!.metric('dcrvoted_voting_keys', { wallet: 'ours' })) >= live, 60_000, 200);

    const from = (await fx.sim.tip()).height + 1;
    await mineUntil(fx.sim, () => decidedFrom(fx.dut!, 'voted', from).length >= 3, 60);
    // The wallet's identical vote can be mined and decided before dcrvoted's cast has finished (and logged).
    const decided = decidedFrom(fx.dut, 'voted', from);
    const casts = await castsFor(fx.dut, decided);
    const chain = chainOf(fx.sim);
    let compared = 0;
    for (const [i, e] of decided.entries()) {
      const cast = casts[i]!;
      expect(cast.signer).toBe('local');
      // The vote's timeline says who signed it.
      const tl = await waitFor('its timeline', () => fx.dut!.daemon.ledger?.timeline(e.winner.ticket, e.winner.block.hash), 10_000, 50);
      expect(tl).toMatchObject({ caster: 'both', signer: 'local' });
      expect(tl.builtMs!).toBeLessThanOrEqual(tl.signedMs!);
      const mined = (await chain.getBlockVotes(e.outcome!.includedIn!.hash)).votes.find((v) => v.ticketHash === e.winner.ticket);
      expect(cast.txid).toBe(mined?.txid);
      // Our signature script is the wallet's own, byte for byte (its stored copy of the vote it signed).
      const walletCopy = ((await fx.sim.ours.rpc('gettransaction', [mined!.txid])) as { hex: string }).hex;
      expect(sigScriptOf(cast.hex as string)).toBe(sigScriptOf(walletCopy));
      compared++;
    }
    console.log(`[e2e] signing local, both mode: ${compared} votes signed by dcrvoted, txid and signature equal to the mined (wallet's) vote`);
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(decidedFrom(fx.dut, 'missed', from)).toEqual([]);
    expect(await fx.dut.metric('dcrvoted_vote_signing_failures_total', { wallet: 'ours' })).toBe(0);
    expect(await fx.dut.metric('dcrvoted_local_signing_fallbacks_total', { wallet: 'ours' })).toBe(0);

    // No voting key anywhere dcrvoted writes or shows.
    const wifs = await ourVotingKeys();
    expect(wifs.length).toBeGreaterThan(0);
    const status = (await fx.dut.get('/status')).text;
    const metrics = (await fx.dut.get('/metrics')).text;
    const state = filesUnder(join(dirname(config), 'state')).map((f) => readFileSync(f, 'latin1')).join('\n');
    for (const wif of wifs) {
      const hex = Buffer.from(decodeWif(wif, 'simnet')).toString('hex');
      for (const [where, text] of [['logs', fx.dut.logs.text], ['/status', status], ['/metrics', metrics], ['state directory', state]] as const) {
        expect(text.includes(wif), `a voting WIF in ${where}`).toBe(false);
        expect(text.includes(hex), `a voting key (hex) in ${where}`).toBe(false);
      }
    }
  }, 8 * MINUTE);

  it('votingMode daemon, the wallet kept locked (unlock: false): no key is fetched and the wallet signs with the passphrase; unlocked once by its operator, dcrvoted takes the keys and signs locally after it is locked again', async () => {
    await fx.sim.ours.rpc('walletlock');
    try {
      fx.dut = await startInProcess(writeConfig(fx.sim, { wallet: { votingMode: 'daemon', unlock: false, signing: 'local' } }));
      await waitFor('ready', async () => (await fx.dut!.get('/readyz')).status === 200, 60_000, 200);
      let from = (await fx.sim.tip()).height + 1;
      await mineWithOurVotes(fx.sim, fx.dut, () => decidedFrom(fx.dut!, 'voted', from).length >= 2, 60);
      // Mined and decided does not mean logged yet: the cast ends when the wallet has answered too.
      await castsFor(fx.dut, decidedFrom(fx.dut, 'voted', from));
      expect(await fx.dut.metric('dcrvoted_voting_keys', { wallet: 'ours' })).toBe(0);
      expect(fx.dut.logs.events('voting_keys_waiting').length).toBeGreaterThan(0);
      const walletSigned = fx.dut.logs.events('vote_cast').filter((c) => c.signer === 'wallet').length;
      expect(walletSigned).toBeGreaterThanOrEqual(2);
      expect(await fx.dut.metric('dcrvoted_local_signing_fallbacks_total', { wallet: 'ours', reason: 'key_not_fetched' })).toBeGreaterThanOrEqual(2);
      // dcrvoted never unlocked it to take keys: each per-call unlock relocks at once.
      await waitFor('locked after the last signature', async () => (await fx.sim.ours.rpc('walletinfo')).unlocked === false, 10_000, 100);

      // The operator unlocks it once; at the next block dcrvoted has the keys.
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
      const live = (await fx.sim.ourLiveTickets()).length;
      await waitFor('the supervisor sees it unlocked', async () => (await fx.dut!.metric('dcrvoted_wallet_unlocked', { wallet: 'ours' })) === 1, 10_000, 100);
      await fx.sim.mine(1);
      // The block just mined may have spent up to 5 of them (its winners' votes).
      await waitFor('voting keys fetched', async () => (await fx.dut!.metric('dcrvoted_voting_keys', { wallet: 'ours' })) >= live - 5, 30_000, 200);
      await fx.sim.ours.rpc('walletlock');
      await waitFor('the supervisor sees it locked', async () => (await fx.dut!.metric('dcrvoted_wallet_unlocked', { wallet: 'ours' })) === 0, 10_000, 100);

      from = (await fx.sim.tip()).height + 1;
      const castsBefore = fx.dut.logs.events('vote_cast').length;
      await mineWithOurVotes(fx.sim, fx.dut, () => decidedFrom(fx.dut!, 'voted', from).length >= 2, 60);
      await castsFor(fx.dut, decidedFrom(fx.dut, 'voted', from));
      const after = fx.dut.logs.events('vote_cast').slice(castsBefore);
      expect(after.filter((c) => c.signer === 'local').length).toBeGreaterThanOrEqual(2);
      expect(decidedFrom(fx.dut, 'missed', from)).toEqual([]);
      expect((await fx.sim.ours.rpc('walletinfo')).unlocked).toBe(false);
    } finally {
      await fx.dut?.stop();
      fx.dut = null;
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    }
  }, 8 * MINUTE);
});

/** The ticket input's signature script, hex. */
function sigScriptOf(hex: string): string {
  const d = decodeTx(hex);
  if (!d.ok) throw new Error(d.reason);
  return Buffer.from(d.value.tx.txIn[1]?.signatureScript ?? new Uint8Array()).toString('hex');
}
