/**
 * Keeps the README's first command true: `npm run simnet` brings up a
 * throwaway simnet, runs dcrvoted on it, shows votes being cast, and tears
 * everything down. Here it runs for a few blocks instead of until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run simnet', () => {
  it('shows dcrvoted voting on a throwaway simnet and tears it down', async () => {
    const child = spawn('npm', ['run', 'simnet', '--', '--blocks', '6', '--interval', '0.5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) console.log(out);
    expect(code).toBe(0);
    expect(out).toMatch(/dcrvoted is running/);
    expect(out).toMatch(/status:\s+http:\/\/127\.0\.0\.1:\d+\/status/);
    expect(out).toMatch(/"event":"vote_outcome".*"outcome":"voted"/);
    expect(out).toMatch(/finished: [1-9]\d* voted, 0 missed/);
    expect(out).toContain('[simnet] stopped');
    expect(out).not.toContain('DEP0123');
  }, 240_000);
});
