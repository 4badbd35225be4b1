/**
 * Bad setups against real nodes give the clear errors the daemon promises:
 * a client certificate the wallet does not trust, a wrong passphrase, a
 * wallet on another network.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';
import { makeClientCert } from './harness/index.js';

const MINUTE = 60_000;
const fx = useSimnet();

const reasons = async () => ((await fx.dut!.get('/readyz')).body as { reasons: Record<string, string[]> }).reasons;

describe('bad setups on real nodes', () => {
  it('a client certificate missing from clients.pem: not ready, and the reason says what to do', async () => {
    const cert = join(fx.sim.baseDir, 'rogue-client.pem');
    const key = join(fx.sim.baseDir, 'rogue-client.key');
    await makeClientCert(cert, key, 'not in clients.pem');
    fx.dut = await startInProcess(writeConfig(fx.sim, { clientCertPath: cert, clientKeyPath: key }));
    const r = await waitFor('reason', async () => (await reasons()).ours?.find((x) => x.includes('client certificate')), 30_000, 100);
    console.log(`[e2e] reason given: ${r}`);
    expect(r).toMatch(/rejected our client certificate/);
    expect(r).toMatch(/clients\.pem/);
    expect(fx.dut.fatal).toBeNull();
  }, 2 * MINUTE);

  it('a wrong passphrase: reported with the file to fix, not sent again until the file changes, never logged', async () => {
    await fx.wallet.lockWallet();
    try {
      fx.dut = await startInProcess(writeConfig(fx.sim, { passphrase: 'definitely-wrong-passphrase' }));
      await waitFor('rejected', async () => (await fx.dut!.metric('dcrvoted_unlock_attempts_total', { wallet: 'ours', result: 'wrong_passphrase' })) === 1, 30_000);
      const line = fx.dut.logs.events('unlock_failed')[0]!;
      expect(String(line.msg)).toMatch(/rejected the passphrase from .*wallet-passphrase \(wallets\[\]\.passphraseFile\)/);
      expect((await reasons()).ours?.join('\n')).toMatch(/^locked, and the wallet rejected the passphrase in .*wallet-passphrase/m);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await fx.dut.metric('dcrvoted_unlock_attempts_total', { wallet: 'ours', result: 'wrong_passphrase' })).toBe(1);
      expect(fx.dut.logs.text).not.toContain('definitely-wrong-passphrase');
      expect(fx.dut.logs.text).not.toContain(fx.sim.ours.passphrase);
    } finally {
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    }
  }, 2 * MINUTE);

  it('a wallet and dcrd on another network: the daemon stops with exit code 78 and says so', async () => {
    fx.dut = await startInProcess(writeConfig(fx.sim, { network: 'testnet' }));
    const fatal = await waitFor('fatal', () => fx.dut!.fatal, 30_000);
    expect(fatal.exitCode).toBe(78);
    expect(fatal.message).toMatch(/is on simnet, but dcrvoted is configured for testnet/);
  }, 2 * MINUTE);
});
