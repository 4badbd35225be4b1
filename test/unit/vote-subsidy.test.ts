/**
 * Vote subsidy (and the block/work/treasury subsidies it derives from)
 * against dcrd's own numbers: the vectors of dcrd's subsidy_test.go, values
 * printed by dcrd's SubsidyCache for the real mainnet/testnet3/simnet params,
 * dcrd's total-supply tests, and getblocksubsidy on the simnet harness
 * (recorded in the vote fixtures).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { NetworkName } from '../../src/domain.js';
import {
  SUBSIDY_PARAMS,
  SubsidyCalculator,
  subsidySplitFor,
  voteSubsidy,
  type SubsidySplit,
} from '../../src/vote/subsidy.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures');

interface TestRow {
  name: string;
  height: number;
  voters: number;
  split: SubsidySplit;
  full: number;
  work: number;
  vote: number;
  treasury: number;
}
interface ComputedRow {
  height: number;
  split: SubsidySplit;
  full: number;
  vote: number;
  work5: number;
  treasury5: number;
}
interface Vectors {
  dcrdTests: Record<string, { treasuryEnabled: boolean; rows: TestRow[] }>;
  dcrdComputed: Record<'mainnet' | 'testnet3' | 'simnet', { blockOneSubsidy: number; rows: ComputedRow[] }>;
  totals: { original: number; dcp0010At638976: number; dcp0010At657280dcp0012At782208: number };
}

const vectors = JSON.parse(readFileSync(join(fixtures, 'subsidy', 'dcrd-subsidy-vectors.json'), 'utf8')) as Vectors;

describe('subsidy: dcrd subsidy_test.go vectors (mainnet params)', () => {
  for (const [test, { treasuryEnabled, rows }] of Object.entries(vectors.dcrdTests)) {
    it(`${test}: ${rows.length} vectors`, () => {
      expect(rows.length).toBeGreaterThan(20);
      for (const r of rows) {
        const c = new SubsidyCalculator(SUBSIDY_PARAMS.mainnet); // fresh cache per vector, as dcrd's test does
        const got = {
          full: c.blockSubsidy(r.height),
          work: c.workSubsidy(r.height, r.voters, r.split),
          vote: c.voteSubsidy(r.height, r.split),
          treasury: c.treasurySubsidy(r.height, r.voters, treasuryEnabled),
        };
        expect(got, r.name).toEqual({
          full: BigInt(r.full),
          work: BigInt(r.work),
          vote: BigInt(r.vote),
          treasury: BigInt(r.treasury),
        });
      }
    });
  }

  it('covers every split variant, reduction intervals and the zero-subsidy tail', () => {
    const rows = vectors.dcrdTests['TestSubsidyCacheCalcs']?.rows ?? [];
    expect(new Set(rows.map((r) => r.split))).toEqual(new Set(['original', 'dcp0010', 'dcp0012']));
    expect(rows.some((r) => r.height >= 6144 * 1000 && r.vote > 0)).toBe(true);
    expect(rows.some((r) => r.split === 'dcp0012' && r.vote === 0 && r.full > 0)).toBe(true);
  });
});

describe('subsidy: values from dcrd SubsidyCache on the real network params', () => {
  const nets: Array<[keyof Vectors['dcrdComputed'], NetworkName]> = [
    ['mainnet', 'mainnet'],
    ['testnet3', 'testnet'],
    ['simnet', 'simnet'],
  ];
  for (const [key, network] of nets) {
    it(`${network}: block one, full, vote (3 splits), work and treasury at ${vectors.dcrdComputed[key].rows.length / 3} heights`, () => {
      const set = vectors.dcrdComputed[key];
      expect(SUBSIDY_PARAMS[network].blockOneSubsidy).toBe(BigInt(set.blockOneSubsidy));
      // One calculator across all heights, sparse and out of order (cache path).
      const c = new SubsidyCalculator(SUBSIDY_PARAMS[network]);
      for (const r of [...set.rows].reverse()) {
        const at = `${network} h=${r.height} ${r.split}`;
        expect(c.blockSubsidy(r.height), at).toBe(BigInt(r.full));
        expect(c.voteSubsidy(r.height, r.split), at).toBe(BigInt(r.vote));
        expect(voteSubsidy(network, r.height, r.split), at).toBe(BigInt(r.vote));
        expect(c.workSubsidy(r.height, 5, r.split), at).toBe(BigInt(r.work5));
        expect(c.treasurySubsidy(r.height, 5, false), at).toBe(BigInt(r.treasury5));
      }
    });
  }

  it('vote subsidy starts at StakeValidationHeight - 1 (votes on the block before SVH)', () => {
    for (const network of ['mainnet', 'testnet', 'simnet'] as const) {
      const svh = SUBSIDY_PARAMS[network].stakeValidationHeight;
      expect(voteSubsidy(network, svh - 2, 'original')).toBe(0n);
      expect(voteSubsidy(network, svh - 1, 'original')).toBeGreaterThan(0n);
    }
  });
});

describe('subsidy: dcrd total supply tests (mainnet)', () => {
  const p = SUBSIDY_PARAMS.mainnet;
  const interval = p.reductionInterval;
  const svh = p.stakeValidationHeight;

  function total(splitAt: (height: number) => SubsidySplit, changes: Map<number, { at: number; before: SubsidySplit; after: SubsidySplit }>): bigint {
    const c = new SubsidyCalculator(p);
    const sum = (h: number, s: SubsidySplit): bigint =>
      c.workSubsidy(h, 5, s) + c.voteSubsidy(h, s) * 5n + c.treasurySubsidy(h, 5, false);
    let t = p.blockOneSubsidy;
    t += sum(2, 'original') * BigInt(svh - 2);
    t += sum(svh, 'original') * BigInt(interval - svh);
    for (let n = 1; ; n++) {
      const h = n * interval;
      const change = changes.get(n);
      if (change) {
        t += sum(h, change.before) * BigInt(change.at - h);
        t += sum(change.at, change.after) * BigInt(interval - (change.at - h));
        continue;
      }
      const s = sum(h, splitAt(h));
      if (s === 0n) break;
      t += s * BigInt(interval);
    }
    return t;
  }

  it('original split', () => {
    expect(total(() => 'original', new Map())).toBe(BigInt(vectors.totals.original));
  });

  it('DCP0010 from the 104th interval', () => {
    expect(total((h) => (h >= interval * 104 ? 'dcp0010' : 'original'), new Map())).toBe(BigInt(vectors.totals.dcp0010At638976));
  });

  it('DCP0010 at 657280 then DCP0012 at 782208', () => {
    const a = 657280;
    const b = 782208;
    const changes = new Map([
      [Math.floor(a / interval), { at: a, before: 'original' as const, after: 'dcp0010' as const }],
      [Math.floor(b / interval), { at: b, before: 'dcp0010' as const, after: 'dcp0012' as const }],
    ]);
    const split = (h: number): SubsidySplit => (h >= b ? 'dcp0012' : h >= a ? 'dcp0010' : 'original');
    expect(total(split, changes)).toBe(BigInt(vectors.totals.dcp0010At657280dcp0012At782208));
  });
});

describe('subsidy: getblocksubsidy on the simnet harness', () => {
  const dir = join(fixtures, 'votes');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has recorded values', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const f of files) {
    it(f, () => {
      const fx = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        votedBlock: { height: number };
        deployments: Record<string, { status: string; since?: number } | null>;
        getblocksubsidy: { height: number; voters: number; pos: number; pow: number; developer: number };
      };
      const deployments = Object.fromEntries(Object.entries(fx.deployments).flatMap(([k, v]) => (v ? [[k, v]] : [])));
      const split = subsidySplitFor('simnet', fx.votedBlock.height, deployments);
      const g = fx.getblocksubsidy;
      expect(g.height).toBe(fx.votedBlock.height + 1);
      // dcrd: pos = CalcStakeVoteSubsidyV3(height - 1) * voters.
      expect(voteSubsidy('simnet', g.height - 1, split) * BigInt(g.voters)).toBe(BigInt(g.pos));
      const c = new SubsidyCalculator(SUBSIDY_PARAMS.simnet);
      expect(c.workSubsidy(g.height, g.voters, split)).toBe(BigInt(g.pow));
      // The treasury agenda is active on simnet: full treasury share.
      expect(c.treasurySubsidy(g.height, g.voters, true)).toBe(BigInt(g.developer));
    });
  }
});

describe('subsidySplitFor (dcrwallet deployments.DCP0010Active/DCP0012Active rule)', () => {
  it('active agendas; DCP0012 wins', () => {
    expect(subsidySplitFor('mainnet', 900_000, {})).toBe('original');
    expect(subsidySplitFor('mainnet', 900_000, { changesubsidysplit: { status: 'active', since: 657_280 } })).toBe('dcp0010');
    expect(
      subsidySplitFor('mainnet', 900_000, {
        changesubsidysplit: { status: 'active' },
        changesubsidysplitr2: { status: 'active' },
      }),
    ).toBe('dcp0012');
  });

  it('lockedin counts only for the vote mined in the first active block', () => {
    const rcai = SUBSIDY_PARAMS.mainnet.ruleChangeActivationInterval;
    const d = { changesubsidysplitr2: { status: 'lockedin', since: 774_144 } };
    expect(subsidySplitFor('mainnet', 774_144 + rcai - 2, d)).toBe('original');
    expect(subsidySplitFor('mainnet', 774_144 + rcai - 1, d)).toBe('dcp0012');
    expect(subsidySplitFor('mainnet', 774_144 + rcai - 1, { changesubsidysplitr2: { status: 'started' } })).toBe('original');
  });

  it('simnet is at least DCP0010', () => {
    expect(subsidySplitFor('simnet', 200, {})).toBe('dcp0010');
  });
});
