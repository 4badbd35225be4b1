// What the vote caster needs from dcrd, over the node pool: deployment
// states (for the subsidy split), treasury spends in the mempool (for the
// treasury votes), and a broadcast to every node. It follows the chain
// tracker to learn each new block's mempool tspends while dcrd can tell.

import type { Logger } from 'pino';
import type { ChainTracker } from '../dcrd/chain.js';
import type { DcrdPool } from '../dcrd/pool.js';
import { DcrdRpc } from '../dcrd/rpc.js';
import { errorMessage } from '../errors.js';
import type { RebroadcastChain } from '../voting/rebroadcast.js';
import type { CasterChain } from './caster.js';
import type { DeploymentState } from './subsidy.js';
import { decodeTx } from './tx.js';

export class PoolCasterChain implements CasterChain, RebroadcastChain {
  readonly #expiries = new Map<string, number>();
  readonly #pool: DcrdPool;
  readonly #rpc: DcrdRpc;

  constructor(pool: DcrdPool, rpc: DcrdRpc) {
    this.#pool = pool;
    this.#rpc = rpc;
  }

  /** Votes we cast must name every tspend the wallet would: read their expiries on each block. */
  follow(chain: Pick<ChainTracker, 'on'>, logger: Logger): void {
    chain.on('blockConnected', () => {
      this.rememberMempoolTSpends().catch((err: unknown) => logger.debug({ err: { message: errorMessage(err) } }, 'reading mempool tspends failed'));
    });
  }

  async deployments(): Promise<Record<string, DeploymentState>> {
    return (await this.#rpc.getBlockchainInfo()).deployments;
  }

  /** The deployment states with the tip height they were read at (prepared vote inputs). */
  async deploymentsAt(): Promise<{ height: number; deployments: Record<string, DeploymentState> }> {
    const info = await this.#rpc.getBlockchainInfo();
    return { height: info.blocks, deployments: info.deployments };
  }

  /**
   * Expiries are remembered: a tspend is read while it waits in the mempool
   * (always possible) and its expiry is still known after it is mined, when
   * dcrd finds it only with --txindex.
   */
  async tspendExpiry(hash: string): Promise<number | null> {
    const known = this.#expiries.get(hash);
    if (known !== undefined) return known;
    const hex = await this.#pool.request<string>('getrawtransaction', [hash, 0]).catch(() => null);
    const tx = typeof hex === 'string' ? decodeTx(hex) : null;
    if (!tx?.ok) return null;
    this.#expiries.set(hash, tx.value.tx.expiry);
    return tx.value.tx.expiry;
  }

  /** Learn the expiries of the tspends in dcrd's mempool now, while dcrd can still tell. */
  async rememberMempoolTSpends(): Promise<void> {
    const hashes = await this.#pool.request<string[]>('getrawmempool', [false, 'tspend']);
    for (const hash of Array.isArray(hashes) ? hashes : []) await this.tspendExpiry(hash);
  }

  broadcast(txHex: string) {
    return this.#pool.broadcast('sendrawtransaction', [txHex, false]);
  }

  connectedNodes(): string[] {
    return this.#pool.connectedNodes();
  }

  async mempoolHas(node: string, txid: string): Promise<boolean> {
    const rpc = new DcrdRpc((method, params, opts) => this.#pool.requestTo(node, method, params, opts));
    const [has] = await rpc.existsMempoolTxs([txid]);
    return has === true;
  }

  async rawTx(txid: string): Promise<string | null> {
    for (const node of this.#pool.connectedNodes()) {
      const hex = await this.#pool.requestTo<string>(node, 'getrawtransaction', [txid, 0]).catch(() => null);
      if (typeof hex === 'string' && /^[0-9a-f]+$/.test(hex)) return hex;
    }
    return null;
  }

  async sendTo(node: string, hex: string): Promise<void> {
    await this.#pool.requestTo(node, 'sendrawtransaction', [hex, false]);
  }
}
