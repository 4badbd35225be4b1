// The upgrade guard's judgement, from what dcrd and one wallet report. Pure:
// the guard runner (guards.ts) does the asking.
//
// - unknown_agenda: dcrd knows a vote version above the wallet's whose
//   agenda is being voted on (status "started"); the wallet cannot vote on
//   it (its vote version's Agendas answer does not list it), so dcrwallet is
//   out of date.
// - locked_in: a rule change passed its vote (getblockchaininfo deployment
//   "lockedin"); it is in force from one rule-change interval after the
//   block where it locked in (dcrd thresholdstate.go: states change only at
//   interval boundaries; dcrwallet deployments.go counts it active on the
//   last block of the locked-in interval). Software that does not implement
//   it forks off at that height.
// - stake_version: at least 75 % (StakeMajorityMultiplier/Divisor) of the
//   votes in the last stake-version interval carry a version above the
//   wallet's, or the blocks already require one: the network has upgraded.

import type { BlockStakeVersions, AgendaInfo, VoteInfo } from '../dcrd/rpc.js';
import type { NetworkName } from '../domain.js';
import type { Finding } from './findings.js';
import { CHAIN_PARAMS } from './params.js';

export interface UpgradeInputs {
  network: NetworkName;
  wallet: string;
  /** The wallet's vote version and the agendas it offers (AgendaService.Agendas). */
  walletVoteVersion: number;
  walletAgendaIds: readonly string[];
  tip: { height: number };
  deployments: Record<string, AgendaInfo>;
  /** getvoteinfo answers for the versions dcrd knows, ours and above. */
  voteInfos: readonly VoteInfo[];
  /** getstakeversions from the tip back over one stake-version interval. */
  stakeVersions: readonly BlockStakeVersions[];
  /** ms epoch, for the estimated activation time. */
  now: number;
}

export function assessUpgrade(i: UpgradeInputs): Finding[] {
  return [...unknownAgendas(i), ...lockedIn(i), ...stakeMajority(i)];
}

function finding(i: UpgradeInputs, kind: Finding['kind'], key: string, severity: Finding['severity'], title: string, message: string, details: Record<string, unknown>): Finding {
  return { guard: 'upgrade', kind, wallet: i.wallet, key: `${kind}:${key}`, severity, title, message, details };
}

function unknownAgendas(i: UpgradeInputs): Finding[] {
  const known = new Set(i.walletAgendaIds);
  const out: Finding[] = [];
  for (const vi of i.voteInfos) {
    if (vi.voteVersion <= i.walletVoteVersion) continue;
    for (const a of vi.agendas) {
      if (a.status !== 'started' || known.has(a.id)) continue;
      out.push(
        finding(
          i,
          'unknown_agenda',
          `${a.id}@${vi.voteVersion}`,
          'warning',
          `wallet ${i.wallet} cannot vote on agenda ${a.id} (vote version ${vi.voteVersion}): upgrade dcrwallet`,
          `the network is voting on agenda ${a.id} (vote version ${vi.voteVersion}, voting interval ends at block ${vi.endHeight}); wallet ${i.wallet} votes version ${i.walletVoteVersion} and cannot vote on it: upgrade dcrwallet`,
          { agenda: a.id, description: a.description, agendaVoteVersion: vi.voteVersion, walletVoteVersion: i.walletVoteVersion, quorumProgress: a.quorumProgress, intervalEndHeight: vi.endHeight, upgrade: 'dcrwallet' },
        ),
      );
    }
  }
  return out;
}

function lockedIn(i: UpgradeInputs): Finding[] {
  const p = CHAIN_PARAMS[i.network];
  const out: Finding[] = [];
  for (const [id, d] of Object.entries(i.deployments)) {
    if (d.status !== 'lockedin' || d.since === undefined) continue;
    const activationHeight = d.since + p.ruleChangeInterval;
    const blocksLeft = Math.max(0, activationHeight - i.tip.height);
    const eta = new Date(i.now + blocksLeft * p.targetBlockSeconds * 1000).toISOString();
    const version = i.voteInfos.find((v) => v.agendas.some((a) => a.id === id))?.voteVersion ?? null;
    // voteInfos hold the wallet's version and above: an agenda in none of
    // them belongs to an older version, which a newer wallet implements.
    const walletKnows = i.walletAgendaIds.includes(id) || version === null || version <= i.walletVoteVersion;
    const what = walletKnows
      ? 'check that every dcrd and dcrwallet you run implements it'
      : `wallet ${i.wallet} (vote version ${i.walletVoteVersion}) predates it: upgrade dcrwallet, and every dcrd`;
    out.push(
      finding(
        i,
        'locked_in',
        `${id}@${activationHeight}`,
        'warning',
        `rule change ${id} is locked in: in force from block ${activationHeight}`,
        `rule change ${id} is locked in: in force from block ${activationHeight} (in ${blocksLeft} blocks, about ${eta}); ${what} before then, or it forks off the chain`,
        { agenda: id, agendaVoteVersion: version, lockedInAt: d.since, activationHeight, blocksLeft, estimatedActivation: eta, walletVoteVersion: i.walletVoteVersion, upgrade: walletKnows ? 'check' : 'dcrwallet' },
      ),
    );
  }
  return out;
}

function stakeMajority(i: UpgradeInputs): Finding[] {
  const { multiplier, divisor } = CHAIN_PARAMS[i.network].stakeMajority;
  const counts = new Map<number, number>();
  let total = 0;
  for (const b of i.stakeVersions) {
    for (const v of b.voteVersions) {
      counts.set(v, (counts.get(v) ?? 0) + 1);
      total++;
    }
  }
  const above = [...counts].filter(([v]) => v > i.walletVoteVersion).reduce((n, [, c]) => n + c, 0);
  const blockVersion = i.stakeVersions[0]?.stakeVersion ?? 0;
  const majority = total > 0 && above * divisor >= total * multiplier;
  if (!majority && blockVersion <= i.walletVoteVersion) return [];
  // The version most of the newer votes carry is the one to upgrade to.
  const target = Math.max(blockVersion, ...[...counts].filter(([v]) => v > i.walletVoteVersion).sort((a, b) => b[1] - a[1]).slice(0, 1).map(([v]) => v));
  const dcrdKnows = i.voteInfos.some((v) => v.voteVersion === target);
  const share = total > 0 ? Math.round((above / total) * 1000) / 10 : 0;
  const upgrade = dcrdKnows ? 'dcrwallet' : 'dcrwallet and dcrd';
  return [
    finding(
      i,
      'stake_version',
      String(target),
      'warning',
      `most votes carry vote version ${target}; wallet ${i.wallet} votes ${i.walletVoteVersion}: upgrade ${upgrade}`,
      `${share} % of the votes in the last ${i.stakeVersions.length} blocks carry a vote version above ${i.walletVoteVersion}, the version wallet ${i.wallet} votes${blockVersion > i.walletVoteVersion ? `, and the blocks require stake version ${blockVersion}` : ''}: upgrade ${upgrade} to a release that votes version ${target}`,
      { walletVoteVersion: i.walletVoteVersion, majorityVersion: target, shareAbovePercent: share, votesCounted: total, blocksCounted: i.stakeVersions.length, blockStakeVersion: blockVersion, dcrdKnowsVersion: dcrdKnows, upgrade },
    ),
  ];
}
