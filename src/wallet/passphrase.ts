// A wallet's private passphrase as dcrvoted may send it.
//
// dcrwallet locks an unlocked wallet when a call carries a wrong passphrase,
// so a passphrase the wallet once rejected must not be sent again: not by the
// unlock loop, not with a signature. It becomes usable again only when the
// operator changes its file, which is re-read (by size, mtime and inode)
// whenever the passphrase is asked for. Only a fingerprint of the rejected
// bytes is kept, never a second copy of them.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Secret } from '../config/secret.js';

export type PassphraseState = 'none' | 'unverified' | 'accepted' | 'rejected';

export class WalletPassphrase {
  readonly #path: string | null;
  #value: Buffer | null;
  #stamp: string | null;
  #rejected: string | null = null;
  #accepted = false;

  /** path: where the secret was read from, to notice the operator's fix; null for a fixed value. */
  constructor(secret: Secret | null, path: string | null) {
    this.#value = secret ? secret.reveal() : null;
    this.#path = secret ? path : null;
    this.#stamp = this.#path ? stampOf(this.#path) : null;
  }

  get path(): string | null {
    return this.#path;
  }

  /** A passphrase is configured at all. */
  get configured(): boolean {
    return this.#value !== null;
  }

  /** The passphrase to send, or null: none is configured, or its file still holds the one the wallet rejected. */
  usable(): Buffer | null {
    this.#reloadIfChanged();
    if (this.#value === null) return null;
    if (this.#rejected !== null && fingerprint(this.#value) === this.#rejected) return null;
    return this.#value;
  }

  /** The wallet rejected these bytes: never send them again. */
  markRejected(sent: Buffer): void {
    this.#rejected = fingerprint(sent);
    this.#accepted = false;
  }

  /** The wallet accepted these bytes. */
  markAccepted(sent: Buffer): void {
    if (this.#rejected === fingerprint(sent)) this.#rejected = null;
    this.#accepted = true;
  }

  state(): PassphraseState {
    if (this.#value === null) return 'none';
    if (this.usable() === null) return 'rejected';
    return this.#accepted ? 'accepted' : 'unverified';
  }

  #reloadIfChanged(): void {
    if (!this.#path) return;
    const stamp = stampOf(this.#path);
    if (stamp === null || stamp === this.#stamp) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.#path);
    } catch {
      return;
    }
    // The same trimming as at startup: one trailing newline is the editor's, not the passphrase's.
    const value = trimTrailingNewline(bytes);
    if (value.length === 0) return;
    this.#stamp = stamp;
    if (this.#value && !this.#value.equals(value)) this.#accepted = false;
    this.#value = value;
  }
}

function stampOf(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

function fingerprint(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function trimTrailingNewline(b: Buffer): Buffer {
  if (b.at(-1) !== 0x0a) return b;
  return b.subarray(0, b.at(-2) === 0x0d ? -2 : -1);
}
