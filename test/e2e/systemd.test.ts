/**
 * systemd/dcrvoted.service under a real systemd (PID 1 of a container built by
 * scripts/build-systemd-image.sh: Debian minbase + systemd, no registry).
 *
 * The unit, sysusers and tmpfiles files are installed unchanged, the way
 * docs/operations.md sections 5-8 say; Node.js 24 is mounted as /usr/bin/node
 * and the compiled checkout as /opt/dcrvoted. The peers are the in-process
 * fakes (fake dcrd + fake wallet over real TLS on 127.0.0.1); the container
 * shares the host network, so the daemon reaches them and the test reaches
 * its HTTP port.
 *
 * Proven here: Type=notify (systemctl start returns after READY=1, HTTP is
 * already up), the STATUS= line, MAINPID tracking, the dcrvoted user and the
 * sandbox actually applied (no capabilities, no_new_privs, seccomp, private
 * user namespace), LoadCredential= + $CREDENTIALS_DIRECTORY with bare names in
 * the config, StateDirectory= holding the ledger, the watchdog (WATCHDOG=1
 * pings advance systemd's timestamp; a frozen process is killed with SIGABRT
 * and restarted), a clean and fast `systemctl stop`, and no restart loop on
 * exit 78.
 *
 * Skipped only when no Docker engine answers.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DCRD_PASSWORD, JSONRPC_PASSWORD, WALLET_PASSPHRASE, startFakePeers, waitFor, type FakePeers } from '../support/daemon-under-test.js';
import { dockerAvailable } from './harness/backends.js';
import { freeLoopbackPort, ROOT, sh } from './shell.js';

const MINUTE = 60_000;
const UNIT = 'dcrvoted.service';
const CREDENTIALS = ['dcrd-password', 'wallet-passphrase', 'wallet-jsonrpc-password', 'client-key'] as const;
/** Test-only drop-in: a short watchdog, and no core file when it fires. */
const WATCHDOG_SEC = 4;

const hasDocker = await dockerAvailable();
if (!hasDocker) {
  console.log('[systemd] SKIPPED: no Docker engine answers `docker info`, so systemd cannot be booted in a container to run dcrvoted.service. Run as root so scripts/start-docker.sh can start dockerd, or start it yourself.');
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** A `systemctl show --timestamp=us+utc` value ("Sun 2026-01-04 10:11:12.123456 UTC") in ms since the epoch. */
const timestampMs = (s: string | undefined): number => {
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? UTC/.exec(s ?? '');
  if (!m) throw new Error(`not a UTC timestamp: ${s}`);
  return Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '.0').slice(0, 4)}Z`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** dist/ compiled from src/ into a temporary directory (the tree is left alone). */
async function buildDist(dir: string): Promise<string> {
  const out = join(dir, 'dist');
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { outDir: out, rootDir: ROOT, typeRoots: [join(ROOT, 'node_modules/@types')], incremental: false },
      include: [join(ROOT, 'src/**/*.ts')],
      exclude: [],
    }),
  );
  const r = await sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { timeoutMs: 5 * MINUTE });
  if (r.code !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/**
 * What an operator puts in /etc/dcrvoted: the config (secrets named by bare
 * credential names, no stateDir: the default is the unit's StateDirectory),
 * certificates, and the secret files for /etc/dcrvoted/credentials.
 */
function stage(dir: string, peers: FakePeers, httpPort: number): string {
  const staging = join(dir, 'staging');
  const etc = join(staging, 'etc');
  const creds = join(staging, 'credentials');
  mkdirSync(etc, { recursive: true });
  mkdirSync(creds);
  const config = parse(readFileSync(peers.configFile, 'utf8')) as Record<string, any>;
  delete config.stateDir;
  config.log = { level: 'info', format: 'json' };
  config.http = { listen: `127.0.0.1:${httpPort}` };
  config.dcrd.caCert = '/etc/dcrvoted/dcrd-rpc.cert';
  config.dcrd.passwordFile = 'dcrd-password';
  const w = config.wallets[0];
  w.caCert = '/etc/dcrvoted/dcrwallet-rpc.cert';
  w.clientCert = '/etc/dcrvoted/dcrvoted-client.pem';
  w.clientKey = 'client-key';
  w.passphraseFile = 'wallet-passphrase';
  w.jsonrpc.passwordFile = 'wallet-jsonrpc-password';
  writeFileSync(join(etc, 'dcrvoted.yaml'), stringify(config));
  writeFileSync(join(etc, 'dcrd-rpc.cert'), peers.dcrd.caCert);
  writeFileSync(join(etc, 'dcrwallet-rpc.cert'), peers.pki.serverCa.cert);
  writeFileSync(join(etc, 'dcrvoted-client.pem'), peers.pki.client.cert);
  writeFileSync(join(creds, 'dcrd-password'), DCRD_PASSWORD + '\n');
  writeFileSync(join(creds, 'wallet-passphrase'), WALLET_PASSPHRASE + '\n');
  writeFileSync(join(creds, 'wallet-jsonrpc-password'), JSONRPC_PASSWORD + '\n');
  writeFileSync(join(creds, 'client-key'), peers.pki.client.key);
  return staging;
}

/** docs/operations.md section 5 and 6, as root inside the container. */
const INSTALL = `set -e
install -D -m 0644 /src/systemd/dcrvoted.sysusers.conf /etc/sysusers.d/dcrvoted.conf
install -D -m 0644 /src/systemd/dcrvoted.tmpfiles.conf /etc/tmpfiles.d/dcrvoted.conf
systemd-sysusers
systemd-tmpfiles --create /etc/tmpfiles.d/dcrvoted.conf
install -m 0644 /src/systemd/dcrvoted.service /etc/systemd/system/dcrvoted.service
systemctl daemon-reload
install -m 0644 /staging/etc/* /etc/dcrvoted/
(umask 077; cp /staging/credentials/* /etc/dcrvoted/credentials/)
chmod 0600 /etc/dcrvoted/credentials/*
`;

describe.skipIf(!hasDocker)('dcrvoted.service under a real systemd', () => {
  const tAll = Date.now();
  let dir = '';
  let peers: FakePeers | null = null;
  let container = '';
  let containerName = '';
  let url = '';

  const exec = (script: string, timeoutMs = 60_000) => sh('docker', ['exec', container, 'bash', '-c', script], { timeoutMs });
  const ok = async (script: string, timeoutMs?: number) => {
    const r = await exec(script, timeoutMs);
    if (r.code !== 0) throw new Error(`in the container, \`${script}\` exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const show = async (...props: string[]): Promise<Record<string, string>> => {
    const out = await ok(`systemctl show --timestamp=us+utc -p ${props.join(',')} ${UNIT}`);
    const rec: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) rec[line.slice(0, i)] = line.slice(i + 1);
    }
    return rec;
  };
  const mainPid = async () => Number((await show('MainPID')).MainPID);
  const journal = (args = '') => ok(`journalctl --no-pager -o cat -u ${UNIT} ${args}`);
  /** Runs a command in the container and reports its exit code and duration (measured inside). */
  const timed = async (cmd: string, timeoutMs?: number) => {
    const out = await ok(`t0=$(date +%s%N); ${cmd} >/tmp/timed.out 2>&1; rc=$?; t1=$(date +%s%N); echo "$rc $(( (t1 - t0) / 1000000 ))"; cat /tmp/timed.out >&2`, timeoutMs);
    const [rc, ms] = out.trim().split(' ').map(Number);
    return { rc: rc!, ms: ms! };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcrvoted-systemd-'));
    const t0 = Date.now();
    const [image, dist] = await Promise.all([
      (async () => {
        const r = await sh('bash', ['scripts/build-systemd-image.sh'], { timeoutMs: 10 * MINUTE });
        const out = `${r.stdout}${r.stderr}`;
        if (r.code !== 0) throw new Error(`scripts/build-systemd-image.sh exited ${r.code}:\n${out.split('\n').slice(-40).join('\n')}`);
        console.log(out.split('\n').filter((l) => l.startsWith('[systemd-image]')).join('\n'));
        const image = /^image=(.+)$/m.exec(r.stdout)?.[1];
        const node = /^node=(.+)$/m.exec(r.stdout)?.[1];
        if (!image || !node) throw new Error(`scripts/build-systemd-image.sh printed no image=/node= lines:\n${out}`);
        console.log(`[systemd] image ready in ${secs(Date.now() - t0)}`);
        return { image, node };
      })(),
      (async () => {
        const t = Date.now();
        const d = await buildDist(dir);
        console.log(`[systemd] dist/ compiled in ${secs(Date.now() - t)}`);
        return d;
      })(),
    ]);

    peers = await startFakePeers();
    const port = await freeLoopbackPort();
    url = `http://127.0.0.1:${port}`;
    const staging = stage(dir, peers, port);

    // systemd needs mounts, namespaces and seccomp of its own inside the
    // container, but not the whole host: a few capabilities on top of
    // Docker's default set, no seccomp/AppArmor profile (the unit installs
    // its own seccomp filter; KeyringMode= needs keyctl), an unmasked /proc
    // (the unit's ProtectKernel*= remount parts of it) and its own cgroup
    // subtree to manage. The host network, so loopback peers are reachable;
    // the units that could touch the host kernel are masked in the image.
    const cgroupVersion = (await sh('docker', ['info', '--format', '{{.CgroupVersion}}'])).stdout.trim();
    const cgroupArgs = cgroupVersion === '1' ? ['--cgroupns', 'host', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw'] : ['--cgroupns', 'private'];
    const name = (containerName = `dcrvoted-systemd-${process.pid}-${Date.now().toString(36)}`);
    const tBoot = Date.now();
    const run = await sh('docker', [
      'run', '-d', '--name', name, '--label', 'dcrvoted.test=systemd', '--network', 'host',
      '--cap-add', 'SYS_ADMIN', '--cap-add', 'SYS_PTRACE', '--cap-add', 'DAC_READ_SEARCH',
      '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined',
      ...cgroupArgs,
      '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp',
      '-v', `${image.node}:/usr/bin/node:ro`,
      '-v', `${dist}:/opt/dcrvoted/dist:ro`,
      '-v', `${join(ROOT, 'node_modules')}:/opt/dcrvoted/node_modules:ro`,
      '-v', `${join(ROOT, 'package.json')}:/opt/dcrvoted/package.json:ro`,
      '-v', `${join(ROOT, 'proto')}:/opt/dcrvoted/proto:ro`,
      '-v', `${join(ROOT, 'systemd')}:/src/systemd:ro`,
      '-v', `${staging}:/staging:ro`,
      image.image,
    ]);
    if (run.code !== 0) throw new Error(`docker run ${image.image} failed (cgroup v${cgroupVersion}): ${run.stderr.trim()}`);
    container = run.stdout.trim();
    // Until PID 1 has opened its socket, systemctl cannot connect at all.
    const state = await waitFor(
      'systemd to answer',
      async () => {
        const r = await exec('systemctl is-system-running --wait', MINUTE);
        return /Failed to connect/.test(r.stderr) ? null : r;
      },
      30_000,
      100,
    );
    if (!['running', 'degraded'].includes(state.stdout.trim())) {
      const logs = await exec('journalctl -b --no-pager -o short-monotonic | tail -n 60');
      throw new Error(`systemd did not finish booting (is-system-running: ${state.stdout.trim() || state.stderr.trim()}):\n${logs.stdout}`);
    }
    if (state.stdout.trim() === 'degraded') console.log(`[systemd] booted degraded:\n${(await exec('systemctl --failed --no-pager')).stdout}`);
    console.log(`[systemd] ${(await ok('systemctl --version')).split('\n')[0]} booted in ${secs(Date.now() - tBoot)} (container ${container.slice(0, 12)}, cgroup v${cgroupVersion}); setup ${secs(Date.now() - t0)}`);
    await ok(INSTALL);
  }, 15 * MINUTE);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && container) {
      const r = await exec(`systemctl status --no-pager -l ${UNIT}; journalctl --no-pager -o short-monotonic -u ${UNIT} | tail -n 60`);
      console.log(`[systemd] after the failure:\n${r.stdout}${r.stderr}`);
    }
  });

  afterAll(async () => {
    // By name: a container whose start failed exists but has no id here.
    if (containerName) await sh('docker', ['rm', '-f', '-v', containerName]);
    if (peers) {
      await peers.wallet.stop();
      await peers.dcrd.dispose();
      peers.pki.cleanup();
      rmSync(peers.dir, { recursive: true, force: true });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`[systemd] whole file: ${secs(Date.now() - tAll)}`);
  }, 2 * MINUTE);

  it('installs as documented: the unit unchanged, the dcrvoted system user, root-only credentials, a private state directory', async () => {
    await ok(`cmp /src/systemd/dcrvoted.service /etc/systemd/system/${UNIT}`);
    expect(await ok('systemd-analyze verify /etc/systemd/system/dcrvoted.service 2>&1; echo verified')).toBe('verified\n');
    const passwd = (await ok('getent passwd dcrvoted')).trim().split(':');
    expect(Number(passwd[2])).toBeLessThan(1000); // a system user
    expect(passwd[6]).toBe('/usr/sbin/nologin');
    expect((await ok('stat -c "%a %U" /etc/dcrvoted /etc/dcrvoted/credentials /var/lib/dcrvoted')).trim().split('\n')).toEqual([
      '755 root',
      '700 root',
      '700 dcrvoted',
    ]);
    // The loaded unit rates the same as CI's offline check (.ci/kit-checks.sh).
    const security = await ok(`systemd-analyze security --no-pager ${UNIT} | tail -n 1`);
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security)?.[1]);
    console.log(`[systemd] ${security.trim()}`);
    expect(exposure).toBeLessThanOrEqual(2.0);
    // The service user cannot read the secrets where they are kept.
    expect((await exec('runuser -u dcrvoted -- cat /etc/dcrvoted/credentials/dcrd-password')).code).not.toBe(0);
  });

  it('checks the config as the service will see it with the command of docs/operations.md section 7', async () => {
    // The documented `sudo systemd-run --pty ...` command, with --pipe (no terminal here).
    const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const block = /^sudo systemd-run [^\n]*(?:\\\n[^\n]*)*check-config[^\n]*$/m.exec(docs)?.[0];
    expect(block, 'docs/operations.md has a `sudo systemd-run ... check-config` command').toBeTruthy();
    const cmd = block!.replace(/^sudo /, '').replace(' --pty ', ' --pipe ');
    const r = await exec(cmd, MINUTE);
    expect(r.code, `${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('wallet-passphrase');
    expect(r.stderr).toContain('configuration OK');
    for (const s of [DCRD_PASSWORD, WALLET_PASSPHRASE, JSONRPC_PASSWORD]) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it('systemctl start returns only once READY=1 arrived: active (running), HTTP already up, the STATUS line set', async () => {
    const { rc, ms } = await timed(`systemctl start ${UNIT}`, 2 * MINUTE);
    // No retry: with Type=notify the HTTP server is listening before READY=1.
    const health = await fetch(`${url}/healthz`);
    console.log(`[systemd] systemctl start: exit ${rc} after ${ms} ms`);
    expect(rc).toBe(0);
    expect(health.status).toBe(200);
    const p = await show('Type', 'NotifyAccess', 'ActiveState', 'SubState', 'StatusText', 'MainPID', 'ExecMainStartTimestamp', 'ActiveEnterTimestamp', 'InvocationID');
    expect(p).toMatchObject({ Type: 'notify', NotifyAccess: 'all', ActiveState: 'active', SubState: 'running' });
    expect(p.StatusText).toMatch(/^\d+\/1 wallet\(s\) ready, dcrd (connected|DISCONNECTED)/);
    // MAINPID stayed the node process, not a short-lived systemd-notify helper.
    const pid = Number(p.MainPID);
    expect(await ok(`readlink /proc/${pid}/exe`)).toBe('/usr/bin/node\n');
    // systemd entered "active" after the daemon logged `started` (which it
    // does once listening): the start waited for READY=1.
    // The line goes to journald through the stdout stream, READY=1 to systemd through the notify socket: the journal may not have it yet.
    const startedLine = await waitFor('the started line in the journal', async () => (await ok(`journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=${p.InvocationID} | grep '"event":"started"'`)).trim(), 15_000, 200);
    const startedAt = Date.parse((JSON.parse(startedLine) as { time: string }).time);
    const activeAt = timestampMs(p.ActiveEnterTimestamp);
    const forkedAt = timestampMs(p.ExecMainStartTimestamp);
    console.log(`[systemd] exec -> started logged: ${startedAt - forkedAt} ms; started -> active: ${activeAt - startedAt} ms`);
    expect(startedAt).toBeGreaterThanOrEqual(forkedAt);
    expect(activeAt).toBeGreaterThanOrEqual(startedAt);
  });

  it('answers /readyz 200 from the host, and the STATUS line follows the daemon', async () => {
    const t0 = Date.now();
    await waitFor('/readyz 200', async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 30_000, 200);
    console.log(`[systemd] /readyz 200 after ${secs(Date.now() - t0)}`);
    // The status line is refreshed every 5 s.
    // prom-client reads /proc/self; ProcSubset=pid hides the rest of /proc.
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^dcrvoted_\w+/m);
    await waitFor('StatusText "1/1 wallet(s) ready, dcrd connected"', async () => /^1\/1 wallet\(s\) ready, dcrd connected(, height \d+)?$/.test((await show('StatusText')).StatusText ?? ''), 15_000, 500);
  });

  it('runs as dcrvoted with the sandbox applied: no capabilities, no_new_privs, seccomp, own user and mount namespaces', async () => {
    const pid = await mainPid();
    const uid = (await ok('id -u dcrvoted')).trim();
    const status = await ok(`cat /proc/${pid}/status`);
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
    expect(field('Uid')!.split(/\s+/)).toEqual([uid, uid, uid, uid]);
    expect(field('CapEff')).toBe('0000000000000000');
    expect(field('CapBnd')).toBe('0000000000000000');
    expect(field('NoNewPrivs')).toBe('1');
    expect(field('Seccomp')).toBe('2');
    // PrivateUsers=yes: only root and the service user are mapped.
    expect((await ok(`cat /proc/${pid}/uid_map`)).trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0 0 1', `${uid} ${uid} 1`]);
    const ns = await ok(`readlink /proc/1/ns/mnt /proc/${pid}/ns/mnt /proc/1/ns/user /proc/${pid}/ns/user`);
    const [mnt1, mntS, user1, userS] = ns.trim().split('\n');
    expect(mntS).not.toBe(mnt1);
    expect(userS).not.toBe(user1);
    // ProtectSystem=strict: only the state directory is writable for it.
    const mounts = await ok(`cat /proc/${pid}/mountinfo`);
    const optionsOf = (target: string) => mounts.split('\n').filter((l) => l.split(' ')[4] === target).map((l) => l.split(' ')[5]).pop();
    expect(optionsOf('/')).toMatch(/^ro\b/);
    expect(optionsOf('/var/lib/dcrvoted')).toMatch(/^rw\b/);
  });

  it('gets its secrets from LoadCredential= via $CREDENTIALS_DIRECTORY (the config names bare credential files)', async () => {
    const config = await ok('cat /etc/dcrvoted/dcrvoted.yaml');
    for (const name of ['dcrd-password', 'wallet-passphrase', 'wallet-jsonrpc-password', 'client-key']) expect(config).toMatch(new RegExp(`: ${name}$`, 'm'));
    const pid = await mainPid();
    const env = (await ok(`tr '\\0' '\\n' < /proc/${pid}/environ`)).split('\n');
    expect(env).toContain('CREDENTIALS_DIRECTORY=/run/credentials/dcrvoted.service');
    expect((await ok('ls /run/credentials/dcrvoted.service')).trim().split('\n').sort()).toEqual([...CREDENTIALS].sort());
    for (const name of CREDENTIALS) await ok(`cmp /etc/dcrvoted/credentials/${name} /run/credentials/dcrvoted.service/${name}`);
    // And they worked: dcrd accepted the password, the wallet the passphrase.
    const st = (await (await fetch(`${url}/status`)).json()) as { ready: boolean; dcrd: { connected: boolean } };
    expect(st.dcrd.connected).toBe(true);
    expect(st.ready).toBe(true);
    // No secret reached the journal.
    const logs = await journal();
    for (const s of [DCRD_PASSWORD, WALLET_PASSPHRASE, JSONRPC_PASSWORD, 'PRIVATE KEY']) expect(logs).not.toContain(s);
  });

  it('keeps the ledger in /var/lib/dcrvoted (StateDirectory=), owned by dcrvoted', async () => {
    expect((await ok('stat -c "%a %U %G" /var/lib/dcrvoted/ledger.jsonl')).trim()).toBe('600 dcrvoted dcrvoted');
    const started = (await journal(`_SYSTEMD_INVOCATION_ID=${(await show('InvocationID')).InvocationID}`)).split('\n').find((l) => l.includes('"event":"started"'));
    expect(JSON.parse(started!)).toMatchObject({ stateDir: '/var/lib/dcrvoted' });
  });

  it('arms the watchdog: pings every WatchdogSec/2, and a frozen daemon is killed with SIGABRT and restarted', async () => {
    const shipped = await show('WatchdogUSec');
    expect(shipped.WatchdogUSec).toBe('1min');
    const env = (await ok(`tr '\\0' '\\n' < /proc/${await mainPid()}/environ`)).split('\n');
    expect(env).toContain('WATCHDOG_USEC=60000000');

    // Test only: a short watchdog so the test need not wait a minute, no core file.
    await ok(`mkdir -p /etc/systemd/system/${UNIT}.d && printf '[Service]\\nWatchdogSec=${WATCHDOG_SEC}s\\nLimitCORE=0\\n' > /etc/systemd/system/${UNIT}.d/test-watchdog.conf && systemctl daemon-reload && systemctl restart ${UNIT}`, 2 * MINUTE);
    expect((await show('WatchdogUSec')).WatchdogUSec).toBe(`${WATCHDOG_SEC}s`);
    // WATCHDOG=1 arrives: systemd's watchdog timestamp keeps moving.
    const stamp = async () => Number((await ok(`systemctl show -p WatchdogTimestampMonotonic --value ${UNIT}`)).trim());
    const s1 = await stamp();
    await sleep(WATCHDOG_SEC * 1000);
    const s2 = await stamp();
    await sleep((WATCHDOG_SEC * 1000) / 2 + 500);
    const s3 = await stamp();
    console.log(`[systemd] watchdog pings seen ${((s2 - s1) / 1e6).toFixed(1)} s and ${((s3 - s2) / 1e6).toFixed(1)} s apart (WatchdogSec=${WATCHDOG_SEC}s)`);
    expect(s2).toBeGreaterThan(s1);
    expect(s3).toBeGreaterThan(s2);
    expect((await show('ActiveState')).ActiveState).toBe('active');

    // Freeze the process: the pings stop, systemd must act.
    const frozen = await mainPid();
    const before = await show('NRestarts', 'InvocationID');
    const t0 = Date.now();
    await ok(`kill -STOP ${frozen}`);
    await waitFor(
      'a restarted dcrvoted',
      async () => {
        const p = await show('NRestarts', 'ActiveState', 'SubState', 'MainPID');
        return Number(p.NRestarts) === Number(before.NRestarts) + 1 && p.ActiveState === 'active' && p.SubState === 'running' && Number(p.MainPID) !== frozen;
      },
      60_000,
      250,
    );
    console.log(`[systemd] frozen daemon replaced by a new one after ${secs(Date.now() - t0)} (WatchdogSec=${WATCHDOG_SEC}s, RestartSec=5s)`);
    const old = await ok(`journalctl --no-pager -o cat -u ${UNIT} INVOCATION_ID=${before.InvocationID} + _SYSTEMD_INVOCATION_ID=${before.InvocationID}`);
    expect(old).toContain(`Watchdog timeout (limit ${WATCHDOG_SEC}s)!`);
    // (the process name is node's main thread name)
    expect(old).toMatch(new RegExp(`Killing process ${frozen} \\(\\S+\\) with signal SIGABRT`));
    expect(old).toMatch(/Main process exited, code=(dumped|killed), status=6\/ABRT/);

    // Back to the shipped unit.
    await ok(`rm -r /etc/systemd/system/${UNIT}.d && systemctl daemon-reload && systemctl restart ${UNIT}`, 2 * MINUTE);
    expect((await show('WatchdogUSec')).WatchdogUSec).toBe('1min');
    await waitFor('/readyz 200 again', async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 30_000, 200);
  });

  it('stops cleanly: systemctl stop exits 0, the daemon exits 0 by itself, no notification failed', async () => {
    const invocation = (await show('InvocationID')).InvocationID;
    const { rc, ms } = await timed(`systemctl stop ${UNIT}`, MINUTE);
    console.log(`[systemd] systemctl stop: exit ${rc} after ${ms} ms`);
    // Result=success with status 0: the daemon exited before TimeoutStopSec
    // (a SIGKILL would leave Result=timeout). npm run bench times the stop.
    expect(rc).toBe(0);
    expect(await show('ActiveState', 'SubState', 'Result', 'ExecMainStatus')).toMatchObject({
      ActiveState: 'inactive',
      SubState: 'dead',
      Result: 'success',
      ExecMainStatus: '0',
    });
    // systemctl stop returns once the unit is dead; journald may still be reading the daemon's last lines (and systemd's).
    const logs = await waitFor(
      'the stop in the journal',
      async () => {
        const out = await ok(`journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=${invocation} + INVOCATION_ID=${invocation}`);
        return out.includes('"event":"stopped"') && out.includes('Deactivated successfully') ? out : null;
      },
      15_000,
      200,
    );
    expect(logs).toContain('"event":"signal"');
    expect(logs).toContain('"event":"stopped"');
    expect(logs).toContain('Deactivated successfully');
    // Exited with 0 itself: not killed by SIGTERM's default action or by SIGKILL after a timeout.
    expect(logs).not.toMatch(/code=killed|status=15|SIGKILL|timed out/);
    // READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 all reached systemd (the
    // daemon logs each failure), and nothing in the sandbox made it log an
    // error in any of the runs so far.
    const all = await journal();
    expect(all).not.toContain('sd_notify_failed');
    expect(all.split('\n').filter((l) => /"level":"(error|fatal)"/.test(l))).toEqual([]);
    expect((await fetch(`${url}/healthz`).catch(() => null))?.status).toBeUndefined();
  });

  it('does not restart-loop on a configuration error: exit 78 leaves the unit failed (RestartPreventExitStatus=78)', async () => {
    await ok(`cp /etc/dcrvoted/dcrvoted.yaml /tmp/good.yaml && sed -i 's/^network: .*/network: nosuchnet/' /etc/dcrvoted/dcrvoted.yaml`);
    try {
      const { rc } = await timed(`systemctl start ${UNIT}`, 2 * MINUTE);
      expect(rc).not.toBe(0);
      expect((await show('Restart')).Restart).toBe('always');
      // Longer than RestartSec=5s: a restart would have happened by now.
      await sleep(7000);
      expect(await show('ActiveState', 'SubState', 'Result', 'ExecMainStatus', 'NRestarts')).toMatchObject({
        ActiveState: 'failed',
        SubState: 'failed',
        Result: 'exit-code',
        ExecMainStatus: '78',
        NRestarts: '0',
      });
      const logs = await journal('-n 20');
      expect(logs).toContain('status=78/CONFIG');
      expect(logs).toContain('network');
      expect(logs.split('status=78/CONFIG').pop()).not.toContain('Scheduled restart job');
    } finally {
      await exec(`cp /tmp/good.yaml /etc/dcrvoted/dcrvoted.yaml; systemctl reset-failed ${UNIT}`);
    }
  });
});
