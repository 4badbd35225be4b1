// A dcrd that sends hostile frames over the real websocket to a daemon in
// this process: whatever the shape or size of a frame, the daemon stays up,
// counts what it could not use and still records the next winner of ours.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/dcrd/ws-client.js';
import { randomHash } from '../support/fake-dcrd.js';
import { dispose, giveTicket, startDaemonUnderTest, waitFor, type DaemonUnderTest } from '../support/daemon-under-test.js';

let dut: DaemonUnderTest | null = null;

afterEach(async () => {
  await dispose(dut);
  dut = null;
});

const ready = async (d: DaemonUnderTest) => (await d.get('/readyz')).status === 200;

/** Sum of a counter over all its label values. */
async function total(d: DaemonUnderTest, name: string): Promise<number> {
  const all = await d.daemon.metrics.registry.getMetricsAsJSON();
  return (all.find((m) => m.name === name)?.values ?? []).reduce((s, v) => s + v.value, 0);
}

const DEPTH = 10_000;
/** `[[[…]]]` nested DEPTH deep, as JSON text. */
const deepArray = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
/** `{"a":{"a":…}}` nested DEPTH deep. */
const deepObject = '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);
const ntfn = (method: string, params: string) => `{"jsonrpc":"1.0","method":"${method}","params":${params},"id":null}`;

async function expectStillVoting(d: DaemonUnderTest): Promise<void> {
  expect((await d.get('/healthz')).status).toBe(200);
  const ticket = await giveTicket(d.wallet, d.daemon);
  const won = d.dcrd.connectBlock({ winners: [ticket, randomHash()] });
  await waitFor('next winner recorded', () => d.daemon.ledger?.get(ticket, won.hash));
}

describe('hostile dcrd frames', () => {
  it('deeply nested JSON anywhere in a frame is counted and dropped, never fatal', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const header = dut.dcrd.tipBlock().headerHex;
    const frames = [
      deepArray,
      deepObject,
      ntfn('winningtickets', `[${deepArray},201,{"0":"${randomHash()}"}]`),
      ntfn('winningtickets', `["${randomHash()}",201,{"0":${deepArray}}]`),
      ntfn('winningtickets', `["${randomHash()}",201,${deepArray}]`),
      ntfn('winningtickets', `["${randomHash()}",${deepObject},{"0":"${randomHash()}"}]`),
      ntfn('blockconnected', `[${deepArray},null]`),
      ntfn('blockconnected', `["${header}",${deepArray}]`),
      ntfn('blockconnected', `["${header}",[${deepArray}]]`),
      ntfn('blockdisconnected', `[${deepObject}]`),
      ntfn('winningtickets', deepObject),
      `{"jsonrpc":"1.0","method":"${'x'.repeat(100_000)}","params":${deepObject},"id":null}`,
      `{"jsonrpc":"1.0","result":null,"error":null,"id":${deepArray}}`,
      `{"jsonrpc":"1.0","result":null,"error":${deepArray},"id":1}`,
      `{"jsonrpc":"1.0","result":null,"error":{"code":${deepArray},"message":"x"},"id":1}`,
      `{"jsonrpc":"1.0","method":null,"params":[],"id":${deepObject}}`,
    ];
    for (const f of frames) dut.dcrd.sendRaw(f);
    await waitFor('every frame counted', async () => (await total(dut!, 'dcrvoted_malformed_notifications_total')) === frames.length);
    // The peer's choice of method name never becomes a metric label.
    const labels = (await dut.daemon.metrics.registry.getMetricsAsJSON())
      .find((m) => m.name === 'dcrvoted_malformed_notifications_total')!
      .values.map((v) => String(v.labels.method));
    for (const l of labels) expect(l.length).toBeLessThan(40);
    // Nor does a megabyte of it reach the log.
    for (const line of dut.logs.events('malformed_notification')) expect(JSON.stringify(line).length).toBeLessThan(2000);
    expect(dut.fatal).toBeNull();
    await expectStillVoting(dut);
  });

  it('a frame over the size limit is refused and counted; the daemon reconnects and still votes', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const reconnects = await dut.metric('dcrvoted_reconnects_total', { peer: 'dcrd' });
    // A well-formed blockconnected of the tip, padded past the 32 MiB limit.
    const pad = 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES);
    dut.dcrd.sendRaw(`{"jsonrpc":"1.0","method":"blockconnected","params":["${dut.dcrd.tipBlock().headerHex}",null],"id":null,"pad":"${pad}"}`);
    await waitFor('refused and counted', async () => (await total(dut!, 'dcrvoted_malformed_notifications_total')) === 1);
    expect(dut.daemon.dcrdPool!.stats().oversized).toBe(1);
    await waitFor('reconnected', async () => (await dut!.metric('dcrvoted_reconnects_total', { peer: 'dcrd' })) > reconnects);
    expect(dut.logs.text.length).toBeLessThan(DEFAULT_MAX_MESSAGE_BYTES / 16);
    await expectStillVoting(dut);
  });

  it('a flood of 5,000 junk and duplicate notifications is dropped within bounds and the next winner is still recorded', async () => {
    dut = await startDaemonUnderTest();
    await waitFor('ready', () => ready(dut!));
    const pool = dut.daemon.dcrdPool!;
    const tip = dut.dcrd.tipBlock();
    const before = pool.stats();
    const connected = ntfn('blockconnected', `["${tip.headerHex}",null]`);
    let malformed = 0;
    let strangers = 0;
    let copies = 0;
    for (let i = 0; i < 5000; i++) {
      switch (i % 6) {
        case 0:
          dut.dcrd.sendRaw(connected); // the tip again: a duplicate
          copies++;
          break;
        case 1:
          dut.dcrd.sendRaw(ntfn('txaccepted', `["${randomHash()}",1]`)); // not subscribed to
          break;
        case 2:
          dut.dcrd.sendRaw(ntfn(`junk${i}`, '{}')); // a method per frame, params not an array
          malformed++;
          break;
        case 3:
          dut.dcrd.sendRaw(ntfn('blockconnected', `["${'ab'.repeat(90)}",null]`)); // a header that does not decode
          malformed++;
          break;
        case 4:
          dut.dcrd.sendRaw(`{"jsonrpc":"1.0","result":null,"error":null,"id":${1_000_000 + i}}`); // a reply nobody asked for
          break;
        case 5:
          // A lottery for a block nobody mined, won by tickets not ours.
          dut.dcrd.sendRaw(ntfn('winningtickets', `["${randomHash()}",${300 + i},{"0":"${randomHash()}"}]`));
          strangers++;
          break;
      }
    }
    await waitFor('flood counted', async () => (await total(dut!, 'dcrvoted_malformed_notifications_total')) === malformed, 20_000);
    await expectStillVoting(dut);
    const after = pool.stats();
    // Copies of the tip's blockconnected are dropped. The first is news
    // (the daemon knew the tip only from getbestblock), and so is one after
    // each time the strangers turned the window over.
    const readmitted = 1 + Math.ceil(strangers / after.dedupWindow);
    expect(after.duplicatesDropped - before.duplicatesDropped).toBeGreaterThanOrEqual(copies - readmitted);
    // More distinct notifications than the dedup window holds, and it stayed at its bound.
    expect(strangers).toBeGreaterThan(after.dedupWindow);
    expect(after.dedupEntries).toBeLessThanOrEqual(after.dedupWindow);
    // One metric series per known method at most, whatever the peer names.
    const series = (await dut.daemon.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'dcrvoted_malformed_notifications_total')!.values;
    expect(series.length).toBeLessThanOrEqual(5);
    expect(dut.fatal).toBeNull();
  });
});
