/**
 * Small helpers shared by the simnet harness: waiting, free loopback ports,
 * deterministic test seeds and log-file bookkeeping.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

export const LOOPBACK = '127.0.0.1';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `cond` until it returns a truthy value (which is returned) or the
 * timeout expires. Errors thrown by `cond` count as "not yet" and the last one
 * is reported when the wait gives up.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Asks the kernel for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the address of a probe listener'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}

/** Distinct free ports (the kernel may hand the same one out twice in a row). */
export async function freePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

/** A fixed 32-byte wallet seed (hex) derived from a label; test use only. */
export function testSeed(label: string): string {
  return createHash('sha256').update(`dcrvoted simnet harness seed: ${label}`).digest('hex');
}

/** Appends a marker line to a log file (creating its directory). */
export function logMarker(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `\n===== [harness ${new Date().toISOString()}] ${text} =====\n`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
