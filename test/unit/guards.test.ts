// The upgrade and treasury guards' judgement (src/guards), on dcrd's own
// shapes: a real simnet tspend (test/fixtures/votes, captured with the
// published simnet treasury key), chaincfg's intervals, dcrwallet's
// TSpendPolicy resolution.

import { describe, expect, it } from 'vitest';
import type { VoteInfo } from '../../src/dcrd/rpc.js';
import { FindingSet, type Finding } from '../../src/guards/findings.js';
import { CHAIN_PARAMS, calcWantHeight } from '../../src/guards/params.js';
import { policyDecision, readTSpend, stillVotable, tspendWindow } from '../../src/guards/tspend.js';
import { assessUpgrade, type UpgradeInputs } from '../../src/guards/upgrade.js';
import { insideTSpendWindow } from '../../src/vote/assembler.js';
import { voteFixtures } from '../support/vote-fixtures.js';

const found = voteFixtures.find(({ file }) => file.startsWith('simnet-tspend-'))?.fx;
if (!found?.tspend) throw new Error('no simnet-tspend-* vote fixture with its tspend');
const fixture = { ...found, tspend: found.tspend };
const SIMNET_PI_KEY = '02a36b785d584555696b69d1b2bbeff4010332b301e3edd316d79438554cacb3e7';

describe('reading a tspend', () => {
  it('reads hash, expiry, amount and the signing treasury key from a real simnet tspend', () => {
    const t = readTSpend(fixture.tspend.hex);
    expect(t).toEqual({ hash: fixture.tspend.hash, expiry: fixture.tspend.expiry, amountAtoms: BigInt(fixture.tspend.amount * 1e8), treasuryKey: SIMNET_PI_KEY });
  });

  it('is not fooled by other transactions or garbage', () => {
    expect(readTSpend(fixture.voteHex)).toBeNull();
    expect(readTSpend('zz')).toBeNull();
    expect(readTSpend(fixture.tspend.hex.slice(0, 40))).toBeNull();
  });

  it('its window is the one dcrd votes on (InsideTSpendWindow at both ends)', () => {
    const { tvi, multiplier } = { tvi: 48, multiplier: 3 };
    const w = tspendWindow('simnet', fixture.tspend.expiry);
    expect(w).toEqual({ start: fixture.tspend.expiry - 146, end: fixture.tspend.expiry - 2 });
    expect(insideTSpendWindow(w.start, fixture.tspend.expiry, tvi, multiplier)).toBe(true);
    expect(insideTSpendWindow(w.start - 1, fixture.tspend.expiry, tvi, multiplier)).toBe(false);
    expect(insideTSpendWindow(w.end, fixture.tspend.expiry, tvi, multiplier)).toBe(true);
    expect(insideTSpendWindow(w.end + 1, fixture.tspend.expiry, tvi, multiplier)).toBe(false);
    expect(stillVotable('simnet', fixture.tspend.expiry, w.end)).toBe(true);
    expect(stillVotable('simnet', fixture.tspend.expiry, w.end + 1)).toBe(false);
  });
});

describe('does the policy decide a tspend (dcrwallet TSpendPolicy, wallet-wide)', () => {
  const t = { hash: 'ab'.repeat(32), treasuryKey: SIMNET_PI_KEY };
  const p = (tspends: Record<string, 'yes' | 'no' | 'abstain'>, treasuryKeys: Record<string, 'yes' | 'no' | 'abstain'>) => ({ tspends, treasuryKeys });

  it('by its own yes or no first', () => {
    expect(policyDecision(p({ [t.hash]: 'no' }, { [SIMNET_PI_KEY]: 'yes' }), t)).toEqual({ decided: true, choice: 'no', by: 'tspend' });
  });
  it('an abstain on the tspend falls through to its key, as dcrwallet deletes abstain entries', () => {
    expect(policyDecision(p({ [t.hash]: 'abstain' }, { [SIMNET_PI_KEY]: 'yes' }), t)).toEqual({ decided: true, choice: 'yes', by: 'treasury_key' });
  });
  it('by its treasury key alone, abstain included', () => {
    expect(policyDecision(p({}, { [SIMNET_PI_KEY]: 'abstain' }), t)).toEqual({ decided: true, choice: 'abstain', by: 'treasury_key' });
  });
  it('an explicit abstain on the tspend with no key policy is a decision', () => {
    expect(policyDecision(p({ [t.hash]: 'abstain' }, {}), t)).toEqual({ decided: true, choice: 'abstain', by: 'tspend' });
  });
  it('neither: undecided, whatever other keys and tspends the policy names', () => {
    expect(policyDecision(p({ ['cd'.repeat(32)]: 'yes' }, { ['03' + '11'.repeat(32)]: 'no' }), t)).toEqual({ decided: false });
  });
});

describe('rule-change intervals (dcrd calcWantHeight)', () => {
  it('are aligned on the stake validation height', () => {
    const p = CHAIN_PARAMS.simnet;
    // simnet: SVH 144, interval 320 → intervals start at 144, 464, 784 …
    expect(calcWantHeight(p.stakeValidationHeight, p.ruleChangeInterval, 464)).toBe(463);
    expect(calcWantHeight(p.stakeValidationHeight, p.ruleChangeInterval, 783)).toBe(463);
    expect(calcWantHeight(p.stakeValidationHeight, p.ruleChangeInterval, 784)).toBe(783);
    // mainnet: SVH 4096, interval 8064
    const m = CHAIN_PARAMS.mainnet;
    expect(calcWantHeight(m.stakeValidationHeight, m.ruleChangeInterval, 4096 + 8064)).toBe(4096 + 8064 - 1);
  });
});

const voteInfo = (version: number, agendas: { id: string; status: string }[], endHeight = 783): VoteInfo => ({
  currentHeight: 500,
  startHeight: endHeight - 319,
  endHeight,
  hash: '00'.repeat(32),
  voteVersion: version,
  quorum: 160,
  totalVotes: 0,
  agendas: agendas.map((a) => ({ ...a, description: a.id, starttime: 0, expiretime: 0, quorumProgress: 0.5, choices: [] })),
});

const inputs = (over: Partial<UpgradeInputs>): UpgradeInputs => ({
  network: 'simnet',
  wallet: 'w',
  walletVoteVersion: 12,
  walletAgendaIds: ['maxtreasuryspend'],
  tip: { height: 500 },
  deployments: {},
  voteInfos: [voteInfo(12, [{ id: 'maxtreasuryspend', status: 'active' }])],
  stakeVersions: [],
  now: Date.parse('2026-01-01T00:00:00Z'),
  ...over,
});

const kinds = (f: Finding[]) => f.map((x) => x.kind);

describe('upgrade guard judgement', () => {
  it('a healthy network and an up-to-date wallet: nothing', () => {
    const blocks = [{ hash: '00'.repeat(32), height: 500, stakeVersion: 12, voteVersions: [12, 12, 12, 12, 12] }];
    expect(assessUpgrade(inputs({ stakeVersions: blocks }))).toEqual([]);
  });

  it('an agenda being voted on in a newer version the wallet does not know: upgrade dcrwallet', () => {
    const f = assessUpgrade(inputs({ voteInfos: [voteInfo(12, []), voteInfo(13, [{ id: 'newrule', status: 'started' }, { id: 'later', status: 'defined' }])] }));
    expect(kinds(f)).toEqual(['unknown_agenda']);
    expect(f[0]!.key).toBe('unknown_agenda:newrule@13');
    expect(f[0]!.message).toMatch(/agenda newrule \(vote version 13.*votes version 12.*upgrade dcrwallet/);
  });

  it('a rule change locked in: activation height one interval after, and the estimated time', () => {
    const f = assessUpgrade(inputs({ deployments: { newrule: { status: 'lockedin', since: 464, starttime: 0, expiretime: 0 } }, voteInfos: [voteInfo(13, [{ id: 'newrule', status: 'lockedin' }])] }));
    expect(kinds(f)).toEqual(['locked_in']);
    // In force from 464 + 320 = 784; at tip 500 that is 284 blocks of 1 s.
    expect(f[0]!.details).toMatchObject({ activationHeight: 784, blocksLeft: 284, estimatedActivation: '2026-01-01T00:04:44.000Z', agendaVoteVersion: 13, upgrade: 'dcrwallet' });
    expect(f[0]!.message).toMatch(/in force from block 784 \(in 284 blocks, about 2026-01-01T00:04:44.000Z\).*upgrade dcrwallet/);
  });

  it('a locked-in rule change the wallet knows (its own version, or an older one) still warns, asking to check every node', () => {
    const f = assessUpgrade(inputs({ deployments: { maxtreasuryspend: { status: 'lockedin', since: 464, starttime: 0, expiretime: 0 } } }));
    expect(f[0]!.details).toMatchObject({ upgrade: 'check' });
    const older = assessUpgrade(inputs({ deployments: { oldrule: { status: 'lockedin', since: 464, starttime: 0, expiretime: 0 } } }));
    expect(older[0]!.details).toMatchObject({ agendaVoteVersion: null, upgrade: 'check' });
  });

  it('active, started, failed or defined deployments are not locked-in findings', () => {
    const deployments = Object.fromEntries(['active', 'started', 'failed', 'defined'].map((s) => [s, { status: s, since: 1, starttime: 0, expiretime: 0 }]));
    expect(assessUpgrade(inputs({ deployments }))).toEqual([]);
  });

  it('a stake-version majority above ours: 75 % of the votes is enough, 74 % is not', () => {
    const votes = (newer: number, total: number) => [{ hash: '00'.repeat(32), height: 500, stakeVersion: 12, voteVersions: [...Array(newer).fill(13), ...Array(total - newer).fill(12)] }];
    const f = assessUpgrade(inputs({ stakeVersions: votes(75, 100), voteInfos: [voteInfo(12, []), voteInfo(13, [])] }));
    expect(kinds(f)).toEqual(['stake_version']);
    expect(f[0]!.details).toMatchObject({ majorityVersion: 13, shareAbovePercent: 75, upgrade: 'dcrwallet' });
    expect(assessUpgrade(inputs({ stakeVersions: votes(74, 100) }))).toEqual([]);
  });

  it('blocks already requiring a newer stake version, and a dcrd that does not know it either: upgrade both', () => {
    const f = assessUpgrade(inputs({ stakeVersions: [{ hash: '00'.repeat(32), height: 500, stakeVersion: 13, voteVersions: [12] }] }));
    expect(f[0]!.details).toMatchObject({ majorityVersion: 13, blockStakeVersion: 13, dcrdKnowsVersion: false, upgrade: 'dcrwallet and dcrd' });
  });
});

describe('findings are news once', () => {
  const f = (key: string): Finding => ({ guard: 'upgrade', kind: 'locked_in', wallet: 'w', key, severity: 'warning', title: key, message: key, details: {} });
  it('raised when first seen, quiet while it stays, resolved once when it goes', () => {
    const s = new FindingSet();
    expect(s.update([f('a')])).toEqual({ raised: [f('a')], resolved: [] });
    expect(s.update([{ ...f('a'), message: 'a, fewer blocks left' }])).toEqual({ raised: [], resolved: [] });
    expect(s.update([f('b')])).toEqual({ raised: [f('b')], resolved: [{ ...f('a'), message: 'a, fewer blocks left' }] });
    expect(s.update([])).toEqual({ raised: [], resolved: [f('b')] });
    expect(s.update([])).toEqual({ raised: [], resolved: [] });
  });
});

describe('when the guards check', () => {
  // A chain stub and dcrd stubs that count the questions asked.
  async function scheduler() {
    const { EventEmitter } = await import('node:events');
    const pino = (await import('pino')).default;
    const { createMetrics } = await import('../../src/telemetry/metrics.js');
    const { GuardScheduler } = await import('../../src/guards/scheduler.js');
    const { UpgradeGuard } = await import('../../src/guards/upgrade-guard.js');
    const { TreasuryGuard } = await import('../../src/guards/treasury-guard.js');
    const asked: string[] = [];
    const ask = <T>(what: string, v: T) => async () => {
      asked.push(what);
      return v;
    };
    const chain = {
      getBestBlock: ask('getbestblock', { hash: '00'.repeat(32), height: 500 }),
      getBlockchainInfo: ask('getblockchaininfo', { chain: 'simnet', blocks: 500, headers: 500, syncHeight: 500, bestBlockHash: '00'.repeat(32), initialBlockDownload: false, verificationProgress: 1, deployments: {} }),
      getVoteInfo: ask('getvoteinfo', null),
      getStakeVersions: ask('getstakeversions', []),
      getRawMempoolTSpends: ask('getrawmempool', []),
      getRawTransactionHex: ask('getrawtransaction', null),
    };
    const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
    const logger = pino({ level: 'silent' });
    const now = () => 0;
    const emit = () => undefined;
    const s = new GuardScheduler({
      network: 'simnet',
      upgrade: new UpgradeGuard({ network: 'simnet', chain, metrics, logger, now, emit }),
      treasury: new TreasuryGuard({ network: 'simnet', chain, policy: { agendas: {}, tspends: {}, treasuryKeys: {} }, metrics, logger, now, emit }),
      wallets: [{ name: 'w', agendas: async () => ({ version: 12, agendas: [] }), tspendPolicies: async () => [] }],
      logger,
      checkIntervalMs: 3_600_000,
      dcrdConnected: () => true,
      boundaryDelayMs: 1,
    });
    const tracker = new EventEmitter();
    s.start(tracker as never);
    const block = (height: number) => tracker.emit('blockConnected', { block: { hash: '00'.repeat(32), height, previousHash: '00'.repeat(32) }, receivedAt: 0, node: 'n' });
    return { s, asked, block };
  }

  const settle = () => new Promise((r) => setTimeout(r, 30));

  it('after the first block of a rule-change interval (simnet 464 = 144 + 320), later, never inside the block handler', async () => {
    const { s, asked, block } = await scheduler();
    try {
      block(464);
      expect(asked).toEqual([]); // the handler only sets a timer
      await settle();
      expect(asked).toContain('getvoteinfo');
      expect(asked).toContain('getrawmempool');
    } finally {
      s.stop();
    }
  });

  it('not after an ordinary block; after the first block of a stake-version (144 + 112) or treasury-vote interval (a multiple of 48)', async () => {
    const { s, asked, block } = await scheduler();
    try {
      block(465);
      await settle();
      expect(asked).toEqual([]);
      block(256);
      await settle();
      expect(asked.length).toBeGreaterThan(0);
      asked.length = 0;
      block(432);
      await settle();
      expect(asked.length).toBeGreaterThan(0);
    } finally {
      s.stop();
    }
  });
});

describe('dcrvoted status text', () => {
  it('shows each guard finding with what to do, and policy entries the new vote version does not offer', async () => {
    const { formatStatus } = await import('../../src/commands/status.js');
    const text = formatStatus({
      version: 't',
      network: 'simnet',
      startedAt: '2026-01-01T00:00:00.000Z',
      ready: true,
      reasons: {},
      dcrd: { address: 'a', connected: true, bestBlock: { hash: '00'.repeat(32), height: 500 }, lastBlockAt: null, reconnects: 0, nodes: [], sync: null },
      wallets: [
        {
          name: 'w',
          mode: 'attached',
          votingMode: 'wallet',
          address: 'x',
          ready: true,
          reasons: [],
          readiness: { reachable: true, unlocked: true, voting: true, daemonConnected: true, synced: true },
          bestBlock: { hash: '00'.repeat(32), height: 500 },
          voteVersion: 12,
          policy: { inSync: false, lastCheckedAt: null, voteBits: 1, voteVersion: 12, undecidedAgendas: [], problems: [{ key: 'policy.agendas.old', message: 'gone in version 12' }] },
          tickets: null,
          unlock: { enabled: true, lastResult: null, lastAttemptAt: null, passphrase: 'unknown' as never },
          lastError: null,
          readySince: null,
          canary: null,
        },
      ],
      votes: { voted: 0, missed: 0, superseded: 0, byReason: {} as never, pending: [], recentMisses: [] },
      notify: { firing: [], targets: [], heartbeat: null },
      guards: {
        lastCheckAt: '2026-01-01T00:00:00.000Z',
        lastError: null,
        findings: [{ guard: 'upgrade', kind: 'locked_in', wallet: 'w', key: 'k', severity: 'warning', title: 'rule change x is locked in', message: 'rule change x is locked in: in force from block 784', details: {} }],
        undecidedTSpends: {},
      },
    });
    expect(text).toContain('POLICY PROBLEM on vote version 12: policy.agendas.old: gone in version 12');
    expect(text).toContain('guards (upgrade, treasury): 1 finding(s), last checked 2026-01-01T00:00:00.000Z');
    expect(text).toContain('upgrade/locked_in (w): rule change x is locked in: in force from block 784');
  });
});

describe('a finding as a notification', () => {
  it('a stable key per condition and subject, the short title, details of text and numbers only', async () => {
    const { alertOf } = await import('../../src/guards/alerts.js');
    const [lockedIn] = assessUpgrade(inputs({ deployments: { newrule: { status: 'lockedin', since: 464, starttime: 0, expiretime: 0 } } }));
    const later = assessUpgrade(inputs({ tip: { height: 600 }, deployments: { newrule: { status: 'lockedin', since: 464, starttime: 0, expiretime: 0 } } }))[0]!;
    const a = alertOf(lockedIn!);
    expect(a).toMatchObject({ key: 'upgrade_needed:w:locked_in:newrule@784', severity: 'warning', title: 'rule change newrule is locked in: in force from block 784' });
    // The title does not move with the blocks left: a notifier dedups on it.
    expect(alertOf(later).title).toBe(a.title);
    expect(a.details).toMatchObject({ wallet: 'w', kind: 'locked_in', activationHeight: 784, blocksLeft: 284, upgrade: 'check' });
    expect(Object.values(a.details).every((v) => typeof v === 'string' || typeof v === 'number')).toBe(true);
  });
});
