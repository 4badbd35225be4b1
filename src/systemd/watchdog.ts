// Feeds systemd's service watchdog (WatchdogSec=) only while the daemon is
// actually making progress.
//
// A timer that pings unconditionally proves only that the event loop turns.
// That already catches a blocked loop (a CPU-bound bug, a synchronous call that
// never returns): the timer cannot fire, no WATCHDOG=1 arrives, and systemd
// kills and restarts the service. It does not catch a main loop stuck on a
// promise that never settles while timers keep running. So each tick first
// asks `isHealthy()`; the daemon answers from its own progress marks (see
// Heartbeat below: every long-running loop beats once per round) and the ping
// is withheld while any of them is stale.
//
// What must NOT count as unhealthy: a wallet or dcrd being down. Restarting
// dcrvoted does not fix a remote peer, and the daemon has to stay up to report
// the fault in /readyz and metrics. Only "our own loop stopped turning" should
// trip the watchdog.

import { watchdogIntervalMs as defaultIntervalMs, watchdogPing as defaultPing } from './notify.js';

/** true: healthy. false or a string (the reason): withhold the ping. */
export type HealthVerdict = boolean | string;

export interface WatchdogOptions {
  isHealthy: () => HealthVerdict;
  /** Ping period in ms. Default: watchdogIntervalMs() (half of WatchdogSec=); null or 0 disables. */
  intervalMs?: number | null;
  /** Sends WATCHDOG=1. Default: watchdogPing() from notify.ts. */
  ping?: () => Promise<boolean>;
  /** Called when pings start being withheld (once per unhealthy spell). */
  onUnhealthy?: (reason: string) => void;
  /** Called when the daemon is healthy again after an unhealthy spell. */
  onRecovered?: () => void;
}

export class SystemdWatchdog {
  readonly #opts: WatchdogOptions;
  readonly #intervalMs: number | null;
  #timer: NodeJS.Timeout | null = null;
  #unhealthyReason: string | null = null;
  #pinging = false;
  #lastPingAtMs: number | null = null;

  constructor(opts: WatchdogOptions) {
    this.#opts = opts;
    const interval = opts.intervalMs === undefined ? defaultIntervalMs() : opts.intervalMs;
    this.#intervalMs = interval && interval > 0 ? interval : null;
  }

  /** Whether a watchdog is configured for this process at all. */
  get enabled(): boolean {
    return this.#intervalMs !== null;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** Wall-clock ms of the last WATCHDOG=1 that was sent, or null. */
  get lastPingAt(): number | null {
    return this.#lastPingAtMs;
  }

  /** The reason pings are currently withheld, or null while healthy. */
  get withheldBecause(): string | null {
    return this.#unhealthyReason;
  }

  /**
   * Starts pinging (an immediate tick, then every interval). Returns false and
   * does nothing when no watchdog is configured. Call after notifyReady().
   */
  start(): boolean {
    if (this.#intervalMs === null || this.#timer) return this.#timer !== null;
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    // The watchdog must never be what keeps the process alive at shutdown.
    this.#timer.unref();
    void this.tick();
    return true;
  }

  /** Stops pinging. Call at the start of shutdown, before notifyStopping(). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * One check-and-maybe-ping. Returns true if WATCHDOG=1 was sent. Exposed so
   * tests (and the daemon, after a long synchronous step) can drive it.
   */
  async tick(): Promise<boolean> {
    // A previous ping still in flight (systemd-notify waits for PID 1): do not pile up helpers.
    if (this.#pinging) return false;
    let verdict: HealthVerdict;
    try {
      verdict = this.#opts.isHealthy();
    } catch (err) {
      verdict = `health check threw: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (verdict !== true) {
      const reason = typeof verdict === 'string' && verdict ? verdict : 'health check failed';
      if (this.#unhealthyReason === null) this.#opts.onUnhealthy?.(reason);
      this.#unhealthyReason = reason;
      return false;
    }
    if (this.#unhealthyReason !== null) {
      this.#unhealthyReason = null;
      this.#opts.onRecovered?.();
    }
    this.#pinging = true;
    try {
      const ping = this.#opts.ping ?? defaultPing;
      const sent = await ping();
      if (sent) this.#lastPingAtMs = Date.now();
      return sent;
    } catch {
      return false;
    } finally {
      this.#pinging = false;
    }
  }
}

/**
 * Progress marks for the daemon's long-running loops. Each loop calls
 * `beat(name)` once per round (for example the dcrd client after each
 * keep-alive, each wallet supervisor after each probe, whether the probe
 * succeeded or not). `verdict()` is a ready-made isHealthy for SystemdWatchdog:
 * true, or a string naming the loops that have not beaten within their limit.
 */
export class Heartbeat {
  readonly #last = new Map<string, number>();
  readonly #limits = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Declares a loop and how long it may go without a beat. Registering counts
   * as a beat, so a loop gets its full allowance to run its first round.
   */
  register(name: string, maxSilenceMs: number): void {
    this.#limits.set(name, maxSilenceMs);
    this.#last.set(name, this.#now());
  }

  /** Stops watching a loop (for example a wallet removed on reload). */
  unregister(name: string): void {
    this.#limits.delete(name);
    this.#last.delete(name);
  }

  beat(name: string): void {
    if (this.#limits.has(name)) this.#last.set(name, this.#now());
  }

  /** Loops whose last beat is older than their limit, with how long ago (ms). */
  stale(): Array<{ name: string; silentMs: number }> {
    const now = this.#now();
    const out: Array<{ name: string; silentMs: number }> = [];
    for (const [name, limit] of this.#limits) {
      const silentMs = now - (this.#last.get(name) ?? 0);
      if (silentMs > limit) out.push({ name, silentMs });
    }
    return out;
  }

  /** true when every loop is fresh; otherwise a reason string. */
  verdict(): HealthVerdict {
    const stale = this.stale();
    if (stale.length === 0) return true;
    return 'no progress from ' + stale.map((s) => `${s.name} for ${Math.round(s.silentMs / 1000)}s`).join(', ');
  }
}
