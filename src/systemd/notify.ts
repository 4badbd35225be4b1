// sd_notify(3) for a Node.js process, without a native addon.
//
// systemd listens for service notifications on a unix *datagram* socket named
// by $NOTIFY_SOCKET. Node's `dgram` only speaks UDP and `net` only speaks
// stream sockets, so Node cannot write to that socket itself. Instead every
// notification is handed to the `systemd-notify` tool that ships with systemd
// (so it is present wherever $NOTIFY_SOCKET is set by a real service manager).
//
// What makes this reliable:
//  - The tool runs as a *child* of dcrvoted, not as the unit's main process,
//    so the unit must say `NotifyAccess=all` (systemd then accepts messages
//    from any process in the service's cgroup).
//  - systemd attributes a message to a unit by looking up the sender's
//    cgroup. A helper that exits before PID 1 reads its datagram could be
//    dropped. Since systemd 246 `systemd-notify` follows its message with a
//    BARRIER=1 and waits until PID 1 has processed both, so the helper is still
//    alive when its message is attributed. We therefore never pass --no-block.
//  - `--pid=<our pid>` adds MAINPID=<our pid> so systemd keeps tracking the
//    Node process (not the short-lived helper) as the service's main process.
//  - On `systemctl stop` systemd signals the whole cgroup, helpers included;
//    a helper killed by that SIGTERM is expected, not reported (see below).
//
// test/e2e/systemd.test.ts runs all of this under a real systemd (PID 1 of a
// container): READY=1 gating `systemctl start`, STATUS=, WATCHDOG=1 keeping
// WatchdogSec= at bay, all with the unit's sandbox applied.
//
// Every function here is a no-op when $NOTIFY_SOCKET is unset (running in a
// terminal, under Docker, in tests). Notifications are sent one at a time, in
// call order, and never throw: a failure is reported to `onError` (once per
// kind of failure) and resolves to false.

import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface NotifierOptions {
  /** Environment to read NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID from. Default: process.env (read at each call). */
  env?: NodeJS.ProcessEnv;
  /** Path of the systemd-notify tool. Default: $DCRVOTED_SYSTEMD_NOTIFY, else searched in PATH, /usr/bin and /bin. */
  command?: string;
  /** Our PID, reported as MAINPID. Default: process.pid. */
  pid?: number;
  /** Kill the helper if it has not finished after this long. Default 10 s. */
  timeoutMs?: number;
  /** Told about failures (missing tool, non-zero exit, timeout). Each distinct message is reported once. */
  onError?: (message: string) => void;
}

/** Longest STATUS= text we send; systemctl status shows one line anyway. */
export const MAX_STATUS_LENGTH = 400;

const FALLBACK_DIRS = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];

export class SystemdNotifier {
  readonly #opts: NotifierOptions;
  #queue: Promise<unknown> = Promise.resolve();
  #resolvedCommand: string | null | undefined;
  readonly #reported = new Set<string>();

  constructor(opts: NotifierOptions = {}) {
    this.#opts = opts;
  }

  get #env(): NodeJS.ProcessEnv {
    return this.#opts.env ?? process.env;
  }

  /** True when a service manager asked for notifications ($NOTIFY_SOCKET set). */
  get enabled(): boolean {
    const sock = this.#env.NOTIFY_SOCKET;
    return typeof sock === 'string' && sock.length > 0;
  }

  /** Startup finished: config loaded, ledger open, HTTP listening, supervisors started. */
  ready(status?: string): Promise<boolean> {
    const vars = ['READY=1'];
    if (status !== undefined) vars.push(statusVar(status));
    return this.#send(vars);
  }

  /** Shutdown began (SIGTERM received); systemd shows "deactivating". */
  stopping(status?: string): Promise<boolean> {
    const vars = ['STOPPING=1'];
    if (status !== undefined) vars.push(statusVar(status));
    return this.#send(vars);
  }

  /** One-line human status shown by `systemctl status dcrvoted`. */
  status(text: string): Promise<boolean> {
    return this.#send([statusVar(text)]);
  }

  /** Keep-alive for WatchdogSec=. Call only while the daemon is healthy (see SystemdWatchdog). */
  watchdog(): Promise<boolean> {
    return this.#send(['WATCHDOG=1']);
  }

  /**
   * How often to ping the watchdog, in ms: half of $WATCHDOG_USEC, as
   * sd_watchdog_enabled(3) recommends. null when there is no watchdog for this
   * process (no NOTIFY_SOCKET, no or invalid WATCHDOG_USEC, or WATCHDOG_PID
   * naming another process).
   */
  watchdogIntervalMs(): number | null {
    if (!this.enabled) return null;
    const env = this.#env;
    const usecText = env.WATCHDOG_USEC;
    if (!usecText || !/^\d+$/.test(usecText)) return null;
    const usec = Number(usecText);
    if (!Number.isSafeInteger(usec) || usec <= 0) return null;
    const pidText = env.WATCHDOG_PID;
    if (pidText !== undefined && pidText !== '') {
      if (!/^\d+$/.test(pidText) || Number(pidText) !== this.#pid) return null;
    }
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** Resolves when every notification queued so far has been sent (or failed). */
  flush(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  get #pid(): number {
    return this.#opts.pid ?? process.pid;
  }

  #send(vars: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    const run = this.#queue.then(() => this.#spawnNotify(vars));
    this.#queue = run;
    return run;
  }

  #spawnNotify(vars: string[]): Promise<boolean> {
    // The socket may have been unset since the call was queued.
    if (!this.enabled) return Promise.resolve(false);
    const command = this.#command();
    if (command === null) {
      this.#report('systemd-notify not found (install systemd, or set DCRVOTED_SYSTEMD_NOTIFY); NOTIFY_SOCKET is set but notifications cannot be sent');
      return Promise.resolve(false);
    }
    const args = [`--pid=${this.#pid}`, ...vars];
    const timeoutMs = this.#opts.timeoutMs ?? 10_000;
    return new Promise<boolean>((resolve) => {
      let stderr = '';
      let settled = false;
      const done = (ok: boolean, problem?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok && problem) this.#report(problem);
        resolve(ok);
      };
      const child = spawn(command, args, {
        env: this.#env,
        stdio: ['ignore', 'ignore', 'pipe'],
        windowsHide: true,
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done(false, `systemd-notify did not finish within ${timeoutMs} ms`);
      }, timeoutMs);
      timer.unref();
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (stderr.length < 1000) stderr += chunk;
      });
      child.on('error', (err) => done(false, `cannot run ${command}: ${err.message}`));
      child.on('close', (code, signal) => {
        if (code === 0) done(true);
        // `systemctl stop` sends SIGTERM to every process in the unit's cgroup
        // (KillMode=control-group) and sweeps it again for processes that
        // appear meanwhile, so the helper we start in reaction to that SIGTERM
        // (STOPPING=1) or one still in flight (a watchdog ping) gets it too.
        // systemd is stopping us then and needs no message: not a failure to
        // report. (Our own timeout kills with SIGKILL.)
        else if (signal === 'SIGTERM') done(false);
        else done(false, `${command} ${vars.map((v) => v.split('=')[0]).join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no output'}`);
      });
    });
  }

  #command(): string | null {
    if (this.#resolvedCommand !== undefined) return this.#resolvedCommand;
    const explicit = this.#opts.command ?? this.#env.DCRVOTED_SYSTEMD_NOTIFY;
    if (explicit) {
      this.#resolvedCommand = explicit;
      return explicit;
    }
    const dirs = [...(this.#env.PATH ?? '').split(delimiter).filter(Boolean), ...FALLBACK_DIRS];
    for (const dir of dirs) {
      const candidate = join(dir, 'systemd-notify');
      try {
        accessSync(candidate, fsConstants.X_OK);
        this.#resolvedCommand = candidate;
        return candidate;
      } catch {
        // keep looking
      }
    }
    this.#resolvedCommand = null;
    return null;
  }

  #report(message: string): void {
    if (this.#reported.has(message)) return;
    this.#reported.add(message);
    this.#opts.onError?.(message);
  }
}

/** STATUS= must be one line: a newline would start another variable. */
function statusVar(text: string): string {
  let clean = text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (clean.length > MAX_STATUS_LENGTH) clean = clean.slice(0, MAX_STATUS_LENGTH - 1) + '…';
  return `STATUS=${clean}`;
}

let defaultNotifier = new SystemdNotifier();

/**
 * Replaces the process-wide notifier used by the functions below (for
 * example to pass a logger as onError). Returns the new notifier.
 */
export function configureNotifier(opts: NotifierOptions): SystemdNotifier {
  defaultNotifier = new SystemdNotifier(opts);
  return defaultNotifier;
}

export function notifier(): SystemdNotifier {
  return defaultNotifier;
}

/** READY=1 (plus an optional STATUS=). No-op without $NOTIFY_SOCKET. */
export function notifyReady(status?: string): Promise<boolean> {
  return defaultNotifier.ready(status);
}

/** STOPPING=1 (plus an optional STATUS=). No-op without $NOTIFY_SOCKET. */
export function notifyStopping(status?: string): Promise<boolean> {
  return defaultNotifier.stopping(status);
}

/** STATUS=<text>. No-op without $NOTIFY_SOCKET. */
export function notifyStatus(text: string): Promise<boolean> {
  return defaultNotifier.status(text);
}

/** WATCHDOG=1. No-op without $NOTIFY_SOCKET. */
export function watchdogPing(): Promise<boolean> {
  return defaultNotifier.watchdog();
}

/** Half of $WATCHDOG_USEC in ms, or null when no watchdog applies to this process. */
export function watchdogIntervalMs(): number | null {
  return defaultNotifier.watchdogIntervalMs();
}
