/**
 * The upgrade and treasury guards on a real simnet (dcrd 2.1.6, dcrwallet
 * 2.1.5), and the fake dcrd's getvoteinfo / getstakeversions /
 * getblockchaininfo / tspend-mempool answers checked against the real
 * node's: the same observation, shapes and interval arithmetic, from both.
 *
 * The treasury case makes a real tspend with the published simnet treasury
 * (Pi) key, as test/fixtures/votes/capture.ts --treasury does: "other"
 * imports the key and calls sendfromtreasury; dcrd holds the tspend in its
 * mempool until its voting window.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DcrdRpcError } from '../../src/dcrd/jsonrpc.js';
import { DcrdRpc } from '../../src/dcrd/rpc.js';
import { DcrdClient } from '../../src/dcrd/ws-client.js';
import type { StatusDocument } from '../../src/status.js';
import { quickClientOptions, startFakeDcrd, type FakeDcrd } from '../support/fake-dcrd.js';
import { startReceiver } from '../support/receiver.js';
import { startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';

const MINUTE = 60_000;
/** chaincfg/v3 simnetparams.go: the published simnet Pi key, as a WIF (capture.ts). */
const SIMNET_PI_WIF = 'PsUUktzTqNKDRudiz3F4Chh5CKqqmp5W3ckRDhwECbwrSuWZ9m5fk';
const SIMNET_PI_KEY = '02a36b785d584555696b69d1b2bbeff4010332b301e3edd316d79438554cacb3e7';

const fx = useSimnet();
let fake: FakeDcrd;
let fakeClient: DcrdClient;
let realClient: DcrdClient;
let voteVersion: number;

type Request = <T>(method: string, params: unknown[]) => Promise<T>;
interface Peer {
  kind: 'real' | 'fake';
  request: Request;
  rpc: DcrdRpc;
}
let real: Peer;
let fakePeer: Peer;

beforeAll(async () => {
  voteVersion = (await fx.wallet.agendas()).version;
  // Both through our own websocket client, so errors arrive as DcrdRpcError from each.
  const d = fx.sim.dcrd;
  realClient = await connected(new DcrdClient({ host: d.host, port: d.rpcPort, user: d.user, password: Buffer.from(d.password), caCert: readFileSync(d.caCertPath) }));
  real = { kind: 'real', request: (m, p) => realClient.request(m, p), rpc: new DcrdRpc((m, p, o) => realClient.request(m, p, o)) };
  fake = await startFakeDcrd({ password: 'pw' });
  fakeClient = await connected(new DcrdClient(quickClientOptions(fake, 'pw')));
  // Blocks with votes, as the real chain has past stake validation height.
  for (let i = 0; i < 3; i++) fake.connectBlock({ votesFor: Array.from({ length: 5 }, (_, j) => ({ ticket: `${i}${j}`.padStart(64, 'c'), voteBits: 1, voteVersion })) });
  fakePeer = { kind: 'fake', request: (m, p) => fakeClient.request(m, p), rpc: new DcrdRpc((m, p, o) => fakeClient.request(m, p, o)) };
}, 2 * MINUTE);

async function connected(c: DcrdClient): Promise<DcrdClient> {
  await new Promise<void>((resolve) => {
    c.once('connected', () => resolve());
    c.start();
  });
  return c;
}

afterAll(async () => {
  await realClient?.close();
  await fakeClient?.close();
  await fake?.dispose();
});

function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? 'empty array' : ['array of', shape(v[0])];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return v === null ? 'null' : typeof v;
}

async function agree(check: (p: Peer) => Promise<unknown>): Promise<void> {
  const want = await check(real);
  const got = await check(fakePeer);
  expect(got, 'the fake dcrd answers like dcrd 2.1.6').toEqual(want);
}

describe('fake dcrd agrees with dcrd 2.1.6 on what the upgrade and treasury guards ask', () => {
  it("getvoteinfo for the wallet's vote version: shape, and the rule-change interval the tip is in", () =>
    agree(async (p) => {
      const [raw, tip] = await Promise.all([p.request<Record<string, unknown>>('getvoteinfo', [voteVersion]), p.rpc.getBestBlock()]);
      const parsed = await p.rpc.getVoteInfo(voteVersion);
      return {
        shape: shape(raw),
        parsed: parsed !== null && parsed.voteVersion === voteVersion && parsed.agendas.length > 0,
        currentIsTip: raw['currentheight'] === tip.height && raw['hash'] === tip.hash,
        // simnet: interval 320 aligned on SVH 144 (calcWantHeight).
        interval: (raw['endheight'] as number) - (raw['startheight'] as number) + 1,
        aligned: ((raw['startheight'] as number) - 144) % 320 === 0 || (raw['startheight'] as number) - 144 === -320,
        containsTip: (raw['startheight'] as number) <= tip.height + 1 && tip.height <= (raw['endheight'] as number),
        quorum: raw['quorum'],
        statuses: [...new Set(parsed?.agendas.map((a) => a.status))],
      };
    }));

  it('getvoteinfo for a version dcrd does not know: -8 "unrecognized vote version", which DcrdRpc reads as null', () =>
    agree(async (p) => {
      const err = await p.request('getvoteinfo', [99]).then(
        () => null,
        (e: unknown) => e,
      );
      return {
        code: err instanceof DcrdRpcError ? err.code : String(err),
        message: err instanceof DcrdRpcError ? err.message.replace(/\d+/, 'N') : '',
        parsed: await p.rpc.getVoteInfo(99),
      };
    }));

  it('getstakeversions: shape, newest first, one entry per block, the votes of each', () =>
    agree(async (p) => {
      const tip = await p.rpc.getBestBlock();
      const raw = await p.request<{ stakeversions: Record<string, unknown>[] }>('getstakeversions', [tip.hash, 3]);
      const parsed = await p.rpc.getStakeVersions(tip.hash, 3);
      return {
        shape: shape(raw),
        count: raw.stakeversions.length,
        newestFirst: parsed.map((b) => tip.height - b.height),
        votes: parsed.every((b) => b.voteVersions.length >= 3 && b.voteVersions.every((v) => v === voteVersion)),
        stakeVersionAtMostVotes: parsed.every((b) => b.stakeVersion <= voteVersion),
      };
    }));

  it('getstakeversions with count 0: -8', () =>
    agree(async (p) => {
      const tip = await p.rpc.getBestBlock();
      const err = await p.request('getstakeversions', [tip.hash, 0]).catch((e: unknown) => e);
      return err instanceof DcrdRpcError ? { code: err.code, message: err.message } : String(err);
    }));

  it('getrawmempool "tspend" answers a list of hashes', () => agree(async (p) => Array.isArray(await p.rpc.getRawMempoolTSpends())));
});

describe('guards on a real simnet', () => {
  it('healthy network and wallet: the upgrade guard finds nothing', async () => {
    const file = withGuards(writeConfig(fx.sim), {});
    fx.dut = await startInProcess(file);
    await waitFor('a guard check', async () => ((await fx.dut!.get('/status')).body as StatusDocument).guards.lastCheckAt !== null, 60_000, 200);
    const t0 = performance.now();
    await fx.dut.daemon.guards!.checkNow();
    // A figure, not an assertion: one check of both guards against real simnet nodes.
    console.log(`[e2e] one guard check (upgrade + treasury) on simnet: ${(performance.now() - t0).toFixed(1)} ms`);
    const g = ((await fx.dut.get('/status')).body as StatusDocument).guards;
    expect(g.lastError).toBeNull();
    expect(g.findings.filter((f) => f.guard === 'upgrade')).toEqual([]);
    for (const kind of ['unknown_agenda', 'locked_in', 'stake_version']) expect(await fx.dut.metric('dcrvoted_upgrade_needed', { wallet: 'ours', kind })).toBe(0);
  }, 4 * MINUTE);

  it('a tspend signed with the simnet treasury key and no policy: warned once, gauge 1, dcrvoted agendas lists it; the policy decides it → 0 and the wallet votes it', async () => {
    const sim = fx.sim;
    await sim.other.rpc('importprivkey', [SIMNET_PI_WIF, 'imported', false]);
    const [piAddress] = (await sim.other.rpc('getaddressesbyaccount', ['imported'])) as string[];
    const payTo = (await sim.other.rpc('getnewaddress', ['default'])) as string;
    const hash = (await sim.other.rpc('sendfromtreasury', [piAddress, { [payTo]: 1 }])) as string;
    await waitFor('tspend in dcrd mempool', async () => ((await sim.dcrd.rpc('getrawmempool', [false, 'tspend'])) as string[]).includes(hash), 60_000, 200);
    const expiry = ((await sim.dcrd.rpc('getrawtransaction', [hash, 1])) as { expiry: number }).expiry;
    console.log(`[e2e] tspend ${hash} expiry ${expiry}, window ${expiry - 146}..${expiry - 2}`);

    const hook = await startReceiver();
    const file = withGuards(writeConfig(sim, { notify: { targets: [{ name: 'hook', url: hook.url }], startupMessage: false } }), {});
    fx.dut = await startInProcess(file);
    await waitFor('undecided tspend', async () => (await fx.dut!.metric('dcrvoted_undecided_tspends', { wallet: 'ours' })) === 1, 60_000, 200);
    // The staker without Prometheus hears of it too: one firing notification naming the tspend.
    const paged = () => hook.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; details: Record<string, unknown> }).filter((b) => b.key === `tspend_undecided:ours:${hash}`);
    await waitFor('tspend notification', () => paged().length > 0, 30_000, 100);
    await fx.dut.daemon.notifications.notifier.idle();
    expect(paged()).toEqual([expect.objectContaining({ state: 'firing', details: expect.objectContaining({ wallet: 'ours', hash, expiry, amountDcr: 1 }) })]);
    await hook.close();
    await fx.dut.daemon.guards!.checkNow();
    const warned = fx.dut.logs.events('treasury_guard');
    expect(warned).toHaveLength(1);
    const tip = (await sim.tip()).height;
    expect(warned[0]!.details).toMatchObject({ hash, amountDcr: 1, expiry, treasuryKey: SIMNET_PI_KEY, windowStart: expiry - 146, windowEnd: expiry - 2, walletVotes: 'abstain' });
    expect(Math.abs((warned[0]!.details as { blocksLeft: number }).blocksLeft - (expiry - 2 - tip))).toBeLessThanOrEqual(1);
    expect(String(warned[0]!.msg)).toContain(`treasury spend ${hash} (1 DCR, expiry ${expiry})`);

    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agendas', '--config', file], { cwd: process.cwd() });
    expect(stdout).toContain('TSPEND (UNDECIDED)');
    expect(stdout).toMatch(new RegExp(`${hash}\\s+1\\s+${expiry}\\s+${expiry - 146}\\.\\.${expiry - 2}\\s`));

    await fx.dut.stop();
    fx.dut = await startInProcess(withGuards(file, { tspends: { [hash]: 'yes' } }));
    await waitFor('a guard check', async () => ((await fx.dut!.get('/status')).body as StatusDocument).guards.lastCheckAt !== null, 60_000, 200);
    await waitFor('policy applied', async () => (await fx.dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 60_000, 200);
    await fx.dut.daemon.guards!.checkNow();
    expect(await fx.dut.metric('dcrvoted_undecided_tspends', { wallet: 'ours' })).toBe(0);
    expect(fx.dut.logs.events('treasury_guard')).toEqual([]);
    expect(((await sim.ours.rpc('tspendpolicy', [hash])) as { policy?: string }).policy).toBe('yes');
  }, 6 * MINUTE);
});

/** The e2e config with quick guard checks and the given treasury policy. */
function withGuards(file: string, policy: { tspends?: Record<string, string> }): string {
  const config = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  config['guards'] = { checkIntervalMs: 500 };
  config['policy'] = { ...config['policy'], ...(policy.tspends ? { tspends: policy.tspends } : {}) };
  writeFileSync(file, stringify(config));
  return file;
}
