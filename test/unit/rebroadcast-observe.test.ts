// What the rebroadcaster reports for a vote's timeline: each node found
// holding the vote, and each node the vote was sent to again.

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { VoteRebroadcaster, type RebroadcastObservation } from '../../src/voting/rebroadcast.js';

describe('rebroadcaster observations', () => {
  it('reports the nodes whose mempool held the vote and those it was sent to again, with the time of each', async () => {
    const observed: RebroadcastObservation[] = [];
    const sent: string[] = [];
    let clock = 5_000;
    const r = new VoteRebroadcaster({
      chain: {
        connectedNodes: () => ['alpha', 'beta', 'gamma'],
        mempoolHas: async (node) => {
          if (node === 'gamma') throw new Error('timeout'); // unknown: neither held nor lacking
          return node === 'alpha';
        },
        rawTx: async () => 'ab',
        sendTo: async (node) => {
          clock += 2;
          sent.push(node);
        },
      },
      metrics: createMetrics({ version: 't', network: 'simnet', processMetrics: false }),
      logger: pino({ level: 'silent' }),
      scheduleMs: [0],
      observe: (o) => observed.push(o),
      now: () => clock,
    });
    const vote = { wallet: 'main', ticket: 'aa'.repeat(32), block: { hash: 'bb'.repeat(32), height: 7 }, txid: 'cc'.repeat(32), hex: 'ab' };
    r.watch(vote);
    await new Promise((res) => setTimeout(res, 20));
    r.stop();
    expect(sent).toEqual(['beta']);
    expect(observed.map((o) => ({ kind: o.kind, node: o.node, at: o.at, ticket: o.vote.ticket }))).toEqual([
      { kind: 'in_mempool', node: 'alpha', at: 5_000, ticket: vote.ticket },
      { kind: 'resent', node: 'beta', at: 5_002, ticket: vote.ticket },
    ]);
  });
});
