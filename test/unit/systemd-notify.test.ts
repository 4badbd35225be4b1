// sd_notify through systemd-notify, checked against a fake NOTIFY_SOCKET: a
// python3 child binds a unix datagram socket, prints every datagram it gets
// as one JSON line, and closes any file descriptors passed along (that is how
// PID 1 answers systemd-notify's BARRIER=1, so the helper can exit).

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SystemdNotifier, MAX_STATUS_LENGTH } from '../../src/systemd/notify.js';
import { Heartbeat, SystemdWatchdog } from '../../src/systemd/watchdog.js';

const RECEIVER = String.raw`
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": True}), flush=True)
while True:
    msg, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(256))
    fds = []
    pid = None
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(data[: len(data) - len(data) % a.itemsize])
            fds.extend(a)
        elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = int.from_bytes(data[0:4], sys.byteorder)
    for fd in fds:
        os.close(fd)
    print(json.dumps({"vars": msg.decode().split("\n"), "fds": len(fds), "pid": pid}), flush=True)
`;

function have(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

const canReceive = have('python3', ['-c', 'import socket; socket.AF_UNIX']) && have('systemd-notify', ['--version']);

interface Datagram {
  vars: string[];
  fds: number;
  pid: number | null;
}

class FakeNotifySocket {
  readonly dir = mkdtempSync(join(tmpdir(), 'dcrvoted-notify-'));
  readonly path = join(this.dir, 'notify.sock');
  readonly received: Datagram[] = [];
  private child: ChildProcessWithoutNullStreams | null = null;
  private waiters: Array<() => void> = [];

  async start(): Promise<void> {
    const child = spawn('python3', ['-c', RECEIVER, this.path]);
    this.child = child;
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`receiver exited early (${code})`)));
      lines.on('line', (line) => {
        const parsed = JSON.parse(line) as { listening?: boolean } & Partial<Datagram>;
        if (parsed.listening) {
          resolve();
          return;
        }
        this.received.push(parsed as Datagram);
        for (const w of this.waiters.splice(0)) w();
      });
    });
  }

  /** Payload datagrams only (the BARRIER=1 that follows each is dropped). */
  messages(): string[][] {
    return this.received.filter((d) => !(d.vars.length === 1 && d.vars[0] === 'BARRIER=1')).map((d) => d.vars);
  }

  clear(): void {
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!canReceive)('SystemdNotifier against a fake NOTIFY_SOCKET', () => {
  const sock = new FakeNotifySocket();
  const errors: string[] = [];
  let notifier: SystemdNotifier;

  beforeAll(async () => {
    await sock.start();
    notifier = new SystemdNotifier({
      env: { ...process.env, NOTIFY_SOCKET: sock.path },
      pid: 4242,
      onError: (m) => errors.push(m),
    });
  });
  afterAll(() => sock.stop());
  afterEach(() => {
    sock.clear();
    errors.length = 0;
  });

  it('sends READY=1 with MAINPID and a STATUS line', async () => {
    expect(notifier.enabled).toBe(true);
    await expect(notifier.ready('2/2 wallets ready')).resolves.toBe(true);
    expect(sock.messages()).toEqual([['MAINPID=4242', 'READY=1', 'STATUS=2/2 wallets ready']]);
    expect(errors).toEqual([]);
  });

  it('follows each message with a barrier, so the helper outlives PID 1 reading it', async () => {
    await notifier.watchdog();
    // The fake socket's reader reports each datagram on its own schedule: wait for the barrier's.
    await vi.waitFor(() => expect(sock.received.some((d) => d.vars[0] === 'BARRIER=1')).toBe(true), { timeout: 5_000, interval: 10 });
    const barrier = sock.received.find((d) => d.vars[0] === 'BARRIER=1');
    expect(barrier?.fds).toBe(1);
  });

  it('sends STATUS=, WATCHDOG=1 and STOPPING=1 in call order', async () => {
    const results = await Promise.all([
      notifier.status('dcrd connected, height 900123'),
      notifier.watchdog(),
      notifier.stopping('shutting down'),
    ]);
    expect(results).toEqual([true, true, true]);
    expect(sock.messages()).toEqual([
      ['MAINPID=4242', 'STATUS=dcrd connected, height 900123'],
      ['MAINPID=4242', 'WATCHDOG=1'],
      ['MAINPID=4242', 'STOPPING=1', 'STATUS=shutting down'],
    ]);
  });

  it('keeps STATUS to one line so it cannot inject other variables', async () => {
    await notifier.status('wallet w1 locked\nREADY=1\r\nSTOPPING=1');
    const msgs = sock.messages();
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toEqual(['MAINPID=4242', 'STATUS=wallet w1 locked READY=1 STOPPING=1']);
  });

  it('truncates an over-long STATUS', async () => {
    await notifier.status('x'.repeat(5000));
    const status = sock.messages()[0]?.find((v) => v.startsWith('STATUS='));
    expect(status?.length).toBe('STATUS='.length + MAX_STATUS_LENGTH);
  });

  it('feeds the watchdog through SystemdWatchdog while healthy, and withholds pings when not', async () => {
    let healthy: boolean | string = true;
    const unhealthy = vi.fn();
    const recovered = vi.fn();
    const wd = new SystemdWatchdog({
      isHealthy: () => healthy,
      intervalMs: 60_000,
      ping: () => notifier.watchdog(),
      onUnhealthy: unhealthy,
      onRecovered: recovered,
    });
    expect(await wd.tick()).toBe(true);
    healthy = 'no progress from supervisor:w1 for 40s';
    expect(await wd.tick()).toBe(false);
    expect(await wd.tick()).toBe(false);
    expect(wd.withheldBecause).toBe(healthy);
    healthy = true;
    expect(await wd.tick()).toBe(true);
    expect(sock.messages()).toEqual([
      ['MAINPID=4242', 'WATCHDOG=1'],
      ['MAINPID=4242', 'WATCHDOG=1'],
    ]);
    expect(unhealthy).toHaveBeenCalledTimes(1);
    expect(unhealthy).toHaveBeenCalledWith('no progress from supervisor:w1 for 40s');
    expect(recovered).toHaveBeenCalledTimes(1);
    expect(wd.lastPingAt).not.toBeNull();
  });

  it('pings on start and then on every interval', async () => {
    const wd = new SystemdWatchdog({ isHealthy: () => true, intervalMs: 50, ping: () => notifier.watchdog() });
    expect(wd.start()).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    wd.stop();
    await notifier.flush();
    const count = sock.messages().length;
    expect(count).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 150));
    expect(sock.messages().length).toBe(count);
  });
});

describe('SystemdNotifier without NOTIFY_SOCKET', () => {
  it('does nothing and never spawns', async () => {
    const errors: string[] = [];
    const n = new SystemdNotifier({ env: { PATH: '' }, command: '/nonexistent/systemd-notify', onError: (m) => errors.push(m) });
    expect(n.enabled).toBe(false);
    expect(await n.ready('x')).toBe(false);
    expect(await n.status('x')).toBe(false);
    expect(await n.watchdog()).toBe(false);
    expect(await n.stopping()).toBe(false);
    expect(n.watchdogIntervalMs()).toBeNull();
    expect(errors).toEqual([]);
  });

  it('ignores an empty NOTIFY_SOCKET', async () => {
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '', WATCHDOG_USEC: '30000000' } });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs()).toBeNull();
  });
});

describe('SystemdNotifier failures', () => {
  it('reports a missing systemd-notify once and resolves false', async () => {
    const errors: string[] = [];
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/systemd/notify', PATH: '/nonexistent' },
      command: '/nonexistent/systemd-notify',
      onError: (m) => errors.push(m),
    });
    expect(await n.ready()).toBe(false);
    expect(await n.watchdog()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('/nonexistent/systemd-notify');
  });

  it.skipIf(!have('sh', ['-c', 'true']))('reports a helper that exits non-zero', async () => {
    const errors: string[] = [];
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/nonexistent/notify.sock', PATH: process.env.PATH ?? '' },
      command: 'false',
      onError: (m) => errors.push(m),
    });
    expect(await n.status('x')).toBe(false);
    expect(errors[0]).toMatch(/failed \(exit 1\)/);
  });
});

describe('watchdogIntervalMs', () => {
  const base = { NOTIFY_SOCKET: '/run/systemd/notify' };
  const at = (env: NodeJS.ProcessEnv, pid = 100): number | null => new SystemdNotifier({ env, pid }).watchdogIntervalMs();

  it('is half of WATCHDOG_USEC, in ms', () => {
    expect(at({ ...base, WATCHDOG_USEC: '30000000' })).toBe(15_000);
    expect(at({ ...base, WATCHDOG_USEC: '1500' })).toBe(1);
  });

  it('applies when WATCHDOG_PID is ours or absent, not when it names another process', () => {
    expect(at({ ...base, WATCHDOG_USEC: '20000000', WATCHDOG_PID: '100' })).toBe(10_000);
    expect(at({ ...base, WATCHDOG_USEC: '20000000', WATCHDOG_PID: '101' })).toBeNull();
    expect(at({ ...base, WATCHDOG_USEC: '20000000', WATCHDOG_PID: 'abc' })).toBeNull();
  });

  it('is null without or with a malformed WATCHDOG_USEC', () => {
    expect(at(base)).toBeNull();
    expect(at({ ...base, WATCHDOG_USEC: '0' })).toBeNull();
    expect(at({ ...base, WATCHDOG_USEC: '-5' })).toBeNull();
    expect(at({ ...base, WATCHDOG_USEC: '3e7' })).toBeNull();
  });
});

describe('SystemdWatchdog', () => {
  it('is disabled without an interval and start() is then a no-op', () => {
    const wd = new SystemdWatchdog({ isHealthy: () => true, intervalMs: null, ping: async () => true });
    expect(wd.enabled).toBe(false);
    expect(wd.start()).toBe(false);
    expect(wd.running).toBe(false);
  });

  it('treats a throwing health check as unhealthy', async () => {
    const ping = vi.fn(async () => true);
    const onUnhealthy = vi.fn();
    const wd = new SystemdWatchdog({
      isHealthy: () => {
        throw new Error('boom');
      },
      intervalMs: 1000,
      ping,
      onUnhealthy,
    });
    expect(await wd.tick()).toBe(false);
    expect(ping).not.toHaveBeenCalled();
    expect(onUnhealthy).toHaveBeenCalledWith('health check threw: boom');
  });

  it('does not start a second ping while one is in flight', async () => {
    let release: (v: boolean) => void = () => undefined;
    const ping = vi.fn(() => new Promise<boolean>((r) => (release = r)));
    const wd = new SystemdWatchdog({ isHealthy: () => true, intervalMs: 1000, ping });
    const first = wd.tick();
    expect(await wd.tick()).toBe(false);
    release(true);
    expect(await first).toBe(true);
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('never pings when the event loop is blocked past the watchdog interval', async () => {
    const ping = vi.fn(async () => true);
    const wd = new SystemdWatchdog({ isHealthy: () => true, intervalMs: 20, ping });
    wd.start();
    await new Promise((r) => setTimeout(r, 5));
    const before = ping.mock.calls.length;
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // a stalled main loop: no timer can fire
    }
    expect(ping.mock.calls.length).toBe(before);
    wd.stop();
  });
});

describe('Heartbeat', () => {
  it('is healthy while every registered loop beats within its limit', () => {
    let now = 1_000_000;
    const hb = new Heartbeat(() => now);
    hb.register('dcrd', 30_000);
    hb.register('supervisor:w1', 20_000);
    now += 15_000;
    hb.beat('supervisor:w1');
    expect(hb.verdict()).toBe(true);
    now += 20_000;
    expect(hb.verdict()).toBe('no progress from dcrd for 35s');
    hb.beat('dcrd');
    now += 10_000;
    expect(hb.verdict()).toBe('no progress from supervisor:w1 for 30s');
    hb.unregister('supervisor:w1');
    expect(hb.verdict()).toBe(true);
  });

  it('ignores beats from loops it was not told about', () => {
    const hb = new Heartbeat(() => 0);
    hb.beat('unknown');
    expect(hb.stale()).toEqual([]);
  });
});
