/**
 * The container image against a real simnet: built by scripts/build-image.sh
 * (or DCRVOTED_IMAGE=<tag> to test an image built elsewhere), run with
 * testcontainers on the host network with the production layout of
 * docs/container.md — config in /etc/dcrvoted (read-only), secrets in
 * /run/secrets (CREDENTIALS_DIRECTORY), ledger in /var/lib/dcrvoted — until
 * it has recorded a vote of ours; then stopped with SIGTERM.
 *
 * Skipped only when no Docker engine answers (the process backend case).
 */
import { chownSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mineUntil, waitFor, writeConfig } from './dcrvoted.js';
import { dockerAvailable } from './harness/backends.js';
import { freeLoopbackPort, ROOT, sh } from './shell.js';
import { startSimnet, type Simnet } from './harness/index.js';

const MINUTE = 60_000;
const IMAGE_UID = 10001;

const hasDocker = await dockerAvailable();
if (!hasDocker) {
  console.log('[image] SKIPPED: no Docker engine answers `docker info`, so the dcrvoted image cannot be built or run (the simnet uses the process backend). Run as root so scripts/start-docker.sh can start dockerd, or start it yourself.');
}

interface Status {
  ready: boolean;
  votes: { voted: number; missed: number; byReason: Record<string, number> };
}

/** Builds the image with the CI script (or takes DCRVOTED_IMAGE); prints time and size. */
async function imageUnderTest(): Promise<string> {
  const given = process.env.DCRVOTED_IMAGE;
  let image: string;
  if (given) {
    image = given;
    console.log(`[image] using DCRVOTED_IMAGE=${image} (not built here)`);
  } else {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    image = `dcrvoted:${version}`;
    const t0 = Date.now();
    const r = await sh('bash', ['scripts/build-image.sh'], { timeoutMs: 25 * MINUTE });
    const out = `${r.stdout}${r.stderr}`;
    if (r.code !== 0) throw new Error(`scripts/build-image.sh exited ${r.code}:\n${out.split('\n').slice(-60).join('\n')}`);
    const timings = out.split('\n').filter((l) => /\[build-image\] (step |built |base: |  )/.test(l));
    console.log(timings.join('\n'));
    console.log(`[image] build: ${((Date.now() - t0) / 1000).toFixed(1)} s (scripts/build-image.sh)`);
  }
  const inspect = await sh('docker', ['image', 'inspect', '-f', '{{.Size}} {{.Id}}', image]);
  if (inspect.code !== 0) throw new Error(`image ${image} not found: ${inspect.stderr.trim()}`);
  const [size, id] = inspect.stdout.trim().split(' ');
  console.log(`[image] ${image} ${id!.slice(7, 19)}: ${(Number(size) / 1e6).toFixed(0)} MB`);
  return image;
}

/**
 * The layout of docs/container.md under one temp dir: etc/ (-> /etc/dcrvoted,
 * read-only: config and certificates), secrets/ (-> /run/secrets, read-only),
 * state/ (-> /var/lib/dcrvoted). Files are owned by the image's user when we
 * are root, as an operator would do; otherwise they are made world-readable.
 */
function containerLayout(sim: Simnet, httpPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-image-'));
  const etc = join(dir, 'etc');
  const secrets = join(dir, 'secrets');
  const state = join(dir, 'state');
  for (const d of [etc, secrets, state]) mkdirSync(d);
  // writeConfig puts the secrets (bare names) next to the config it writes.
  const hostConfig = writeConfig(sim, { httpPort, clientKeyPath: 'client-key' }, secrets);
  const config = parse(readFileSync(hostConfig, 'utf8')) as Record<string, any>;
  rmSync(hostConfig);
  copyFileSync(sim.ours.clientKeyPath, join(secrets, 'client-key'));
  copyFileSync(sim.dcrd.caCertPath, join(etc, 'dcrd-rpc.cert'));
  copyFileSync(sim.ours.caCertPath, join(etc, 'dcrwallet-rpc.cert'));
  copyFileSync(sim.ours.clientCertPath, join(etc, 'dcrvoted-client.pem'));
  config.stateDir = '/var/lib/dcrvoted';
  config.dcrd.caCert = '/etc/dcrvoted/dcrd-rpc.cert';
  config.wallets[0].caCert = '/etc/dcrvoted/dcrwallet-rpc.cert';
  config.wallets[0].clientCert = '/etc/dcrvoted/dcrvoted-client.pem';
  config.log = { level: 'debug', format: 'json' };
  writeFileSync(join(etc, 'dcrvoted.yaml'), stringify(config));

  const root = process.getuid?.() === 0;
  for (const f of ['dcrd-password', 'wallet-passphrase', 'wallet-jsonrpc-password', 'client-key']) {
    const p = join(secrets, f);
    if (root) {
      chownSync(p, IMAGE_UID, IMAGE_UID);
      chmodSync(p, 0o400);
    } else chmodSync(p, 0o444);
  }
  for (const f of ['dcrvoted.yaml', 'dcrd-rpc.cert', 'dcrwallet-rpc.cert', 'dcrvoted-client.pem']) chmodSync(join(etc, f), 0o444);
  chmodSync(etc, 0o755);
  if (root) {
    chmodSync(secrets, 0o500);
    chownSync(secrets, IMAGE_UID, IMAGE_UID);
    chownSync(state, IMAGE_UID, IMAGE_UID);
    chmodSync(state, 0o700);
  } else {
    chmodSync(secrets, 0o555);
    chmodSync(state, 0o777);
  }
  const secretValues = [sim.dcrd.password, sim.ours.passphrase, sim.ours.rpcPassword, ...pemBodyLines(readFileSync(sim.ours.clientKeyPath, 'utf8'))];
  return { dir, etc, secrets, state, secretValues };
}

function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
}

describe.skipIf(!hasDocker)('container image on a real simnet', () => {
  let sim: Simnet;
  let image: string;
  let layout: ReturnType<typeof containerLayout>;
  let container: StartedTestContainer | null = null;
  let containerId = '';

  beforeAll(async () => {
    image = await imageUnderTest();
    sim = await startSimnet({ ourWallet: { managed: false } });
    console.log(`[image] simnet up in ${(sim.bringUpMs / 1000).toFixed(1)} s, backend=${sim.backend}, ${sim.fromSnapshot ? 'from snapshot' : 'cold'}`);
  }, 30 * MINUTE);

  afterAll(async () => {
    if (containerId) await sh('docker', ['rm', '-f', containerId]);
    await sim?.stop();
    if (layout) rmSync(layout.dir, { recursive: true, force: true });
  }, 2 * MINUTE);

  it('runs as the image user, turns healthy and ready, records a vote of ours, logs JSON without secrets and exits 0 on SIGTERM', async () => {
    const meta = JSON.parse((await sh('docker', ['image', 'inspect', '-f', '{{json .Config}}', image])).stdout) as {
      Healthcheck?: { Test: string[] };
      User: string;
    };
    expect(meta.User).toBe(`${IMAGE_UID}:${IMAGE_UID}`);
    const hc = meta.Healthcheck?.Test ?? [];
    expect(hc[0], 'the image has a HEALTHCHECK').toBe('CMD');

    const port = await freeLoopbackPort();
    layout = containerLayout(sim, port);
    const url = `http://127.0.0.1:${port}`;

    // The image's own HEALTHCHECK command, run every second instead of every
    // 30 s so the test need not wait half a minute for the first check.
    const t0 = Date.now();
    container = await new GenericContainer(image)
      .withNetworkMode('host')
      .withEnvironment({ DCRVOTED_HEALTHCHECK_URL: `${url}/healthz` })
      .withBindMounts([
        { source: layout.etc, target: '/etc/dcrvoted', mode: 'ro' },
        { source: layout.secrets, target: '/run/secrets', mode: 'ro' },
        { source: layout.state, target: '/var/lib/dcrvoted', mode: 'rw' },
      ])
      .withHealthCheck({ test: hc as ['CMD', ...string[]], interval: 1000, timeout: 5000, retries: 3, startPeriod: 1000 })
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(60_000)
      .withLabels({ 'dcrvoted.test': 'image' })
      .start();
    containerId = container.getId();
    console.log(`[image] container ${containerId.slice(0, 12)} healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const env = (await sh('docker', ['inspect', '-f', '{{json .Config.Env}}', containerId])).stdout;
    expect(env).toContain('CREDENTIALS_DIRECTORY=/run/secrets');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await waitFor('/readyz 200', async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 60_000, 200);
    console.log(`[image] /readyz 200 after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const status = async () => (await (await fetch(`${url}/status`)).json()) as Status;
    const blocks = await mineUntil(sim, async () => (await status()).votes.voted > 0, 40);
    const st = await status();
    console.log(`[image] voted=${st.votes.voted} missed=${st.votes.missed} after mining ${blocks} block(s)`);
    expect(st.votes.voted).toBeGreaterThan(0);
    expect(st.votes.missed).toBe(0);

    const tStop = Date.now();
    await container.stop({ timeout: 5000, remove: false }); // SIGTERM (STOPSIGNAL), SIGKILL after 5 s
    const stopMs = Date.now() - tStop;
    const state = JSON.parse((await sh('docker', ['inspect', '-f', '{{json .State}}', containerId])).stdout) as { ExitCode: number; OOMKilled: boolean };
    console.log(`[image] SIGTERM -> exit ${state.ExitCode} in ${(stopMs / 1000).toFixed(1)} s`);
    // Exit 0 means the daemon stopped by itself: docker's SIGKILL after 5 s
    // would have left 137. (npm run bench times SIGTERM to exit.)
    expect(state.ExitCode).toBe(0);
    expect(state.OOMKilled).toBe(false);

    // Logs: every stdout line is a JSON log record; nothing secret anywhere.
    const logs = await sh('docker', ['logs', containerId]);
    const lines = logs.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      let rec: { level?: unknown; time?: unknown; msg?: unknown };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        throw new Error(`container stdout line is not JSON: ${line.slice(0, 200)}`);
      }
      expect(typeof rec.level, line).not.toBe('undefined');
      expect(typeof rec.time, line).not.toBe('undefined');
    }
    expect(logs.stdout).toMatch(/"event":"stopped"/);
    for (const secret of layout.secretValues) {
      expect(logs.stdout.includes(secret), 'a secret in stdout').toBe(false);
      expect(logs.stderr.includes(secret), 'a secret in stderr').toBe(false);
    }
    console.log(`[image] ${lines.length} JSON log lines on stdout, ${logs.stderr.trim() ? logs.stderr.trim().split('\n').length : 0} on stderr, no secrets`);

    // The ledger went to the mounted state dir (readable here when we are
    // root; otherwise it is private to the image's user).
    if (process.getuid?.() === 0) expect(readFileSync(join(layout.state, 'ledger.jsonl'), 'utf8')).toMatch(/"voted"/);
  }, 10 * MINUTE);
});
