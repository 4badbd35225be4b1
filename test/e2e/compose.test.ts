/**
 * deploy/docker-compose.yml, started for real: dcrd, dcrwallet, dcrvoted,
 * Prometheus and Alertmanager on simnet (plus deploy/compose/simnet.yml),
 * all on the host network bound to 127.0.0.1.
 *
 * Images come from scripts/compose-local-images.sh (local stand-ins for the
 * official ones; no registry is needed). The deploy directory is copied to a
 * temp dir, where the secrets and dcrvoted's client certificate are made, so
 * the checkout is never written to. Then:
 *
 *   1. `up -d`; dcrwallet creates its wallet from the simnet test seed;
 *      dcrvoted's /readyz turns 200;
 *   2. dcrd mines two blocks on demand (`generate`, to --miningaddr) and the
 *      wallet follows;
 *   3. Prometheus scrapes dcrvoted (targets API: job dcrvoted up;
 *      dcrvoted_wallet_up = 1) and knows Alertmanager (alertmanagers API);
 *      the always-firing watchdog alert reaches Alertmanager;
 *   4. the wallet container is stopped: /readyz 503, dcrvoted_wallet_up 0 and
 *      DcrvotedWalletUnreachable (deploy/prometheus/alerts.yml) pending or
 *      firing in Prometheus's alerts API;
 *   5. the wallet is started again and dcrvoted is ready again;
 *   6. `down -v`.
 *
 * Skipped only when no Docker engine answers (the reason is printed).
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerAvailable } from './harness/backends.js';
import { ROOT, sh as run, type Run } from './shell.js';
import { makeClientCert } from './harness/certs.js';

const MINUTE = 60_000;
const PROJECT = 'dcrvoted-compose-e2e';
// Fixed by the compose files: every service on the host network, default
// simnet ports (dcrd P2P 18555, RPC 19556; wallet JSON-RPC 19557, gRPC 19558).
const PORTS = { dcrvoted: 9198, prometheus: 9090, alertmanager: 9093, dcrdP2p: 18555, dcrdRpc: 19556, walletJson: 19557, walletGrpc: 19558 };
const DCRVOTED = `http://127.0.0.1:${PORTS.dcrvoted}`;
const PROMETHEUS = `http://127.0.0.1:${PORTS.prometheus}`;
const ALERTMANAGER = `http://127.0.0.1:${PORTS.alertmanager}`;

const hasDocker = await dockerAvailable();
if (!hasDocker) {
  console.log('[compose] SKIPPED: no Docker engine answers `docker info`, so the compose stack cannot run. Run as root so scripts/start-docker.sh can start dockerd, or start it yourself.');
}

// Compose and image steps are slow: two minutes unless a call says otherwise.
const sh = (cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> =>
  run(cmd, args, { timeoutMs: 2 * MINUTE, ...opts });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` returns a truthy value; errors count as "not yet". */
async function waitFor<T>(what: string, cond: () => Promise<T>, timeoutMs: number, intervalMs = 500): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(intervalMs);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

async function getJson<T = any>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function status(url: string): Promise<number> {
  return (await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.status ?? 0;
}

/** dcrd JSON-RPC over TLS, trusting dcrd's own certificate. */
function dcrdRpc(ca: string, user: string, password: string, method: string, params: unknown[] = []): Promise<any> {
  const body = JSON.stringify({ jsonrpc: '1.0', id: 1, method, params });
  return new Promise((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: PORTS.dcrdRpc,
        method: 'POST',
        path: '/',
        ca,
        servername: 'localhost',
        auth: `${user}:${password}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 60_000,
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => {
          try {
            const j = JSON.parse(data) as { result: unknown; error: { message: string } | null };
            if (j.error) fail(new Error(`dcrd ${method}: ${j.error.message}`));
            else done(j.result);
          } catch {
            fail(new Error(`dcrd ${method}: HTTP ${res.statusCode} ${data.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`dcrd ${method}: timed out`)));
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * A copy of deploy/ (compose files, Prometheus rules and config) in a temp
 * dir, with its own secrets and client certificate: the checkout's
 * compose/secrets and compose/certs are never read or written. The build
 * contexts of the compose file (deploy/compose, deploy/..) exist in the copy
 * too, though nothing is built.
 */
async function stageDeploy(): Promise<{ dir: string; deploy: string; dcrdUser: string; dcrdPassword: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-compose-'));
  const deploy = join(dir, 'deploy');
  const src = join(ROOT, 'deploy');
  cpSync(src, deploy, {
    recursive: true,
    filter: (p) => {
      const rel = relative(src, p);
      const parent = dirname(rel);
      if (parent === join('compose', 'secrets') || parent === join('compose', 'certs')) return ['README.md', '.gitignore'].includes(basename(rel));
      return rel !== '.env';
    },
  });
  const secrets = join(deploy, 'compose', 'secrets');
  const certs = join(deploy, 'compose', 'certs');
  mkdirSync(secrets, { recursive: true });
  const dcrdPassword = randomBytes(16).toString('hex');
  writeFileSync(join(secrets, 'dcrd-password'), `${dcrdPassword}\n`);
  writeFileSync(join(secrets, 'wallet-jsonrpc-password'), `${randomBytes(16).toString('hex')}\n`);
  writeFileSync(join(secrets, 'wallet-passphrase'), 'compose simnet passphrase\n');
  await makeClientCert(join(certs, 'dcrvoted-client.pem'), join(secrets, 'client-key'), 'dcrvoted');
  // As compose/secrets/README.md says: readable by the containers' users,
  // kept from other host users by the 0700 directory.
  for (const f of ['dcrd-password', 'wallet-jsonrpc-password', 'wallet-passphrase', 'client-key']) chmodSync(join(secrets, f), 0o444);
  chmodSync(join(certs, 'dcrvoted-client.pem'), 0o444);
  chmodSync(secrets, 0o700);
  return { dir, deploy, dcrdUser: 'dcrd', dcrdPassword };
}

describe.skipIf(!hasDocker)('docker compose stack (dcrd, dcrwallet, dcrvoted, Prometheus, Alertmanager) on simnet', () => {
  let compose: string[] = [];
  let env: NodeJS.ProcessEnv = {};
  let staged: Awaited<ReturnType<typeof stageDeploy>> | null = null;
  let passed = false;
  const timings: string[] = [];
  const t0 = Date.now();
  const mark = (what: string, since: number) => {
    const line = `${what}: ${((Date.now() - since) / 1000).toFixed(1)} s`;
    timings.push(line);
    console.log(`[compose] ${line}`);
  };

  /** `docker compose` / `docker-compose` with this test's project and files. */
  const dc = (args: string[], timeoutMs = 3 * MINUTE) =>
    sh(compose[0]!, [...compose.slice(1), '-p', PROJECT, '-f', 'docker-compose.yml', '-f', 'compose/simnet.yml', ...args], {
      cwd: staged!.deploy,
      env,
      timeoutMs,
    });
  const mustDc = async (args: string[], timeoutMs?: number) => {
    const r = await dc(args, timeoutMs);
    if (r.code !== 0) throw new Error(`${compose.join(' ')} ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r;
  };

  beforeAll(async () => {
    const t = Date.now();
    const r = await sh('bash', ['scripts/compose-local-images.sh'], { timeoutMs: 25 * MINUTE });
    const out = `${r.stdout}${r.stderr}`;
    if (r.code !== 0) throw new Error(`scripts/compose-local-images.sh exited ${r.code}:\n${out.split('\n').slice(-60).join('\n')}`);
    console.log(out.split('\n').filter((l) => /\[compose-images\] (  |done|imported)|\[build-image\] built /.test(l)).join('\n'));
    const vars = Object.fromEntries(r.stdout.split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
    for (const k of ['DECRED_IMAGE', 'DCRVOTED_IMAGE', 'PROMETHEUS_IMAGE', 'ALERTMANAGER_IMAGE', 'COMPOSE']) {
      if (!vars[k]) throw new Error(`scripts/compose-local-images.sh printed no ${k}=…:\n${r.stdout}`);
    }
    compose = vars.COMPOSE!.split(' ');
    env = {
      ...process.env,
      DECRED_IMAGE: vars.DECRED_IMAGE,
      DCRVOTED_IMAGE: vars.DCRVOTED_IMAGE,
      PROMETHEUS_IMAGE: vars.PROMETHEUS_IMAGE,
      ALERTMANAGER_IMAGE: vars.ALERTMANAGER_IMAGE,
      DCR_NETWORK: 'simnet',
    };
    console.log(`[compose] images: ${['DECRED_IMAGE', 'DCRVOTED_IMAGE', 'PROMETHEUS_IMAGE', 'ALERTMANAGER_IMAGE'].map((k) => `${k}=${vars[k]}`).join(' ')}; CLI: ${vars.COMPOSE}`);
    mark('images (scripts/compose-local-images.sh)', t);

    staged = await stageDeploy();
    // A stack left by a crashed run of this test holds the ports: remove it.
    await dc(['down', '-v', '--remove-orphans'], 2 * MINUTE);
    const busy: string[] = [];
    for (const [name, port] of Object.entries(PORTS)) if (!(await portFree(port))) busy.push(`${name} 127.0.0.1:${port}`);
    if (busy.length) throw new Error(`the compose stack needs these loopback ports, which are in use: ${busy.join(', ')}`);
  }, 30 * MINUTE);

  afterAll(async () => {
    if (!staged || compose.length === 0) return;
    if (!passed) {
      const logs = await dc(['logs', '--no-color', '--tail=40'], MINUTE);
      console.log(`[compose] logs of the failed run (last 40 lines per service):\n${logs.stdout}${logs.stderr}`);
    }
    const t = Date.now();
    const down = await dc(['down', '-v', '--remove-orphans'], 3 * MINUTE);
    if (down.code !== 0) console.log(`[compose] down failed (${down.code}): ${down.stderr}`);
    mark('down -v', t);
    rmSync(staged.dir, { recursive: true, force: true });
    console.log(`[compose] total ${((Date.now() - t0) / 1000).toFixed(1)} s: ${timings.join('; ')}`);
  }, 5 * MINUTE);

  it('comes up ready, mines on demand, is scraped, delivers alerts, and alerts on a stopped wallet', async () => {
    const s = staged!;
    let t = Date.now();
    await mustDc(['up', '-d', '--no-build'], 5 * MINUTE);
    mark('up -d', t);

    // 1. Ready: wallet created from the seed, unlocked by dcrvoted, voting, synced.
    t = Date.now();
    await waitFor('dcrvoted /readyz 200', async () => (await status(`${DCRVOTED}/readyz`)) === 200, 2 * MINUTE);
    mark('/readyz 200', t);
    const created = await dc(['logs', '--no-color', 'dcrwallet']);
    expect(created.stdout).toMatch(/creating it from the wallet-seed secret/);
    expect(created.stdout).toMatch(/Mining address for the SLIP0044 coin type: SsaUTdD3caDC5W5EZ1CgN7MbYKQooYzg5em/);
    expect(created.stdout, 'the seed is never logged').not.toMatch(/8d86bf7df0c718b9208a87283e50a517/);

    // 2. Mining on demand: dcrd's generate pays the wallet's mining address.
    t = Date.now();
    const dcrdId = (await mustDc(['ps', '-q', 'dcrd'])).stdout.trim();
    const ca = await sh('docker', ['exec', dcrdId, 'cat', '/certs/dcrd/rpc.cert']);
    expect(ca.code, ca.stderr).toBe(0);
    const hashes = (await dcrdRpc(ca.stdout, s.dcrdUser, s.dcrdPassword, 'generate', [2])) as string[];
    expect(hashes).toHaveLength(2);
    await waitFor(
      'the wallet at height 2 in /status',
      async () => {
        const st = await getJson<{ ready: boolean; wallets: { bestBlock: { height: number } | null }[] }>(`${DCRVOTED}/status`);
        return st.ready && (st.wallets[0]?.bestBlock?.height ?? -1) >= 2;
      },
      MINUTE,
    );
    mark('generate 2, wallet synced', t);

    // 3. Prometheus scrapes dcrvoted and talks to Alertmanager.
    t = Date.now();
    await waitFor(
      'Prometheus target job=dcrvoted up',
      async () => {
        const r = await getJson<{ data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] } }>(`${PROMETHEUS}/api/v1/targets`);
        const target = r.data.activeTargets.find((x) => x.labels.job === 'dcrvoted');
        if (target && target.health !== 'up' && target.lastError) throw new Error(`target ${target.health}: ${target.lastError}`);
        return target?.health === 'up';
      },
      MINUTE,
    );
    const walletUp = (want: string) => async () => {
      const r = await getJson<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(`${PROMETHEUS}/api/v1/query?query=dcrvoted_wallet_up`);
      const v = r.data.result.find((x) => x.metric.wallet === 'wallet1');
      return v?.value[1] === want ? v : null;
    };
    const up = await waitFor('dcrvoted_wallet_up{wallet="wallet1"} = 1 in Prometheus', walletUp('1'), MINUTE);
    expect(up.metric).toMatchObject({ job: 'dcrvoted', network: 'simnet', instance: `127.0.0.1:${PORTS.dcrvoted}` });
    mark('scraped (targets up, dcrvoted_wallet_up 1)', t);

    t = Date.now();
    // Prometheus discovers its Alertmanagers apart from its scrape targets: a target up says nothing about them.
    const ams = await waitFor(
      'Prometheus to list Alertmanager',
      async () => {
        const r = await getJson<{ data: { activeAlertmanagers: { url: string }[] } }>(`${PROMETHEUS}/api/v1/alertmanagers`);
        return r.data.activeAlertmanagers.length > 0 ? r : null;
      },
      MINUTE,
    );
    expect(ams.data.activeAlertmanagers.map((a) => a.url)).toContain(`${ALERTMANAGER}/api/v2/alerts`);
    await waitFor(
      'DcrvotedComposeWatchdog in Alertmanager',
      async () => {
        const alerts = await getJson<{ labels: Record<string, string> }[]>(`${ALERTMANAGER}/api/v2/alerts`);
        return alerts.some((a) => a.labels.alertname === 'DcrvotedComposeWatchdog');
      },
      MINUTE,
    );
    mark('Alertmanager reachable and receiving (watchdog alert)', t);

    // 4. One alert path: the wallet goes away.
    t = Date.now();
    await mustDc(['stop', 'dcrwallet'], 2 * MINUTE);
    await waitFor('dcrvoted /readyz 503', async () => (await status(`${DCRVOTED}/readyz`)) === 503, MINUTE);
    await waitFor('dcrvoted_wallet_up{wallet="wallet1"} = 0 in Prometheus', walletUp('0'), MINUTE);
    const alert = await waitFor(
      'DcrvotedWalletUnreachable pending or firing in Prometheus',
      async () => {
        const r = await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(`${PROMETHEUS}/api/v1/alerts`);
        return r.data.alerts.find((a) => a.labels.alertname === 'DcrvotedWalletUnreachable' && ['pending', 'firing'].includes(a.state)) ?? null;
      },
      MINUTE,
    );
    expect(alert.labels).toMatchObject({ wallet: 'wallet1', severity: 'critical' });
    mark(`wallet stopped -> DcrvotedWalletUnreachable ${alert.state}`, t);

    // 5. The wallet comes back (second start: no creation, passphrase on stdin unused).
    t = Date.now();
    await mustDc(['start', 'dcrwallet'], 2 * MINUTE);
    await waitFor('dcrvoted /readyz 200 again', async () => (await status(`${DCRVOTED}/readyz`)) === 200, 2 * MINUTE);
    mark('wallet started -> /readyz 200 again', t);
    passed = true;
  }, 10 * MINUTE);
});
