/**
 * Two ways to run the same node binaries: as child processes of the test
 * runner ("process") or as containers driven by testcontainers ("docker").
 *
 * Both backends see identical paths: the docker backend bind-mounts the run's
 * base directory at the same path inside the container and uses the host
 * network, so every flag, port and certificate path is valid for either.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeBinaries } from './binaries.js';
import { logMarker, sleep } from './util.js';

export type BackendKind = 'docker' | 'process';

export interface NodeSpec {
  /** dcrd | other | ours — used in log lines and container names. */
  name: string;
  binary: 'dcrd' | 'dcrwallet';
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
}

export interface NodeHandle {
  readonly spec: NodeSpec;
  /** Set once the node is known to have exited (process backend only learns it exactly). */
  exitReason(): string | undefined;
  /** Graceful stop (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface NodeRunner {
  readonly kind: BackendKind;
  start(spec: NodeSpec): Promise<NodeHandle>;
}

// ---------------------------------------------------------------- process --

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave nodes behind if the test runner dies without calling stop().
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

export class ProcessRunner implements NodeRunner {
  readonly kind = 'process' as const;
  constructor(private readonly bins: NodeBinaries) {}

  async start(spec: NodeSpec): Promise<NodeHandle> {
    installExitHook();
    logMarker(spec.logFile, `start ${spec.binary} ${spec.args.join(' ')}`);
    const fd = openSync(spec.logFile, 'a');
    const child = spawn(this.bins[spec.binary], spec.args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    liveChildren.add(child);
    let reason: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        reason = `exited with ${signal ?? `code ${code}`}`;
        liveChildren.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        reason = `failed to start: ${err.message}`;
        liveChildren.delete(child);
        resolve();
      });
    });
    return {
      spec,
      exitReason: () => reason,
      async stop(graceMs = 20_000) {
        if (reason !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        logMarker(spec.logFile, `stopped (${reason})`);
      },
    };
  }
}

// ----------------------------------------------------------------- docker --

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** True when a Docker engine answers `docker info` within a few seconds. */
export async function dockerAvailable(): Promise<boolean> {
  const { code } = await run('docker', ['info', '--format', '{{.ServerVersion}}'], 8_000);
  return code === 0;
}

/**
 * Builds (once per binary version) a scratch image holding just the two
 * static binaries plus the few files Go's runtime looks at, with
 * `tar | docker import`. No registry is involved.
 */
export async function ensureNodeImage(bins: NodeBinaries): Promise<string> {
  const image = `dcrvoted-simnet-nodes:${bins.key.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}`;
  if ((await run('docker', ['image', 'inspect', image], 15_000)).code === 0) return image;
  const rootfs = mkdtempSync(join(tmpdir(), 'dcrvoted-rootfs-'));
  try {
    for (const dir of ['usr/local/bin', 'etc', 'tmp', 'root']) mkdirSync(join(rootfs, dir), { recursive: true });
    copyFileSync(bins.dcrd, join(rootfs, 'usr/local/bin/dcrd'));
    copyFileSync(bins.dcrwallet, join(rootfs, 'usr/local/bin/dcrwallet'));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/local/bin/dcrd\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
    writeFileSync(join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n::1 localhost\n');
    writeFileSync(join(rootfs, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
      const tar = spawn('tar', ['-C', rootfs, '--owner=0', '--group=0', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const imp = spawn('docker', ['import', '--change', 'ENV HOME=/root', '-', image], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      tar.stdout.pipe(imp.stdin);
      tar.stderr.on('data', (d: Buffer) => (output += d.toString()));
      imp.stdout.on('data', (d: Buffer) => (output += d.toString()));
      imp.stderr.on('data', (d: Buffer) => (output += d.toString()));
      imp.on('close', (c) => resolve({ code: c ?? 1, out: output }));
    });
    if (code !== 0) throw new Error(`docker import of ${image} failed: ${out.trim()}`);
    return image;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

export class DockerRunner implements NodeRunner {
  readonly kind = 'docker' as const;
  private seq = 0;
  constructor(
    private readonly image: string,
    /** Host directory bind-mounted at the same path (holds all appdata). */
    private readonly mountDir: string,
  ) {}

  async start(spec: NodeSpec): Promise<NodeHandle> {
    // Ryuk (the reaper sidecar) would need a registry pull; we clean up ourselves.
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer } = await import('testcontainers');
    logMarker(spec.logFile, `start container ${this.image} ${spec.binary} ${spec.args.join(' ')}`);
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    const name = `dcrvoted-sim-${process.pid}-${spec.name}-${++this.seq}-${Date.now().toString(36)}`;
    const container = await new GenericContainer(this.image)
      .withName(name)
      .withLabels({ 'dcrvoted.simnet': 'harness' })
      .withNetworkMode('host')
      .withEnvironment({ HOME: '/root' })
      .withEntrypoint([`/usr/local/bin/${spec.binary}`])
      .withCommand(spec.args)
      .withBindMounts([{ source: this.mountDir, target: this.mountDir, mode: 'rw' }])
      .withLogConsumer((stream) => stream.pipe(log, { end: false }))
      .withStartupTimeout(60_000)
      .start();
    let stopped = false;
    return {
      spec,
      exitReason: () => (stopped ? 'stopped' : undefined),
      async stop(graceMs = 20_000) {
        if (stopped) return;
        stopped = true;
        // testcontainers' default stop timeout is 0 (SIGKILL at once): ask for a graceful stop.
        await container.stop({ timeout: graceMs, remove: true });
        await sleep(50); // let the log consumer drain
        log.end();
        logMarker(spec.logFile, 'container stopped');
      },
    };
  }
}
