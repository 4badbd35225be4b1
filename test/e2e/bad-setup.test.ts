/**
 * Bad setups against real nodes give the clear errors the daemon promises:
 * a client certificate the wallet does not trust, a wrong passphrase, a
 * wallet on another network.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WalletClient } from '../../src/wallet/grpc-client.js';
import type { RunningDaemon as DaemonUnderTest } from '../support/daemon-under-test.js';
import { startInProcess, waitFor, walletClient, writeConfig } from './dcrvoted.js';
import { makeClientCert, startSimnet, type Simnet } from './harness/index.js';

const MINUTE = 60_000;
let sim: Simnet;
let wc: WalletClient;
let dut: DaemonUnderTest | null = null;

beforeAll(async () => {
  sim = await startSimnet({ ourWallet: { managed: false } });
  wc = await walletClient(sim.ours);
}, 6 * MINUTE);

afterEach(async () => {
  await dut?.stop();
  dut = null;
});

afterAll(async () => {
  wc?.close();
  await sim?.stop();
}, 2 * MINUTE);

const reasons = async () => ((await dut!.get('/readyz')).body as { reasons: Record<string, string[]> }).reasons;

describe('bad setups on real nodes', () => {
  it('a client certificate missing from clients.pem: not ready, and the reason says what to do', async () => {
    const cert = join(sim.baseDir, 'rogue-client.pem');
    const key = join(sim.baseDir, 'rogue-client.key');
    await makeClientCert(cert, key, 'not in clients.pem');
    dut = await startInProcess(writeConfig(sim, { clientCertPath: cert, clientKeyPath: key }));
    const r = await waitFor('reason', async () => (await reasons()).ours?.find((x) => x.includes('client certificate')), 30_000, 100);
    console.log(`[e2e] reason given: ${r}`);
    expect(r).toMatch(/rejected our client certificate/);
    expect(r).toMatch(/clients\.pem/);
    expect(dut.fatal).toBeNull();
  }, 2 * MINUTE);

  it('a wrong passphrase: reported with the file to fix, retried slowly, never logged', async () => {
    await wc.lockWallet();
    try {
      dut = await startInProcess(writeConfig(sim, { passphrase: 'definitely-wrong-passphrase' }));
      await waitFor('rejected', async () => (await dut!.metric('dcrvoted_unlock_attempts_total', { wallet: 'ours', result: 'wrong_passphrase' })) === 1, 30_000);
      const line = dut.logs.events('unlock_failed')[0]!;
      expect(String(line.msg)).toMatch(/rejected the passphrase from .*wallet-passphrase \(wallets\[\]\.passphraseFile\)/);
      expect((await reasons()).ours).toContain('locked');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await dut.metric('dcrvoted_unlock_attempts_total', { wallet: 'ours', result: 'wrong_passphrase' })).toBe(1);
      expect(dut.logs.text).not.toContain('definitely-wrong-passphrase');
      expect(dut.logs.text).not.toContain(sim.ours.passphrase);
    } finally {
      await sim.ours.rpc('walletpassphrase', [sim.ours.passphrase, 0]);
    }
  }, 2 * MINUTE);

  it('a wallet and dcrd on another network: the daemon stops with exit code 78 and says so', async () => {
    dut = await startInProcess(writeConfig(sim, { network: 'testnet' }));
    const fatal = await waitFor('fatal', () => dut!.fatal, 30_000);
    expect(fatal.exitCode).toBe(78);
    expect(fatal.message).toMatch(/is on simnet, but dcrvoted is configured for testnet/);
  }, 2 * MINUTE);
});
