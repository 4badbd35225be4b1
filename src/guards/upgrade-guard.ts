// Asks dcrd (getblockchaininfo, getvoteinfo, getstakeversions) and each
// wallet (Agendas, its vote version) what assessUpgrade needs, and reports
// what it finds: log, dcrvoted_upgrade_needed{wallet,kind}, events.

import type { Logger } from 'pino';
import type { BlockStakeVersions, DcrdRpc, VoteInfo } from '../dcrd/rpc.js';
import type { NetworkName } from '../domain.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorMessage } from '../errors.js';
import { UPGRADE_KINDS, type GuardEvent } from './findings.js';
import { CHAIN_PARAMS } from './params.js';
import { GuardReporter } from './reporter.js';
import { assessUpgrade } from './upgrade.js';

/** What the upgrade guard needs of a wallet. */
export interface UpgradeGuardWallet {
  name: string;
  agendas(): Promise<{ version: number; agendas: { id: string }[] }>;
}

/** dcrd knows few vote versions above any wallet's; stop asking after this many unknown. */
const VERSIONS_AHEAD = 4;

export type UpgradeChain = Pick<DcrdRpc, 'getBestBlock' | 'getBlockchainInfo' | 'getVoteInfo' | 'getStakeVersions'>;

export class UpgradeGuard {
  readonly reporter: GuardReporter;
  readonly #o: { network: NetworkName; chain: UpgradeChain; metrics: Metrics; logger: Logger; now: () => number };

  constructor(o: { network: NetworkName; chain: UpgradeChain; metrics: Metrics; logger: Logger; now: () => number; emit: (e: GuardEvent) => void }) {
    this.#o = o;
    this.reporter = new GuardReporter('upgrade', o.logger, o.emit, o.now);
  }

  async check(wallets: readonly UpgradeGuardWallet[]): Promise<void> {
    const { chain, network } = this.#o;
    const p = CHAIN_PARAMS[network];
    const [tip, info] = await Promise.all([chain.getBestBlock(), chain.getBlockchainInfo()]);
    // One stake-version interval back from the tip (dcrd caps the count at the chain's length).
    const stakeVersions: BlockStakeVersions[] = await chain.getStakeVersions(tip.hash, Math.max(1, Math.min(p.stakeVersionInterval, tip.height + 1)));
    const voteInfoCache = new Map<number, VoteInfo | null>();
    const voteInfo = async (v: number) => {
      if (!voteInfoCache.has(v)) voteInfoCache.set(v, await chain.getVoteInfo(v));
      return voteInfoCache.get(v) ?? null;
    };
    for (const w of wallets) {
      let walletAgendas;
      try {
        walletAgendas = await w.agendas();
      } catch (err) {
        // Keep what was found before: an unreachable wallet is the supervisor's to report.
        this.#o.logger.debug({ err: { message: errorMessage(err) }, wallet: w.name }, 'upgrade guard: wallet did not answer Agendas');
        continue;
      }
      const version = walletAgendas.version;
      const voteInfos: VoteInfo[] = [];
      for (let v = version, misses = 0; misses < VERSIONS_AHEAD; v++) {
        const vi = await voteInfo(v);
        // Versions without agendas are unknown to dcrd; newer ones may follow.
        if (vi) voteInfos.push(vi);
        else misses++;
      }
      const findings = assessUpgrade({
        network,
        wallet: w.name,
        walletVoteVersion: version,
        walletAgendaIds: walletAgendas.agendas.map((a) => a.id),
        tip,
        deployments: info.deployments,
        voteInfos,
        stakeVersions,
        now: this.#o.now(),
      });
      this.reporter.publish(w.name, findings);
      for (const kind of UPGRADE_KINDS) this.#o.metrics.upgradeNeeded.set({ wallet: w.name, kind }, findings.some((f) => f.kind === kind) ? 1 : 0);
    }
  }
}
