// A chain cursor held in memory, for tests that restart a tracker without a state directory.
import type { BlockRef } from '../../src/domain.js';
import type { ChainCursor } from '../../src/voting/cursor.js';

export class MemoryChainCursor implements ChainCursor {
  #current: BlockRef | null;
  constructor(current: BlockRef | null = null) {
    this.#current = current;
  }
  load(): BlockRef | null {
    return this.#current;
  }
  async save(block: BlockRef): Promise<void> {
    this.#current = block;
  }
}
