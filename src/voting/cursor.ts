// The last block the tracker processed, kept across restarts so blocks that
// passed while dcrvoted (or its link to dcrd) was down are examined on the
// way back. Written with rename so a crash leaves the old or the new value,
// never a torn one; losing it only costs a shorter catch-up.

import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlockRef } from '../domain.js';

export interface ChainCursor {
  load(): BlockRef | null;
  save(block: BlockRef): Promise<void>;
}

export class FileChainCursor implements ChainCursor {
  readonly #path: string;
  #current: BlockRef | null = null;
  #loaded = false;

  constructor(stateDir: string) {
    this.#path = join(stateDir, 'chain-cursor.json');
  }

  load(): BlockRef | null {
    if (!this.#loaded) {
      this.#loaded = true;
      try {
        const v = JSON.parse(readFileSync(this.#path, 'utf8')) as Partial<BlockRef>;
        if (typeof v.hash === 'string' && /^[0-9a-f]{64}$/.test(v.hash) && Number.isInteger(v.height)) {
          this.#current = { hash: v.hash, height: v.height as number };
        }
      } catch {
        this.#current = null;
      }
    }
    return this.#current;
  }

  async save(block: BlockRef): Promise<void> {
    if (this.#current && this.#current.hash === block.hash) return;
    const tmp = `${this.#path}.tmp`;
    await writeFile(tmp, JSON.stringify({ hash: block.hash, height: block.height }) + '\n');
    await rename(tmp, this.#path);
    this.#current = { hash: block.hash, height: block.height };
    this.#loaded = true;
  }
}
