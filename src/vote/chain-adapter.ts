// What the vote caster needs from dcrd, over the node pool: deployment
// states (for the subsidy split), treasury spends in the mempool (for the
// treasury votes), and a broadcast to every node.

import type { DcrdPool } from '../dcrd/pool.js';
import type { DcrdRpc } from '../dcrd/rpc.js';
import type { CasterChain } from './caster.js';
import type { DeploymentState } from './subsidy.js';
import { decodeTx } from './tx.js';

export class PoolCasterChain implements CasterChain {
  constructor(
    private readonly pool: DcrdPool,
    private readonly rpc: DcrdRpc,
  ) {}

  async deployments(): Promise<Record<string, DeploymentState>> {
    return (await this.rpc.getBlockchainInfo()).deployments;
  }

  async mempoolTSpends(): Promise<{ hash: string; expiry: number }[]> {
    const hashes = await this.pool.request<string[]>('getrawmempool', [false, 'tspend']);
    const out: { hash: string; expiry: number }[] = [];
    for (const hash of Array.isArray(hashes) ? hashes : []) {
      const hex = await this.pool.request<string>('getrawtransaction', [hash, 0]).catch(() => null);
      const tx = typeof hex === 'string' ? decodeTx(hex) : null;
      if (tx?.ok) out.push({ hash, expiry: tx.value.tx.expiry });
    }
    return out;
  }

  broadcast(txHex: string) {
    return this.pool.broadcast('sendrawtransaction', [txHex, false]);
  }
}
