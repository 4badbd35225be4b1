// The sync guard in a whole daemon on fake peers: a dcrd that its p2p peers
// say is behind, or that says it is not current, makes dcrvoted not ready
// with the heights in /readyz and /status, and ready again once it is fixed.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../src/status.js';
import { dispose, launch, startFakePeers, waitFor, type DaemonUnderTest } from '../support/daemon-under-test.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let dut: DaemonUnderTest | null = null;
let hook: Receiver | null = null;

afterEach(async () => {
  await dispose(dut);
  dut = null;
  await hook?.close();
  hook = null;
});

async function daemonWithQuickGuard(notify?: Record<string, unknown>): Promise<DaemonUnderTest> {
  const peers = await startFakePeers();
  const cfg = parse(readFileSync(peers.configFile, 'utf8')) as { dcrd: Record<string, unknown>; notify?: Record<string, unknown> };
  cfg.dcrd.syncCheckIntervalMs = 50;
  cfg.dcrd.syncGraceMs = 200;
  if (notify) cfg.notify = notify;
  writeFileSync(peers.configFile, stringify(cfg));
  dut = await launch(peers);
  await waitFor('ready', async () => (await dut!.get('/readyz')).status === 200);
  return dut;
}

const dcrdReasons = async (d: DaemonUnderTest) => ((await d.get('/readyz')).body as { reasons?: Record<string, string[]> }).reasons?.dcrd ?? [];

describe('dcrd sync guard', () => {
  it("a dcrd its peers say is 3 blocks ahead of it makes dcrvoted not ready, naming both heights; it recovers", async () => {
    const d = await daemonWithQuickGuard();
    const tip = d.dcrd.tip;
    d.dcrd.peers = [{ addr: '10.0.0.9:9108', currentHeight: tip.height + 3 }];
    await waitFor('not ready', async () => (await d.get('/readyz')).status === 503);
    expect(await dcrdReasons(d)).toEqual([
      expect.stringMatching(new RegExp(`^dcrd dcrd is 3 blocks behind: its tip is height ${tip.height} \\(${tip.hash}\\) while peer 10\\.0\\.0\\.9:9108 of dcrd dcrd is at height ${tip.height + 3} \\(for \\d+ s\\)$`)),
    ]);
    const status = (await d.get('/status')).body as StatusDocument;
    expect(status.dcrd.sync?.nodes).toMatchObject([{ name: 'dcrd', height: tip.height, hash: tip.hash, blocksBehind: 3, peers: 1, problems: [{ kind: 'lagging', active: true }] }]);
    expect(await d.metric('dcrvoted_dcrd_sync_problem', { node: 'dcrd', kind: 'lagging' })).toBe(1);
    expect(d.logs.events('dcrd_sync_problem')).toHaveLength(1);

    d.dcrd.peers = [{ addr: '10.0.0.9:9108', currentHeight: tip.height }];
    await waitFor('ready again', async () => (await d.get('/readyz')).status === 200);
    expect(await d.metric('dcrvoted_dcrd_sync_problem', { node: 'dcrd', kind: 'lagging' })).toBe(0);
    expect(d.logs.events('dcrd_sync_recovered')).toHaveLength(1);
  });

  it('a dcrd that is not current (initialblockdownload) makes dcrvoted not ready until it is', async () => {
    const d = await daemonWithQuickGuard();
    d.dcrd.initialBlockDownload = true;
    await waitFor('not ready', async () => (await d.get('/readyz')).status === 503);
    expect(await dcrdReasons(d)).toEqual([expect.stringContaining(`dcrd dcrd does not consider itself current (initialblockdownload) at height ${d.dcrd.tip.height}`)]);
    d.dcrd.initialBlockDownload = false;
    await waitFor('ready again', async () => (await d.get('/readyz')).status === 200);
  });

  it('a lagging dcrd is paged once through notify with its heights, and resolved when it has caught up', async () => {
    hook = await startReceiver();
    const d = await daemonWithQuickGuard({ targets: [{ name: 'hook', kind: 'webhook', url: hook.url }], startupMessage: false, backoffMinMs: 20, backoffMaxMs: 50 });
    const tip = d.dcrd.tip;
    d.dcrd.peers = [{ addr: '10.0.0.9:9108', currentHeight: tip.height + 3 }];
    const sync = () => hook!.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; title: string; details: Record<string, unknown> }).filter((b) => b.key === 'dcrd_sync:dcrd:lagging');
    await waitFor('paged', () => sync().length === 1);
    expect(sync()[0]).toMatchObject({ state: 'firing', details: { node: 'dcrd', kind: 'lagging', message: expect.stringContaining(`at height ${tip.height + 3}`) } });
    d.dcrd.peers = [{ addr: '10.0.0.9:9108', currentHeight: tip.height }];
    await waitFor('resolved', () => sync().length === 2);
    expect(sync().map((b) => b.state)).toEqual(['firing', 'resolved']);
  });
});
