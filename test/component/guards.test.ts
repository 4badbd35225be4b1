// The upgrade and treasury guards in a whole daemon, against the fake dcrd
// (getblockchaininfo, getvoteinfo, getstakeversions, mempool tspends in
// dcrd 2.1.6's shapes, checked on real simnet by test/e2e/guards.test.ts)
// and the fake wallet. Also: a wallet that changes its vote version under a
// running daemon gets the policy back on the new version.

import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { GuardEvent } from '../../src/guards/findings.js';
import type { StatusDocument } from '../../src/status.js';
import { dispose, launch, startFakePeers, waitFor, type DaemonUnderTest, type FakePeers } from '../support/daemon-under-test.js';
import { simnetChoices } from '../support/fake-dcrd.js';
import { simnetLikeAgendas } from '../support/fake-wallet.js';

let dut: DaemonUnderTest | null = null;
afterEach(async () => {
  await dispose(dut);
  dut = null;
});

const FAST = { guards: { checkIntervalMs: 100 } };

async function start(config: Record<string, unknown> = {}): Promise<DaemonUnderTest> {
  const parts = await startFakePeers({ config: { ...FAST, ...config } });
  return launch(parts);
}

const status = async (d: DaemonUnderTest) => (await d.get('/status')).body as StatusDocument;
const upgradeNeeded = (d: DaemonUnderTest, kind: string) => d.metric('dcrvoted_upgrade_needed', { wallet: 'main', kind });
const events = (d: DaemonUnderTest): GuardEvent[] => {
  const list: GuardEvent[] = [];
  d.daemon.guards!.on('event', (e) => list.push(e));
  return list;
};

/** Lets the guards run a few more checks. */
async function checks(d: DaemonUnderTest, n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await d.daemon.guards!.checkNow();
}

describe('upgrade guard against the fake dcrd', () => {
  it('healthy: the fake answers like simnet dcrd and nothing is found', async () => {
    dut = await start();
    await waitFor('a guard check', async () => (await status(dut!)).guards.lastCheckAt !== null);
    await checks(dut);
    const s = await status(dut);
    expect(s.guards).toMatchObject({ lastError: null, findings: [] });
    for (const kind of ['unknown_agenda', 'locked_in', 'stake_version']) expect(await upgradeNeeded(dut, kind)).toBe(0);
  });

  it('an agenda the network votes on in a version the wallet does not know: warned once, gauge 1, event, /status; gone when the wallet is upgraded', async () => {
    dut = await start();
    const seen = events(dut);
    dut.dcrd.voteVersions[12] = [{ id: 'newrule', description: 'A new rule', mask: 6, starttime: 0, expiretime: 2e9, status: 'started', quorumprogress: 0.4 }];
    await waitFor('unknown agenda found', async () => (await upgradeNeeded(dut!, 'unknown_agenda')) === 1);
    await checks(dut);
    const warned = dut.logs.events('upgrade_guard');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ kind: 'unknown_agenda', wallet: 'main', key: 'unknown_agenda:newrule@12' });
    expect(String(warned[0]!.msg)).toMatch(/agenda newrule \(vote version 12.*wallet main votes version 11.*upgrade dcrwallet/);
    expect((await status(dut)).guards.findings.map((f) => f.key)).toEqual(['unknown_agenda:newrule@12']);
    expect(seen.filter((e) => e.type === 'raised').map((e) => e.finding.key)).toEqual(['unknown_agenda:newrule@12']);

    // dcrwallet upgraded: it votes version 12 and offers the agenda.
    dut.wallet.upgradeBinary(12, [{ id: 'newrule', description: 'A new rule', mask: 6, choices: simnetLikeAgendas()[0]!.choices, startTime: 0, expireTime: 2e9 }]);
    await waitFor('resolved', async () => (await upgradeNeeded(dut!, 'unknown_agenda')) === 0);
    expect(dut.logs.events('upgrade_guard_resolved')).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'resolved').map((e) => e.finding.key)).toEqual(['unknown_agenda:newrule@12']);
  });

  it('a rule change locked in: activation height and estimated time, once', async () => {
    dut = await start();
    const tip = dut.dcrd.tip.height; // 200
    dut.dcrd.deployments['newrule'] = { status: 'lockedin', since: 144, starttime: 0, expiretime: 2e9 };
    await waitFor('locked in found', async () => (await upgradeNeeded(dut!, 'locked_in')) === 1);
    await checks(dut);
    const [w, ...more] = dut.logs.events('upgrade_guard');
    expect(more).toEqual([]);
    // simnet rule-change interval 320: in force from 144 + 320 = 464.
    expect(w!.details).toMatchObject({ agenda: 'newrule', lockedInAt: 144, activationHeight: 464, blocksLeft: 464 - tip });
    expect(String(w!.msg)).toMatch(/rule change newrule is locked in: in force from block 464 \(in 264 blocks, about \d{4}-/);
  });

  it('most votes carry a newer vote version than the wallet: warned with the version to upgrade to', async () => {
    dut = await start();
    for (let i = 0; i < 4; i++) {
      dut.dcrd.connectBlock({ votesFor: Array.from({ length: 5 }, (_, j) => ({ ticket: `${i}${j}`.padStart(64, 'a'), voteBits: 1, voteVersion: 12 })) });
    }
    await waitFor('stake version found', async () => (await upgradeNeeded(dut!, 'stake_version')) === 1);
    const [w] = dut.logs.events('upgrade_guard');
    expect(w!.details).toMatchObject({ walletVoteVersion: 11, majorityVersion: 12, dcrdKnowsVersion: true, upgrade: 'dcrwallet' });
  });
});

const dir = join(import.meta.dirname, '../fixtures/votes');
const TSPEND = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('simnet-tspend-'))!), 'utf8')).tspend as { hash: string; hex: string; expiry: number };
const PI_KEY = '02a36b785d584555696b69d1b2bbeff4010332b301e3edd316d79438554cacb3e7';

describe('treasury guard against the fake dcrd', () => {
  it('a tspend in the mempool that the policy does not decide: warned once with hash, amount, expiry and what is left; gauge 1; still counted once mined; 0 when the policy decides it', async () => {
    dut = await start();
    const seen = events(dut);
    expect(dut.dcrd.addMempoolTSpend(TSPEND.hex)).toBe(TSPEND.hash);
    await waitFor('undecided tspend', async () => (await dut!.metric('dcrvoted_undecided_tspends', { wallet: 'main' })) === 1);
    await checks(dut);
    const warned = dut.logs.events('treasury_guard');
    expect(warned).toHaveLength(1);
    const tip = dut.dcrd.tip.height;
    expect(warned[0]!.details).toMatchObject({ hash: TSPEND.hash, amountDcr: 1, expiry: TSPEND.expiry, treasuryKey: PI_KEY, windowStart: TSPEND.expiry - 146, windowEnd: TSPEND.expiry - 2, blocksLeft: TSPEND.expiry - 2 - tip, walletVotes: 'abstain' });
    expect(String(warned[0]!.msg)).toContain(`treasury spend ${TSPEND.hash} (1 DCR, expiry ${TSPEND.expiry})`);
    expect(String(warned[0]!.msg)).toContain(`policy.treasuryKeys.${PI_KEY}`);
    expect((await status(dut)).guards.undecidedTSpends['main']?.map((t) => t.hash)).toEqual([TSPEND.hash]);
    expect(seen.map((e) => `${e.type}:${e.finding.key}`)).toEqual([`raised:tspend:${TSPEND.hash}`]);

    // Mined: out of the mempool, still voted on until its window ends, as the wallet has seen it.
    dut.wallet.state.knownTSpends.set(TSPEND.hash, PI_KEY);
    dut.dcrd.mineTSpend(TSPEND.hash);
    await checks(dut);
    expect(await dut.metric('dcrvoted_undecided_tspends', { wallet: 'main' })).toBe(1);
    expect(dut.logs.events('treasury_guard')).toHaveLength(1);

    // The operator decides it (by its treasury key) and restarts dcrvoted.
    await dut.stop();
    const config = parse(readFileSync(dut.configFile, 'utf8')) as { policy: Record<string, unknown> };
    config.policy['treasuryKeys'] = { [PI_KEY]: 'no' };
    writeFileSync(dut.configFile, stringify(config));
    const parts = { pki: dut.pki, dcrd: dut.dcrd, wallet: dut.wallet, dir: dut.dir, configFile: dut.configFile };
    dut = await launch(parts);
    await waitFor('a guard check', async () => (await status(dut!)).guards.lastCheckAt !== null);
    await checks(dut);
    expect(await dut.metric('dcrvoted_undecided_tspends', { wallet: 'main' })).toBe(0);
    expect(dut.logs.events('treasury_guard')).toEqual([]);
  });

  it('a tspend whose window has ended is not reported', async () => {
    dut = await start();
    dut.dcrd.addMempoolTSpend(TSPEND.hex);
    while (dut.dcrd.tip.height <= TSPEND.expiry - 2) dut.dcrd.connectBlock({ winners: [] });
    await waitFor('a guard check after the tip moved', async () => (await status(dut!)).guards.lastCheckAt !== null);
    await checks(dut);
    expect(await dut.metric('dcrvoted_undecided_tspends', { wallet: 'main' })).toBe(0);
  });
});

describe('dcrvoted agendas lists undecided treasury spends', () => {
  let peers: FakePeers | null = null;
  afterEach(async () => {
    await peers?.wallet.stop();
    await peers?.dcrd.dispose();
    peers?.pki.cleanup();
    peers = null;
  });

  const agendas = async (configFile: string, json: boolean) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agendas', '--config', configFile, ...(json ? ['--json'] : [])], { cwd: process.cwd() });

  it('with hash, amount, expiry, window and blocks left; gone once the policy decides it', async () => {
    peers = await startFakePeers();
    peers.dcrd.addMempoolTSpend(TSPEND.hex);
    const text = (await agendas(peers.configFile, false)).stdout;
    expect(text).toContain('TSPEND (UNDECIDED)');
    expect(text).toMatch(new RegExp(`${TSPEND.hash}\\s+1\\s+${TSPEND.expiry}\\s+${TSPEND.expiry - 146}\\.\\.${TSPEND.expiry - 2}\\s+${TSPEND.expiry - 2 - peers.dcrd.tip.height}\\s`));
    const [doc] = JSON.parse((await agendas(peers.configFile, true)).stdout) as { undecidedTSpends: { hash: string; treasuryKey: string }[] }[];
    expect(doc!.undecidedTSpends).toMatchObject([{ hash: TSPEND.hash, treasuryKey: PI_KEY }]);

    const config = parse(readFileSync(peers.configFile, 'utf8')) as { policy: Record<string, unknown> };
    config.policy['tspends'] = { [TSPEND.hash]: 'yes' };
    writeFileSync(peers.configFile, stringify(config));
    expect((await agendas(peers.configFile, false)).stdout).toContain('treasury spends: none open for a vote that the policy leaves undecided');
  });
});

describe('policy across a wallet upgrade', () => {
  it('a new vote version gets the policy re-applied at once (not at the next policy interval) and checked against its agendas; what it no longer offers is reported, the daemon keeps running', async () => {
    dut = await start({ supervisor: { probeIntervalMs: 50, policyCheckIntervalMs: 600_000, backoffMinMs: 50, backoffMaxMs: 400, wrongPassphraseRetryMs: 60_000 } });
    await waitFor('policy applied', async () => (await dut!.metric('dcrvoted_policy_in_sync', { wallet: 'main' })) === 1);
    expect(dut.wallet.state.voteChoices.get('blake3pow')).toBe('no');
    // The new binary offers blake3pow again (choices are per version, so
    // unset) and drops maxblocksize, which the policy still names.
    const [maxblocksize, blake3pow] = simnetLikeAgendas();
    dut.wallet.upgradeBinary(12, [blake3pow!]);
    expect(dut.wallet.state.voteChoices.size).toBe(0);
    await waitFor('policy on the new version', () => dut!.logs.events('policy_version_changed').length > 0, 5_000);
    expect(dut.wallet.state.voteChoices.get('blake3pow')).toBe('no');
    expect(dut.logs.events('vote_version_changed')[0]).toMatchObject({ from: 11, to: 12 });
    expect(dut.logs.events('policy_version_changed')[0]).toMatchObject({ from: 11, to: 12 });
    const mismatch = dut.logs.events('policy_mismatch');
    expect(mismatch).toHaveLength(1);
    expect(String(mismatch[0]!.msg)).toContain('policy.agendas.maxblocksize');
    expect(dut.fatal).toBeNull();
    expect(await dut.metric('dcrvoted_policy_in_sync', { wallet: 'main' })).toBe(0);
    expect(await dut.metric('dcrvoted_policy_reapplied_total', { wallet: 'main' })).toBe(0);
    const w = (await status(dut)).wallets[0]!;
    expect(w.policy.voteVersion).toBe(12);
    expect(w.policy.problems.map((p) => p.key)).toEqual(['policy.agendas.maxblocksize']);

    // Back to the old binary: its choices are still there, the policy is whole again.
    dut.wallet.upgradeBinary(11, [maxblocksize!, blake3pow!]);
    await waitFor('in sync on version 11', async () => (await dut!.metric('dcrvoted_policy_in_sync', { wallet: 'main' })) === 1, 5_000);
    expect(dut.wallet.state.voteChoices.get('maxblocksize')).toBe('yes');
  });
});

describe('guard findings reach a notification receiver', () => {
  it('an undecided tspend and an agenda the wallet cannot vote fire once each; the agenda resolves when the wallet is upgraded', async () => {
    const { startReceiver } = await import('../support/receiver.js');
    const hook = await startReceiver();
    try {
      dut = await start({ notify: { startupMessage: false, backoffMinMs: 20, backoffMaxMs: 50, timeoutMs: 2000, targets: [{ name: 'hook', kind: 'webhook', url: hook.url }] } });
      dut.dcrd.addMempoolTSpend(TSPEND.hex);
      dut.dcrd.voteVersions[12] = [{ id: 'newrule', description: 'A new rule', mask: 6, starttime: 0, expiretime: 2e9, status: 'started' }];
      const bodies = () => hook.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; severity: string; title: string; details: Record<string, unknown> });
      await waitFor('both fired', () => bodies().length >= 2);
      await checks(dut);
      dut.wallet.upgradeBinary(12, [{ id: 'newrule', description: 'A new rule', mask: 6, choices: simnetLikeAgendas()[0]!.choices, startTime: 0, expireTime: 2e9 }]);
      await waitFor('agenda resolved', () => bodies().some((b) => b.state === 'resolved'));
      await checks(dut);
      await dut.daemon.notifications.notifier.idle();
      const byKey = (k: string) => bodies().filter((b) => b.key === k).map((b) => b.state);
      expect(byKey(`tspend_undecided:main:${TSPEND.hash}`)).toEqual(['firing']);
      expect(byKey('upgrade_needed:main:unknown_agenda:newrule@12')).toEqual(['firing', 'resolved']);
      const tspend = bodies().find((b) => b.key.startsWith('tspend_undecided:'))!;
      expect(tspend).toMatchObject({ severity: 'warning', details: { wallet: 'main', hash: TSPEND.hash, amountDcr: 1, expiry: TSPEND.expiry, treasuryKey: PI_KEY } });
      expect(tspend.title).toMatch(/^treasury spend [0-9a-f]{16}… \(1 DCR\) is undecided: wallet main abstains$/);
    } finally {
      await hook.close();
    }
  });
});
