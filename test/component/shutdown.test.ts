// `dcrvoted run` as a real process against peers that accept connections
// and never answer (a frozen dcrwallet or dcrd): SIGTERM still ends the
// process with exit 0, and a configuration-class error found meanwhile
// still ends it with 78, so systemd's RestartPreventExitStatus=78 sees it.
// No timing is asserted here; bench/ measures how long the stop takes.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakePeers, waitFor, type FakePeers } from '../support/daemon-under-test.js';
import { startSilentTcp, startSilentTls, type SilentPeer } from '../support/silent-peers.js';

const CLI = ['--import', 'tsx', 'src/cli.ts'];

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function peers(opts: Parameters<typeof startFakePeers>[0] = {}): Promise<FakePeers> {
  const p = await startFakePeers(opts);
  cleanup.push(async () => {
    await p.wallet.stop();
    await p.dcrd.dispose();
    p.pki.cleanup();
  });
  return p;
}

async function silent(start: Promise<SilentPeer>): Promise<SilentPeer> {
  const s = await start;
  cleanup.push(() => s.close());
  return s;
}

interface Config {
  notify?: Record<string, unknown>;
  http: { listen: string };
  dcrd: { address: string };
  wallets: { grpcAddress: string; jsonrpc: { address: string } }[];
}

/** Rewrite the peers' config; returns the daemon's HTTP port. */
function rewrite(p: FakePeers, edit: (c: Config) => void): number {
  const c = parse(readFileSync(p.configFile, 'utf8')) as Config;
  const port = 20000 + Math.floor(Math.random() * 20000);
  c.http.listen = `127.0.0.1:${port}`;
  edit(c);
  writeFileSync(p.configFile, stringify(c));
  return port;
}

function runDaemon(configFile: string) {
  const child = spawn(process.execPath, [...CLI, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited, output: () => out };
}

const healthy = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;

describe('dcrvoted run stops whatever its peers do', () => {
  it('SIGTERM exits 0 while dcrd and the wallet accept TCP and never answer', async () => {
    const p = await peers();
    const hole = await silent(startSilentTcp());
    const port = rewrite(p, (c) => {
      c.dcrd.address = hole.address;
      c.wallets[0]!.grpcAddress = hole.address;
      c.wallets[0]!.jsonrpc.address = hole.address;
    });
    const d = runDaemon(p.configFile);
    await waitFor('daemon up', healthy(port), 20_000, 100);
    // dcrd and the wallet's gRPC channel have connected (and are waiting).
    await waitFor('peers connected', () => hole.accepted >= 2, 20_000, 50);
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.output()).toContain('"event":"stopped"');
  }, 60_000);

  it('SIGTERM exits 0 while dcrd and the wallet complete TLS and never answer HTTP/2 or the websocket upgrade', async () => {
    const p = await peers();
    const dcrd = await silent(startSilentTls({ cert: p.dcrd.tls.certPem, key: p.dcrd.tls.keyPem }));
    const grpc = await silent(startSilentTls({ cert: p.pki.server.cert, key: p.pki.server.key, ca: p.pki.clientCa.cert }));
    const jsonrpc = await silent(startSilentTls({ cert: p.pki.server.cert, key: p.pki.server.key }));
    const port = rewrite(p, (c) => {
      c.dcrd.address = dcrd.address;
      c.wallets[0]!.grpcAddress = grpc.address;
      c.wallets[0]!.jsonrpc.address = jsonrpc.address;
    });
    const d = runDaemon(p.configFile);
    await waitFor('daemon up', healthy(port), 20_000, 100);
    await waitFor('handshakes done', () => dcrd.accepted >= 1 && grpc.accepted >= 1, 20_000, 50);
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.output()).toContain('"event":"stopped"');
  }, 60_000);

  it('SIGTERM exits 0 while a notification receiver and the heartbeat monitor accept and never answer', async () => {
    const p = await peers();
    const hole = await silent(startSilentTcp());
    const port = rewrite(p, (c) => {
      c.notify = { timeoutMs: 600_000, heartbeatUrl: `http://${hole.address}/ping`, heartbeatIntervalMs: 100, targets: [{ name: 'hook', url: `http://${hole.address}/hook` }] };
    });
    const d = runDaemon(p.configFile);
    await waitFor('daemon up', healthy(port), 20_000, 100);
    // The start-up message and, once ready, the heartbeat are both stuck.
    await waitFor('receiver and monitor connected', () => hole.accepted >= 2, 20_000, 50);
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.output()).toContain('"event":"stopped"');
  }, 60_000);

  it('SIGTERM exits 0 while walletinfo completes TLS and never answers', async () => {
    const p = await peers();
    const jsonrpc = await silent(startSilentTls({ cert: p.pki.server.cert, key: p.pki.server.key }));
    const port = rewrite(p, (c) => {
      c.wallets[0]!.jsonrpc.address = jsonrpc.address;
    });
    const d = runDaemon(p.configFile);
    await waitFor('daemon up', healthy(port), 20_000, 100);
    await waitFor('walletinfo asked', () => jsonrpc.accepted >= 1, 20_000, 50);
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('a wallet on another network exits 78 while dcrd and walletinfo accept and never answer', async () => {
    const p = await peers({ wallet: { network: 'testnet' } });
    const hole = await silent(startSilentTcp());
    const jsonrpc = await silent(startSilentTls({ cert: p.pki.server.cert, key: p.pki.server.key }));
    rewrite(p, (c) => {
      c.dcrd.address = hole.address;
      c.wallets[0]!.jsonrpc.address = jsonrpc.address;
    });
    const d = runDaemon(p.configFile);
    expect(await d.exited).toEqual({ code: 78, signal: null });
    expect(d.output()).toMatch(/is on testnet, but dcrvoted is configured for simnet/);
  }, 60_000);

  it('dcrd on another network exits 78 while the wallet accepts TCP and never answers', async () => {
    const p = await peers({ network: 'testnet' });
    const hole = await silent(startSilentTcp());
    rewrite(p, (c) => {
      c.wallets[0]!.grpcAddress = hole.address;
      c.wallets[0]!.jsonrpc.address = hole.address;
    });
    const d = runDaemon(p.configFile);
    expect(await d.exited).toEqual({ code: 78, signal: null });
    expect(d.output()).toMatch(/dcrd .* is on testnet, but dcrvoted is configured for simnet/);
  }, 60_000);
});
