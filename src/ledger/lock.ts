// Exclusive lock on a state directory: `ledger.lock` holding the owner's pid.
//
// The lock file is written in full to a private temp file and then hard-linked
// into place, so it is never visible half-written and link() fails atomically
// if a lock already exists. A lock whose pid is dead (or reused by another
// process, detected via the Linux start time) is stale and taken over.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'ledger.lock';

export interface LockOwner {
  pid: number;
  /** Kernel start time of the pid (Linux /proc), to detect pid reuse. */
  startTime?: string;
  host?: string;
  createdAt?: string;
  /** Random id of this acquisition, so release only removes our own lock. */
  token?: string;
}

export class LedgerLockedError extends Error {
  readonly code = 'ELEDGERLOCKED';
  constructor(
    readonly stateDir: string,
    readonly lockPath: string,
    readonly pid: number | undefined,
    detail?: string,
  ) {
    super(
      `state directory ${stateDir} is already in use by another dcrvoted ` +
        `(pid ${pid ?? 'unknown'}${detail ? `, ${detail}` : ''}; lock file ${lockPath}). ` +
        `Stop that process or use a different state directory; if no such process ` +
        `is running, delete the lock file.`,
    );
    this.name = 'LedgerLockedError';
  }
}

/** Lock paths held by this process (a second open here is a conflict too). */
const held = new Set<string>();

/** Locks younger than this with unreadable content may still be being set up. */
const UNREADABLE_GRACE_MS = 2_000;
const MAX_ATTEMPTS = 20;

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is parenthesised and may contain spaces; start after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22: starttime
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  // Plain "<pid>\n" is accepted too (hand-written or other tools' lock files).
  if (/^\s*\d+\s*$/.test(text)) {
    const pid = Number.parseInt(text, 10);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid } : undefined;
  }
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o === 'object' && o !== null) {
      const r = o as Record<string, unknown>;
      if (typeof r.pid === 'number' && Number.isSafeInteger(r.pid) && r.pid > 0) {
        const owner: LockOwner = { pid: r.pid };
        if (typeof r.startTime === 'string') owner.startTime = r.startTime;
        if (typeof r.host === 'string') owner.host = r.host;
        if (typeof r.createdAt === 'string') owner.createdAt = r.createdAt;
        if (typeof r.token === 'string') owner.token = r.token;
        return owner;
      }
    }
  } catch {
    // unreadable: handled by the caller
  }
  return undefined;
}

type Observed =
  | { state: 'missing' }
  | { state: 'unreadable'; ageMs: number; raw: string }
  | { state: 'owner'; owner: LockOwner; raw: string };

async function observe(path: string): Promise<Observed> {
  try {
    const raw = await readFile(path, 'utf8');
    const owner = parseOwner(raw);
    if (owner) return { state: 'owner', owner, raw };
    const st = await stat(path);
    return { state: 'unreadable', ageMs: Date.now() - st.mtimeMs, raw };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw e;
  }
}

function isAlive(owner: LockOwner, lockPath: string): boolean {
  // Our own pid but not held by us: a previous run that had the same pid
  // (typical for pid 1 in a container) died without removing its lock.
  if (owner.pid === process.pid) return held.has(lockPath);
  if (!pidExists(owner.pid)) return false;
  if (owner.startTime !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.startTime) return false; // pid reused
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LockHandle {
  readonly path: string;
  readonly owner: LockOwner;
  /** What acquisition found: the stale owner taken over, if any. */
  readonly tookOverFrom?: LockOwner;
  release(): Promise<void>;
}

export async function acquireLock(stateDir: string): Promise<LockHandle> {
  const lockPath = join(resolve(stateDir), LOCK_FILE);
  if (held.has(lockPath)) {
    throw new LedgerLockedError(stateDir, lockPath, process.pid, 'this same process');
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    createdAt: new Date().toISOString(),
    token: randomUUID(),
  };
  const st = processStartTime(process.pid);
  if (st !== undefined) owner.startTime = st;
  const content = JSON.stringify(owner) + '\n';
  const tmp = `${lockPath}.${process.pid}.${owner.token}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });

  let tookOverFrom: LockOwner | undefined;
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await tryPlace(tmp, lockPath, content)) {
        held.add(lockPath);
        const handle: LockHandle = {
          path: lockPath,
          owner,
          ...(tookOverFrom ? { tookOverFrom } : {}),
          release: async () => {
            if (!held.delete(lockPath)) return;
            const now = await observe(lockPath);
            if (now.state === 'owner' && now.owner.token === owner.token) {
              await unlink(lockPath).catch(() => undefined);
            }
          },
        };
        return handle;
      }
      const seen = await observe(lockPath);
      if (seen.state === 'missing') continue;
      if (seen.state === 'unreadable') {
        if (seen.ageMs < UNREADABLE_GRACE_MS) {
          await sleep(150);
          continue;
        }
      } else if (isAlive(seen.owner, lockPath)) {
        throw new LedgerLockedError(stateDir, lockPath, seen.owner.pid, seen.owner.host ? `host ${seen.owner.host}` : undefined);
      }
      // Stale. Move it aside atomically, then make sure what we moved is what
      // we judged stale (another process may have taken over in between).
      const aside = `${lockPath}.stale.${process.pid}.${owner.token}`;
      try {
        await rename(lockPath, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = await observe(aside);
      if (moved.state === 'owner' && moved.raw !== seen.raw && isAlive(moved.owner, lockPath)) {
        await link(aside, lockPath).catch(() => undefined);
        await unlink(aside).catch(() => undefined);
        throw new LedgerLockedError(stateDir, lockPath, moved.owner.pid);
      }
      await unlink(aside).catch(() => undefined);
      if (seen.state === 'owner') tookOverFrom = seen.owner;
    }
    throw new Error(
      `could not acquire ${lockPath}: it kept changing during ${MAX_ATTEMPTS} attempts; ` +
        `is another dcrvoted starting on the same state directory?`,
    );
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Put our lock in place; false if a lock already exists. */
async function tryPlace(tmp: string, lockPath: string, content: string): Promise<boolean> {
  try {
    await link(tmp, lockPath);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
  }
  // Filesystem without hard links: exclusive create (briefly empty, which the
  // unreadable-grace rule above tolerates).
  try {
    await writeFile(lockPath, content, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}
