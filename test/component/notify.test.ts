// Notifications from a whole daemon against fake peers, delivered over real
// sockets to local receivers (HTTP and HTTPS): exactly what arrived, that a
// failing receiver gets the message once it recovers, and that a receiver
// that never answers costs voting nothing and the queue stays bounded.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomHash } from '../support/fake-dcrd.js';
import { dispose, giveTicket, launch, startFakePeers, waitFor, type DaemonUnderTest, type DaemonUnderTestOptions } from '../support/daemon-under-test.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { formatStatus } from '../../src/commands/status.js';
import type { StatusDocument } from '../../src/status.js';

const TOPIC = 'dcrvoted-topic-s3cret';
const TOKEN = 'tk_ntfys3crettoken';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function receiver(opts: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(opts);
  cleanup.push(() => r.close());
  return r;
}

/** A daemon whose notify.targets are built by `targets` once the peers (and their PKI) exist. */
async function daemonWith(
  notify: (files: { dir: string; serverCa: string; serverCert: Buffer; serverKey: Buffer }) => Promise<Record<string, unknown>>,
  opts: DaemonUnderTestOptions = {},
): Promise<DaemonUnderTest> {
  const peers = await startFakePeers(opts);
  const secrets = mkdtempSync(join(tmpdir(), 'dcrvoted-notify-'));
  const n = await notify({ dir: secrets, serverCa: peers.pki.serverCa.certPath, serverCert: peers.pki.server.cert, serverKey: peers.pki.server.key });
  const { readFileSync } = await import('node:fs');
  const { parse, stringify } = await import('yaml');
  const c = parse(readFileSync(peers.configFile, 'utf8')) as Record<string, unknown>;
  c.notify = { backoffMinMs: 20, backoffMaxMs: 50, timeoutMs: 2000, ...n };
  writeFileSync(peers.configFile, stringify(c));
  const d = await launch(peers);
  cleanup.push(() => dispose(d));
  return d;
}

function secretFile(dir: string, name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content + '\n', { mode: 0o600 });
  return p;
}

const ready = async (d: DaemonUnderTest) => (await d.get('/readyz')).status === 200;

function expectNoNotifySecrets(d: DaemonUnderTest, ...more: string[]) {
  return async () => {
    const shown = d.logs.text + (await d.get('/status')).text + (await d.get('/metrics')).text;
    for (const s of [TOPIC, TOKEN, ...more]) expect(shown).not.toContain(s);
  };
}

describe('notifications', () => {
  it('the start-up test message reaches an HTTP webhook (JSON) and an HTTPS ntfy topic (headers, bearer token); no URL path or token is shown anywhere', async () => {
    const hook = await receiver();
    let ntfy!: Receiver;
    const d = await daemonWith(async (f) => {
      ntfy = await receiver({ tls: { cert: f.serverCert, key: f.serverKey }, path: `/${TOPIC}` });
      return {
        targets: [
          { name: 'hook', kind: 'webhook', url: hook.url, minSeverity: 'critical' },
          { name: 'phone', kind: 'ntfy', urlFile: secretFile(f.dir, 'ntfy-url', ntfy.url), tokenFile: secretFile(f.dir, 'ntfy-token', TOKEN), caCert: f.serverCa },
        ],
      };
    });
    await waitFor('test messages delivered', () => hook.delivered.length === 1 && ntfy.delivered.length === 1);
    const h = hook.received[0]!;
    expect(h.method).toBe('POST');
    expect(h.path).toBe('/hook');
    expect(h.headers['content-type']).toBe('application/json');
    expect(h.headers.authorization).toBeUndefined();
    expect(JSON.parse(h.body)).toEqual({
      version: 1,
      key: 'test',
      state: 'test',
      severity: 'info',
      title: 'TEST: dcrvoted started: notifications work',
      details: { version: expect.any(String), network: 'simnet', wallets: 'main' },
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: expect.stringMatching(/^dcrvoted on .+ \(simnet\)$/),
    });
    const n = ntfy.received[0]!;
    expect(n.method).toBe('POST');
    expect(n.path).toBe(`/${TOPIC}`);
    expect(n.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(n.headers.title).toBe('TEST: dcrvoted started: notifications work');
    expect(n.headers.priority).toBe('3');
    expect(n.headers.tags).toBe('test_tube,dcrvoted,test');
    expect(n.body).toMatch(/^version: .+\nnetwork: simnet\nwallets: main\ndcrvoted on .+ \(simnet\) at \d{4}-/);
    await d.daemon.notifications.notifier.idle();
    expect(await d.metric('dcrvoted_notifications_sent_total', { target: 'phone' })).toBe(1);
    const status = (await d.get('/status')).body as { notify: { targets: { name: string; origin: string }[] } };
    expect(status.notify.targets.map((t) => [t.name, t.origin])).toEqual([
      ['hook', new URL(hook.url).origin],
      ['phone', new URL(ntfy.url).origin],
    ]);
    const human = formatStatus((await d.get('/status')).body as StatusDocument);
    expect(human).toContain(`phone (ntfy, ${new URL(ntfy.url).origin}, from info): 1 sent, 0 failed, 0 dropped, 0 queued`);
    expect(human).not.toContain(TOPIC);
    await expectNoNotifySecrets(d)();
  });

  it('a wallet not ready past the threshold fires once and resolves once it recovers; a missed vote arrives as a critical event with its reason', async () => {
    const hook = await receiver();
    const d = await daemonWith(async () => ({ notReadyAfterMs: 300, startupMessage: false, targets: [{ name: 'hook', url: hook.url, minSeverity: 'warning' }] }), {
      walletConfig: { unlock: false },
    });
    await waitFor('not-ready fired', () => hook.delivered.length >= 1, 15_000);
    const ticket = await giveTicket(d.wallet, d.daemon);
    const won = d.dcrd.connectBlock({ winners: [ticket] });
    await waitFor('winner recorded', () => d.daemon.ledger?.get(ticket, won.hash));
    // No vote reaches the mempool by the deadline: at risk, before the next block decides.
    await waitFor('at risk', () => hook.delivered.some((r) => r.body.includes('"key":"vote_at_risk:')));
    d.dcrd.connectBlock({ revocations: [ticket] });
    await waitFor('decided', () => d.daemon.ledger?.get(ticket, won.hash)?.outcome);
    d.wallet.state.locked = false;
    d.wallet.state.bestBlock = d.dcrd.tip;
    await waitFor('ready', async () => {
      const r = await d.get('/readyz');
      if (r.status !== 200) throw new Error(r.text);
      return true;
    });
    await waitFor('resolved', () => hook.delivered.some((r) => (JSON.parse(r.body) as { state: string }).state === 'resolved' && (JSON.parse(r.body) as { key: string }).key === 'not_ready:main'), 15_000);
    await d.daemon.notifications.notifier.idle();
    const bodies = hook.delivered.map((r) => JSON.parse(r.body) as { key: string; state: string; severity: string; title: string; details: Record<string, unknown> });
    const byKey = (k: string) => bodies.filter((b) => b.key === k).map((b) => b.state);
    expect(byKey('not_ready:main')).toEqual(['firing', 'resolved']);
    const notReady = bodies.find((b) => b.key === 'not_ready:main')!;
    expect(notReady).toMatchObject({ severity: 'critical', title: 'wallet main cannot vote', details: { part: 'main', reasons: expect.stringContaining('locked') } });
    const missed = bodies.filter((b) => b.key === `vote_missed:${ticket}:${won.hash}`);
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatchObject({ state: 'event', severity: 'critical', details: { wallet: 'main', ticket, height: won.height, reason: 'wallet_locked' } });
    // The vote was never seen: it was at risk, and that condition resolves with the outcome.
    expect(bodies.find((b) => b.key.startsWith('vote_at_risk:'))).toMatchObject({ severity: 'critical', details: { wallet: 'main', reason: expect.stringContaining("no vote in dcrd's mempool") } });
    expect(bodies.filter((b) => b.key.startsWith('vote_at_risk:')).at(-1)).toMatchObject({ state: 'resolved', details: { outcome: 'missed (wallet_locked)' } });
    expect(byKey(`vote_at_risk:${ticket}:${won.hash}`)).toEqual(['firing', 'resolved']);
  });

  it('a receiver that fails twice then recovers gets the message exactly once', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'fail', status: 503, times: 2 });
    const d = await daemonWith(async () => ({ targets: [{ name: 'hook', url: hook.url }] }));
    await waitFor('delivered', () => hook.delivered.length === 1);
    await d.daemon.notifications.notifier.idle();
    expect(hook.received).toHaveLength(3);
    expect(hook.delivered).toHaveLength(1);
    expect(await d.metric('dcrvoted_notifications_sent_total', { target: 'hook' })).toBe(1);
    expect(await d.metric('dcrvoted_notifications_failed_total', { target: 'hook' })).toBe(0);
  });

  it('a receiver that refuses (401) is given up on at once, counted as failed, and the log says why without its URL', async () => {
    const hook = await receiver({ path: `/${TOPIC}` });
    hook.behave({ kind: 'fail', status: 401, times: 100 });
    const d = await daemonWith(async () => ({ targets: [{ name: 'hook', url: hook.url }] }));
    await waitFor('failed', async () => (await d.metric('dcrvoted_notifications_failed_total', { target: 'hook' })) === 1);
    expect(hook.received).toHaveLength(1);
    const line = d.logs.events('notification_failed')[0]!;
    expect(line.msg).toContain('receiver answered HTTP 401');
    await expectNoNotifySecrets(d)();
  });

  it('a receiver that never answers: votes are still recorded, the queue stays bounded, and the daemon still stops', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'hang' });
    const d = await daemonWith(async () => ({ queueSize: 3, timeoutMs: 600_000, targets: [{ name: 'hook', url: hook.url }] }));
    await waitFor('ready', () => ready(d));
    await waitFor('test message in flight', () => hook.received.length === 1);
    const ticket = await giveTicket(d.wallet, d.daemon);
    const won = d.dcrd.connectBlock({ winners: [ticket, randomHash(), randomHash(), randomHash(), randomHash()] });
    await waitFor('winner recorded', () => d.daemon.ledger?.get(ticket, won.hash));
    d.dcrd.addMempoolVote(ticket, won, 5);
    d.dcrd.connectBlock({ votesFor: [{ ticket, voteBits: 5 }] });
    expect(await waitFor('decided', () => d.daemon.ledger?.get(ticket, won.hash)?.outcome)).toMatchObject({ outcome: 'voted' });
    const n = d.daemon.notifications.notifier;
    for (let i = 0; i < 10; i++) n.event(`burst:${i}`, 'critical', 'burst');
    expect(n.view().targets[0]).toMatchObject({ queued: 3, sent: 0 });
    expect(await d.metric('dcrvoted_notifications_dropped_total', { target: 'hook' })).toBe(7);
    await d.stop();
    expect(hook.received).toHaveLength(1);
  });

  it("the dead-man's switch pings only while ready, and a failing monitor is counted without showing its URL", async () => {
    const hook = await receiver();
    const monitor = await receiver({ path: `/ping/${TOPIC}` });
    let hbFile = '';
    const d = await daemonWith(
      async (f) => {
        hbFile = secretFile(f.dir, 'hb-url', monitor.url);
        return { notReadyAfterMs: 300, startupMessage: false, heartbeatUrlFile: hbFile, heartbeatIntervalMs: 50, targets: [{ name: 'hook', url: hook.url }] };
      },
      { walletConfig: { unlock: false } },
    );
    // Not ready for longer than several heartbeat intervals: not one ping.
    await waitFor('not-ready fired', () => hook.delivered.length >= 1, 15_000);
    expect(monitor.received).toHaveLength(0);
    d.wallet.state.locked = false;
    await waitFor('pinged', () => monitor.delivered.length >= 2, 15_000);
    expect(monitor.received[0]).toMatchObject({ method: 'GET', path: `/ping/${TOPIC}`, body: '' });
    monitor.behave({ kind: 'fail', status: 500, times: 1000 });
    await waitFor('failure counted', async () => (await d.metric('dcrvoted_heartbeat_failures_total')) >= 1);
    expect(d.logs.events('heartbeat_failed')[0]?.msg).toContain('receiver answered HTTP 500');
    await expectNoNotifySecrets(d)();
  });
});
