// /metrics as Prometheus tooling reads it: promtool's lint (when promtool is
// installed; CI installs it for the deployment kit checks) and its naming
// rule, that a counter ends in _total and nothing else does, checked here
// always so a missing promtool cannot hide a regression.

import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispose, startDaemonUnderTest, waitFor, type DaemonUnderTest } from '../support/daemon-under-test.js';

let dut: DaemonUnderTest;
let scrape: string;

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dut = await startDaemonUnderTest();
  await waitFor('ready', async () => (await dut.get('/readyz')).status === 200);
  scrape = (await dut.get('/metrics')).text;
});

afterAll(async () => {
  await dispose(dut);
});

function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

describe('/metrics', () => {
  it('names counters with _total and nothing else', () => {
    const all = types(scrape);
    expect(all.size).toBeGreaterThan(40);
    const wrong = [...all].filter(([name, type]) => (type === 'counter') !== name.endsWith('_total'));
    expect(wrong).toEqual([]);
    // The per-type process gauges stay; sum() over them is the total.
    for (const name of ['dcrvoted_nodejs_active_handles', 'dcrvoted_nodejs_active_requests', 'dcrvoted_nodejs_active_resources']) {
      expect(all.get(name)).toBe('gauge');
    }
  });

  it.skipIf(!hasPromtool())('passes promtool check metrics', async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
      });
      child.stdin?.end(scrape);
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
