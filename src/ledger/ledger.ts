// The ledger: an append-only, crash-safe record of every winning ticket of
// ours and its outcome. See README.md in this directory for the format and
// the guarantees.

import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireLock, type LockHandle, type LockOwner } from './lock.js';
import {
  canonicalOutcome,
  canonicalReopen,
  canonicalTimeline,
  canonicalWinner,
  encodeRecord,
  outcomeProblem,
  reopenProblem,
  timelineProblem,
  winnerProblem,
  type LedgerRecord,
  type OutcomeRecord,
  type ReopenRecord,
  type TimelineRecord,
  type WinnerRecord,
} from './record.js';
import {
  scanLedger,
  type LedgerCounts,
  type LedgerEntry,
  type LedgerIndex,
  type LedgerRecovery,
  type LedgerView,
} from './state.js';
import { errorMessage } from '../errors.js';

export { LedgerLockedError, LOCK_FILE } from './lock.js';
export type { LockOwner } from './lock.js';
export type { OutcomeRecord, ReopenRecord, WinnerRecord, LedgerRecord, TimelineRecord, NodeTime, NodeRefusal, TimelineCaster } from './record.js';
export { TIMELINE_LIMITS } from './record.js';
export type { LedgerCounts, LedgerEntry, LedgerRecovery, LedgerView, RecoveryProblem } from './state.js';

export const LEDGER_FILE = 'ledger.jsonl';

export interface LedgerOpenOptions {
  /** fdatasync every append before acknowledging it (default true). Only
   *  tests and benchmarks should turn this off. */
  fsync?: boolean;
}

/** What open() found and did, beyond the counts in LedgerRecovery. */
export interface LedgerOpenRecovery extends LedgerRecovery {
  /** The stale lock taken over, if the previous owner died without closing. */
  staleLockFrom?: LockOwner;
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the file itself is synced.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    await fh?.close();
  }
}

export class Ledger implements LedgerView {
  #queue: Promise<unknown> = Promise.resolve();
  /** Bytes of the file known to hold complete, acknowledged records. */
  #size_: number;
  #closed = false;
  /** Set when the file may be in an unknown state; appends refuse from then on. */
  #failure: Error | undefined;
  readonly #fh: FileHandle;
  readonly #lock: LockHandle;
  readonly #index: LedgerIndex;
  readonly #fsync: boolean;

  private constructor(
    readonly stateDir: string,
    readonly path: string,
    readonly recovery: Readonly<LedgerOpenRecovery>,
    fh: FileHandle,
    lock: LockHandle,
    index: LedgerIndex,
    fsync: boolean,
    validLength: number,
  ) {
    this.#fh = fh;
    this.#lock = lock;
    this.#index = index;
    this.#fsync = fsync;
    this.#size_ = validLength;
  }

  /**
   * Open (creating if needed) the ledger in stateDir: take the directory's
   * lock, read every record, truncate a torn last line. Throws
   * LedgerLockedError if another live process holds the directory.
   */
  static async open(stateDir: string, opts: LedgerOpenOptions = {}): Promise<Ledger> {
    const dir = resolve(stateDir);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const lock = await acquireLock(dir);
    let fh: FileHandle | undefined;
    try {
      const path = join(dir, LEDGER_FILE);
      fh = await open(path, 'a+', 0o640); // O_APPEND: every write goes to the end
      const buf = await fh.readFile();
      const { index, recovery, validLength } = scanLedger(buf);
      if (validLength < buf.length) {
        // Torn last record: it was never acknowledged (acks follow the whole
        // line plus fsync). Cut it so the next append starts on a fresh line.
        await fh.truncate(validLength);
        await fh.sync();
      }
      await fsyncDir(dir); // the file's directory entry, if we just created it
      const rec: LedgerOpenRecovery = lock.tookOverFrom ? { ...recovery, staleLockFrom: lock.tookOverFrom } : recovery;
      return new Ledger(dir, path, rec, fh, lock, index, opts.fsync ?? true, validLength);
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await lock.release().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Record a winning ticket of ours. Resolves true once the record is durable;
   * false (nothing written) if this ticket already has a record for this block.
   */
  recordWinner(r: WinnerRecord): Promise<boolean> {
    const problem = winnerProblem(r);
    if (problem) return Promise.reject(new TypeError(`ledger: invalid winner record: ${problem}`));
    const rec = canonicalWinner(r);
    return this.#enqueue(async () => {
      if (this.#index.lookup(rec.ticket, rec.block.hash)) return false;
      await this.#append(rec);
      this.#index.addWinner(rec);
      return true;
    });
  }

  /**
   * Record the outcome of a winner. Resolves true once durable; false if the
   * winner already has an outcome at this revision or a later one; rejects
   * if there is no such winner.
   */
  recordOutcome(r: OutcomeRecord): Promise<boolean> {
    const problem = outcomeProblem(r);
    if (problem) return Promise.reject(new TypeError(`ledger: invalid outcome record: ${problem}`));
    const rec = canonicalOutcome(r);
    return this.#recordAfterWinner(rec, () => this.#index.addOutcome(rec));
  }

  /** Withdraw a decided outcome (its deciding block was disconnected): the winner is pending again. */
  recordReopen(r: ReopenRecord): Promise<boolean> {
    const problem = reopenProblem(r);
    if (problem) return Promise.reject(new TypeError(`ledger: invalid reopen record: ${problem}`));
    const rec = canonicalReopen(r);
    return this.#recordAfterWinner(rec, () => this.#index.addReopen(rec));
  }

  /**
   * Record a vote's timeline (it replaces an earlier one of the same
   * winner). Diagnostics, so it is appended without an fsync of its own: it
   * never holds up the outcomes queued behind it, and the next durable
   * append (or the page cache) carries it. A crash may lose it, nothing else.
   */
  recordTimeline(r: TimelineRecord): Promise<boolean> {
    const problem = timelineProblem(r);
    if (problem) return Promise.reject(new TypeError(`ledger: invalid timeline record: ${problem}`));
    const rec = canonicalTimeline(r);
    return this.#recordAfterWinner(rec, () => this.#index.addTimeline(rec), { durable: false });
  }

  #recordAfterWinner(rec: OutcomeRecord | ReopenRecord | TimelineRecord, apply: () => unknown, opts: { durable: boolean } = { durable: true }): Promise<boolean> {
    return this.#enqueue(async () => {
      const slot = this.#index.lookup(rec.ticket, rec.block.hash);
      if (!slot) {
        throw new Error(`ledger: no winner record for ticket ${rec.ticket} in block ${rec.block.hash}; record the winner first`);
      }
      if (slot.winner.block.height !== rec.block.height) {
        throw new Error(
          `ledger: outcome for ticket ${rec.ticket} names block ${rec.block.hash} at height ${rec.block.height}, ` +
            `but the winner record has height ${slot.winner.block.height}`,
        );
      }
      if (rec.kind !== 'timeline' && !this.#index.accepts(rec)) return false;
      await this.#append(rec, opts.durable);
      apply();
      return true;
    });
  }

  /** Winners without an outcome, oldest first. */
  pending(): LedgerEntry[] {
    return this.#index.pending();
  }

  /** The last `limit` winners recorded, newest first. */
  recent(limit: number): LedgerEntry[] {
    return this.#index.recent(limit);
  }

  get(ticket: string, blockHash: string): LedgerEntry | undefined {
    return this.#index.get(ticket, blockHash);
  }

  entriesFor(ticket: string): LedgerEntry[] {
    return this.#index.entriesFor(ticket);
  }

  timeline(ticket: string, blockHash: string): TimelineRecord | undefined {
    return this.#index.timeline(ticket, blockHash);
  }

  counts(): LedgerCounts {
    return this.#index.counts();
  }

  /** Number of winner records. */
  get size(): number {
    return this.#index.size;
  }

  /** Wait for queued appends, close the file and remove the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    try {
      await this.#fh.close();
    } finally {
      await this.#lock.release();
    }
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`ledger: ${this.path} is closed`));
    const run = this.#queue.then(() => {
      if (this.#failure) {
        throw new Error(`ledger: ${this.path} refused the append after an earlier I/O failure (${this.#failure.message}); restart to recover`);
      }
      return fn();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Write one complete line and make it durable. Only called from the queue. */
  async #append(rec: LedgerRecord, durable = true): Promise<void> {
    const line = encodeRecord(rec);
    try {
      let off = 0;
      while (off < line.length) {
        const { bytesWritten } = await this.#fh.write(line, off, line.length - off, null);
        off += bytesWritten;
      }
    } catch (e) {
      // A partial line would glue itself to the next record. Cut back to the
      // last good size; if even that fails, stop appending altogether.
      try {
        await this.#fh.truncate(this.#size_);
      } catch {
        this.#failure = e as Error;
      }
      throw new Error(`ledger: append to ${this.path} failed: ${errorMessage(e)}`, { cause: e });
    }
    if (this.#fsync && durable) {
      try {
        await this.#fh.datasync();
      } catch (e) {
        // After a failed fsync the kernel may have dropped the dirty pages: the
        // file's real content is unknown, so no further append is trusted.
        this.#failure = e as Error;
        throw new Error(`ledger: fsync of ${this.path} failed: ${errorMessage(e)}`, { cause: e });
      }
    }
    this.#size_ += line.length;
  }
}

/** A read-only snapshot of a ledger, as found on disk. */
export interface LedgerSnapshot extends LedgerView {
  readonly path: string;
  /** False if there is no ledger file (yet) in the state directory. */
  readonly exists: boolean;
  /** tornBytesDropped here means "ignored": a writer may be mid-append. */
  readonly recovery: Readonly<LedgerRecovery>;
}

/**
 * Read the ledger in stateDir without locking or modifying anything; safe
 * while the daemon runs (an append in progress shows as an ignored tail).
 */
export async function readLedger(stateDir: string): Promise<LedgerSnapshot> {
  const path = join(resolve(stateDir), LEDGER_FILE);
  let buf: Buffer;
  let exists = true;
  try {
    buf = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    buf = Buffer.alloc(0);
    exists = false;
  }
  const { index, recovery } = scanLedger(buf);
  return {
    path,
    exists,
    recovery,
    get size() {
      return index.size;
    },
    pending: () => index.pending(),
    recent: (limit: number) => index.recent(limit),
    get: (ticket: string, blockHash: string) => index.get(ticket, blockHash),
    entriesFor: (ticket: string) => index.entriesFor(ticket),
    timeline: (ticket: string, blockHash: string) => index.timeline(ticket, blockHash),
    counts: () => index.counts(),
  };
}
