// The Notifier and its delivery queues, against a transport the test
// controls: what is sent to which target, once, in firing/resolved pairs;
// what a full queue drops; how failures are retried; and that nothing a
// failure logs names a URL or token.

import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { Secret } from '../../src/config/secret.js';
import { DeliveryQueue, type DeliveryPolicy, type Transport } from '../../src/notify/delivery.js';
import { DeliveryError } from '../../src/notify/http-send.js';
import type { Notification, Severity } from '../../src/notify/message.js';
import { Notifier } from '../../src/notify/notifier.js';
import { ReadinessWatch } from '../../src/notify/readiness-watch.js';
import type { NotifyTarget } from '../../src/notify/target.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Alerts } from '../../src/notify/api.js';

const URL_SECRET = 'topic-s3cret-77';
const TOKEN = 'tk_tok3n';

function target(name: string, minSeverity: Severity = 'info'): NotifyTarget {
  return { name, kind: 'webhook', url: new Secret(Buffer.from(`https://hooks.example/${URL_SECRET}`)), origin: 'https://hooks.example', token: new Secret(Buffer.from(TOKEN)), caCert: null, minSeverity };
}

const FAST: DeliveryPolicy = { maxQueue: 100, timeoutMs: 1000, retries: 3, backoffMinMs: 1, backoffMaxMs: 2 };

function logSink() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => text };
}

/** A transport that records what arrived per target and fails as told. */
function recorder(fail: (n: Notification, attempt: number) => Error | null = () => null) {
  const got: Record<string, Notification[]> = {};
  const attempts = new Map<string, number>();
  const transport: Transport = async (t, n) => {
    const a = (attempts.get(n.key + n.state) ?? 0) + 1;
    attempts.set(n.key + n.state, a);
    const err = fail(n, a);
    if (err) throw err;
    (got[t.name] ??= []).push(n);
  };
  return { got, attempts, transport };
}

function setup(targets: NotifyTarget[], transport: Transport, policy = FAST) {
  const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  const log = logSink();
  const queues = targets.map((t) => new DeliveryQueue(t, policy, metrics, log.logger, transport));
  const notifier = new Notifier({ targets: queues, source: 'test', now: () => 0 });
  const count = async (name: string, t: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.target === t)?.value ?? 0;
  return { notifier, queues, metrics, log, count };
}

const summary = (ns: Notification[] = []) => ns.map((n) => `${n.state} ${n.key}`);

describe('Notifier', () => {
  it('a condition raised many times is sent once as firing and once as resolved', async () => {
    const r = recorder();
    const { notifier } = setup([target('hook')], r.transport);
    for (let i = 0; i < 5; i++) notifier.raise('not_ready:main', 'critical', 'wallet main cannot vote', { reasons: `try ${i}` });
    notifier.clear('not_ready:main');
    notifier.clear('not_ready:main');
    notifier.clear('never_raised');
    await notifier.idle();
    expect(summary(r.got.hook)).toEqual(['firing not_ready:main', 'resolved not_ready:main']);
    expect(r.got.hook?.[1]?.severity).toBe('critical');
  });

  it('a condition that escalates is sent again; one that fires again after resolving is a new pair', async () => {
    const r = recorder();
    const { notifier } = setup([target('hook')], r.transport);
    notifier.raise('k', 'warning', 'slow');
    notifier.raise('k', 'critical', 'slow');
    notifier.clear('k');
    notifier.raise('k', 'warning', 'slow');
    await notifier.idle();
    expect(r.got.hook?.map((n) => `${n.state}/${n.severity}`)).toEqual(['firing/warning', 'firing/critical', 'resolved/critical', 'firing/warning']);
  });

  it('one-shot events (a missed vote) are sent once per key', async () => {
    const r = recorder();
    const { notifier } = setup([target('hook')], r.transport);
    notifier.event('vote_missed:t1:b1', 'critical', 'MISSED VOTE');
    notifier.event('vote_missed:t1:b1', 'critical', 'MISSED VOTE');
    notifier.event('vote_missed:t2:b1', 'critical', 'MISSED VOTE');
    await notifier.idle();
    expect(summary(r.got.hook)).toEqual(['event vote_missed:t1:b1', 'event vote_missed:t2:b1']);
  });

  it('each target gets only what meets its minimum severity, resolved only what it was told fired, and the test message always', async () => {
    const r = recorder();
    const { notifier } = setup([target('all'), target('pager', 'critical')], r.transport);
    notifier.test('started');
    notifier.raise('w', 'warning', 'w');
    notifier.raise('c', 'critical', 'c');
    notifier.event('i', 'info', 'i');
    notifier.clear('w');
    notifier.clear('c');
    await notifier.idle();
    expect(summary(r.got.all)).toEqual(['test test', 'firing w', 'firing c', 'event i', 'resolved w', 'resolved c']);
    expect(summary(r.got.pager)).toEqual(['test test', 'firing c', 'resolved c']);
  });
});

describe('DeliveryQueue', () => {
  it('retries a failing receiver with backoff until it answers, and counts one message sent', async () => {
    const r = recorder((_n, attempt) => (attempt < 3 ? new DeliveryError('receiver answered HTTP 503', true) : null));
    const { notifier, count } = setup([target('hook')], r.transport);
    notifier.event('e', 'critical', 'x');
    await notifier.idle();
    expect(r.attempts.get('eevent')).toBe(3);
    expect(summary(r.got.hook)).toEqual(['event e']);
    expect(await count('dcrvoted_notifications_sent_total', 'hook')).toBe(1);
    expect(await count('dcrvoted_notifications_failed_total', 'hook')).toBe(0);
  });

  it('gives up after the configured retries, counts the failure, and goes on with the next message', async () => {
    const r = recorder((n) => (n.key === 'doomed' ? new DeliveryError('connection refused (ECONNREFUSED)', true) : null));
    const { notifier, count, log } = setup([target('hook')], r.transport);
    notifier.event('doomed', 'critical', 'x');
    notifier.event('next', 'critical', 'y');
    await notifier.idle();
    expect(r.attempts.get('doomedevent')).toBe(1 + FAST.retries);
    expect(summary(r.got.hook)).toEqual(['event next']);
    expect(await count('dcrvoted_notifications_failed_total', 'hook')).toBe(1);
    expect(log.text()).toContain('gave up on \\"x\\": connection refused (ECONNREFUSED)');
  });

  it('does not retry what the receiver refuses (4xx)', async () => {
    const r = recorder(() => new DeliveryError('receiver answered HTTP 401', false));
    const { notifier, count } = setup([target('hook')], r.transport);
    notifier.event('e', 'critical', 'x');
    await notifier.idle();
    expect(r.attempts.get('eevent')).toBe(1);
    expect(await count('dcrvoted_notifications_failed_total', 'hook')).toBe(1);
  });

  it('a receiver that never answers holds at most queueSize messages; the oldest are dropped and counted, and push never waits', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((res) => (release = res));
    const got: string[] = [];
    const transport: Transport = async (_t, n, o) => {
      await new Promise<void>((res, rej) => {
        void stuck.then(res);
        o.signal.addEventListener('abort', () => rej(new DeliveryError('cancelled', false)));
      });
      got.push(n.key);
    };
    const { notifier, queues, count, log } = setup([target('hook')], transport, { ...FAST, maxQueue: 3 });
    for (let i = 0; i < 10; i++) notifier.event(`e${i}`, 'critical', 'x'); // returns although nothing is delivered
    // e0 is in flight; e1..e9 wanted the queue of 3: e1..e6 dropped.
    expect(queues[0]?.counts()).toMatchObject({ queued: 3, dropped: 6, sent: 0 });
    expect(await count('dcrvoted_notifications_dropped_total', 'hook')).toBe(6);
    // One warning per outage, not one per dropped message.
    expect(log.text().match(/"event":"notification_dropped"/g)).toHaveLength(1);
    release();
    await notifier.idle();
    expect(got).toEqual(['e0', 'e7', 'e8', 'e9']);
  });

  it('stop() cancels a send in flight and its retries', async () => {
    let started!: () => void;
    const inFlight = new Promise<void>((res) => (started = res));
    let calls = 0;
    const transport: Transport = (_t, _n, o) =>
      new Promise((_res, rej) => {
        calls++;
        started();
        o.signal.addEventListener('abort', () => rej(new DeliveryError('cancelled', false)));
      });
    const { notifier, queues, count } = setup([target('hook')], transport);
    notifier.event('e', 'critical', 'x');
    notifier.event('f', 'critical', 'y');
    await inFlight;
    await notifier.stop();
    expect(queues[0]?.counts()).toMatchObject({ sent: 0, failed: 0 });
    expect(await count('dcrvoted_notifications_failed_total', 'hook')).toBe(0);
    notifier.event('after', 'critical', 'z'); // ignored after stop
    await notifier.idle();
    expect(calls).toBe(1); // f and "after" never went out
    expect(queues[0]?.counts().queued).toBe(0);
  });

  it('logs and status name the target and its origin, never the URL path or token', async () => {
    const r = recorder(() => new DeliveryError('receiver answered HTTP 500', true));
    const { notifier, log } = setup([target('hook')], r.transport);
    notifier.event('e', 'critical', 'x');
    await notifier.idle();
    const shown = log.text() + JSON.stringify(notifier.view());
    expect(shown).toContain('https://hooks.example');
    expect(shown).not.toContain(URL_SECRET);
    expect(shown).not.toContain(TOKEN);
  });
});

describe('ReadinessWatch', () => {
  function alertsLog() {
    const calls: string[] = [];
    const alerts: Alerts = {
      raise: (key, severity) => calls.push(`raise ${key} ${severity}`),
      clear: (key) => calls.push(`clear ${key}`),
      event: () => undefined,
    };
    return { calls, alerts };
  }

  it('raises only once a part has been not ready for the threshold, and clears it when it recovers', () => {
    let now = 0;
    const { calls, alerts } = alertsLog();
    const w = new ReadinessWatch({ alerts, thresholdMs: 60_000, now: () => now });
    w.observe({ main: ['locked'] });
    now = 59_999;
    w.observe({ main: ['locked'] });
    expect(calls).toEqual([]);
    now = 60_000;
    w.observe({ main: ['locked'], dcrd: ['not connected'] });
    now = 61_000;
    w.observe({ dcrd: ['not connected'] });
    expect(calls).toEqual(['raise not_ready:main critical', 'clear not_ready:main']);
  });

  it('a blip shorter than the threshold clears nothing that fired and pages nobody; shutting down is no outage', () => {
    let now = 0;
    const { calls, alerts } = alertsLog();
    const w = new ReadinessWatch({ alerts, thresholdMs: 60_000, now: () => now });
    w.observe({ main: ['locked'], dcrvoted: ['shutting down'] });
    now = 30_000;
    w.observe({ dcrvoted: ['shutting down'] });
    now = 120_000;
    w.observe({ dcrvoted: ['shutting down'] });
    expect(calls).toEqual(['clear not_ready:main']); // a no-op for the Notifier: it never fired
  });
});
