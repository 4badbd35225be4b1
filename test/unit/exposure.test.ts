// The exposure planner's arithmetic: draws of 5 distinct winners per block
// from the live pool, over minutes / target block time blocks.

import { describe, expect, it } from 'vitest';
import { exposure, ExposureInputError, TARGET_BLOCK_SECONDS } from '../../src/plan/exposure.js';
import { parseMinutes } from '../../src/commands/plan.js';

describe('exposure', () => {
  it('one hour on mainnet is 12 blocks; expected wins are 12 · 5 · k / N', () => {
    const e = exposure({ ours: 100, poolSize: 40_000, minutes: 60, blockSeconds: TARGET_BLOCK_SECONDS.mainnet });
    expect(e.blocks).toBe(12);
    expect(e.expectedWins).toBeCloseTo(0.15, 12);
  });

  it('the chance of at least one win is 1 − (C(N−k,5)/C(N,5))^blocks, checked against a hand computation', () => {
    // N = 10, k = 2: C(8,5)/C(10,5) = 56/252 = 2/9 per block; two blocks: 1 − 4/81.
    const e = exposure({ ours: 2, poolSize: 10, minutes: 2, blockSeconds: 60 });
    expect(e.noneInOneBlock).toBeCloseTo(2 / 9, 12);
    expect(e.atLeastOne).toBeCloseTo(1 - 4 / 81, 12);
  });

  it('is certain when fewer than 5 pool tickets are not ours, and zero without tickets', () => {
    expect(exposure({ ours: 6, poolSize: 10, minutes: 1, blockSeconds: 60 }).atLeastOne).toBe(1);
    const none = exposure({ ours: 0, poolSize: 40_000, minutes: 600, blockSeconds: 300 });
    expect(none.atLeastOne).toBe(0);
    expect(none.expectedWins).toBe(0);
  });

  it('keeps tiny probabilities instead of rounding them to zero', () => {
    const e = exposure({ ours: 1, poolSize: 41_000, minutes: 1, blockSeconds: 300 });
    expect(e.blocks).toBeCloseTo(0.2, 12);
    expect(e.atLeastOne).toBeGreaterThan(0);
    // k = 1: one block misses us with probability (N − 5) / N.
    expect(e.atLeastOne / (1 - ((41_000 - 5) / 41_000) ** 0.2)).toBeCloseTo(1, 9);
  });

  it('matches a simulation of the lottery within sampling error', () => {
    // 20 of 200 tickets, 3 blocks: estimate by drawing.
    const exact = exposure({ ours: 20, poolSize: 200, minutes: 3, blockSeconds: 60 }).atLeastOne;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let hits = 0;
    const trials = 20_000;
    for (let t = 0; t < trials; t++) {
      let won = false;
      for (let b = 0; b < 3 && !won; b++) {
        const picked = new Set<number>();
        while (picked.size < 5) picked.add(Math.floor(rand() * 200));
        won = [...picked].some((x) => x < 20);
      }
      if (won) hits++;
    }
    expect(Math.abs(hits / trials - exact)).toBeLessThan(0.015);
  });

  it('refuses inputs that cannot be right, saying why', () => {
    expect(() => exposure({ ours: 5, poolSize: 4, minutes: 1, blockSeconds: 1 })).toThrow(ExposureInputError);
    expect(() => exposure({ ours: 50, poolSize: 40, minutes: 1, blockSeconds: 1 })).toThrow(/exceed the pool of 40/);
  });
});

describe('--minutes', () => {
  it('takes a positive number of minutes', () => {
    expect(parseMinutes('90')).toBe(90);
    expect(parseMinutes('2.5')).toBe(2.5);
  });

  it.each([[undefined], [true], ['0'], ['-5'], ['ten'], ['1e3'], ['600000'], ['']])('rejects %s with a usage error', (v) => {
    expect(() => parseMinutes(v as string | true | undefined)).toThrow(/--minutes/);
  });
});
