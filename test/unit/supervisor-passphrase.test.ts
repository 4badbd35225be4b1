// The wallet supervisor never costs the operator an unlocked wallet: no
// passphrase goes to a wallet that is unlocked (dcrwallet locks it on a wrong
// one), a rejected one is not sent again until its file changes, and a
// wallet that cannot sign its votes says so in its readiness.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WalletConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import { PolicyReconciler } from '../../src/policy/reconciler.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { WalletPassphrase } from '../../src/wallet/passphrase.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { WalletSupervisor, type SupervisedWallet, type WalletInfo } from '../../src/wallet/supervisor.js';

/** dcrwallet's lock rules (wallet.Unlock): a wrong passphrase locks; UnlockWallet unlocks for good. */
class LockingWallet implements SupervisedWallet {
  unlocked: boolean;
  readonly passphrasesSent: string[] = [];
  constructor(
    unlocked: boolean,
    readonly correct = 'right',
  ) {
    this.unlocked = unlocked;
  }
  #check(method: string, passphrase: Buffer): void {
    this.passphrasesSent.push(passphrase.toString());
    if (passphrase.toString() !== this.correct) {
      this.unlocked = false;
      throw new WalletRpcError('rejected the private passphrase', 'wrong_passphrase', grpc.status.INVALID_ARGUMENT, method, 'w', 'x');
    }
  }
  async ping() {}
  async network() {
    return 'simnet' as const;
  }
  async bestBlock() {
    return { hash: 'ab'.repeat(32), height: 100 };
  }
  async stakeInfo() {
    return { ownMempoolTix: 0, immature: 0, live: 1, voted: 0, missed: 0, revoked: 0, expired: 0 };
  }
  async getTicket() {
    return null;
  }
  async unlockWallet(passphrase: Buffer) {
    this.#check('WalletService.UnlockWallet', passphrase);
    this.unlocked = true;
  }
  async signTransaction(passphrase: Buffer | null, tx: Uint8Array) {
    if (passphrase) this.#check('WalletService.SignTransaction', passphrase);
    return { tx: Buffer.from(tx), unsignedInputIndexes: [] };
  }
  async walletExists() {
    return true;
  }
  async openWallet() {
    return {};
  }
  rpcSync(): never {
    throw new Error('not managed');
  }
  close() {}
  async agendas() {
    return { version: 10, agendas: [] };
  }
  async voteChoices() {
    return { version: 10, choices: [], voteBits: 1 };
  }
  async setVoteChoices() {}
  async treasuryPolicies() {
    return [];
  }
  async setTreasuryPolicy() {}
  async tspendPolicies() {
    return [];
  }
  async setTSpendPolicy() {}
  info(): WalletInfo {
    return { unlocked: this.unlocked, voting: true, daemonConnected: true, voteVersion: 10 };
  }
}

const running: WalletSupervisor[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function passphraseFile(content: string): { path: string; passphrase: WalletPassphrase } {
  const path = join(mkdtempSync(join(tmpdir(), 'dcrvoted-sup-')), 'pass');
  writeFileSync(path, content + '\n');
  return { path, passphrase: new WalletPassphrase(new Secret(Buffer.from(content)), path) };
}

function supervise(wallet: LockingWallet, passphrase: WalletPassphrase, cfg: { votingMode: WalletConfig['votingMode']; unlock: boolean }): WalletSupervisor {
  const config = {
    name: 'w',
    grpc: { host: '127.0.0.1', port: 1, address: '127.0.0.1:1' },
    mode: 'attached',
    votingMode: cfg.votingMode,
    unlock: cfg.unlock,
    passphrase: null,
    passphrasePath: passphrase.path,
    callTimeoutMs: 1000,
    managed: null,
  } as unknown as WalletConfig;
  const sup = new WalletSupervisor({
    config,
    network: 'simnet',
    client: wallet,
    probe: { walletInfo: async () => wallet.info() },
    policy: new PolicyReconciler('w', { agendas: {}, treasuryKeys: {}, tspends: {} }),
    passphrase,
    metrics: createMetrics({ version: 't', network: 'simnet', processMetrics: false }),
    logger: pino({ level: 'silent' }),
    dcrdHeight: () => 100,
    probeIntervalMs: 5,
    policyCheckIntervalMs: 60_000,
    backoffMinMs: 5,
    backoffMaxMs: 20,
    wrongPassphraseRetryMs: 0,
    onRound: () => roundsDone.set(sup, (roundsDone.get(sup) ?? 0) + 1),
  });
  running.push(sup);
  sup.start();
  return sup;
}

const roundsDone = new WeakMap<WalletSupervisor, number>();

/** Lets the supervisor's own loop run n more repair/probe rounds. */
async function rounds(sup: WalletSupervisor, n: number): Promise<void> {
  const target = (roundsDone.get(sup) ?? 0) + n;
  await vi.waitFor(() => expect(roundsDone.get(sup) ?? 0).toBeGreaterThanOrEqual(target), { timeout: 10_000, interval: 2 });
}

describe('wallet supervisor and the passphrase', () => {
  it('an unlocked wallet never gets the passphrase, so a wrong passphrase file cannot lock it', async () => {
    const wallet = new LockingWallet(true);
    const { passphrase } = passphraseFile('wrong');
    const sup = supervise(wallet, passphrase, { votingMode: 'both', unlock: true });
    await rounds(sup, 20);
    expect(wallet.passphrasesSent).toEqual([]);
    expect(wallet.unlocked).toBe(true);
    expect(sup.isReady()).toBe(true);
  });

  it('a locked wallet that rejects the passphrase is asked once, not again until the file changes, then unlocked', async () => {
    const wallet = new LockingWallet(false);
    const file = passphraseFile('wrong');
    const sup = supervise(wallet, file.passphrase, { votingMode: 'wallet', unlock: true });
    await rounds(sup, 20);
    expect(wallet.passphrasesSent).toEqual(['wrong']);
    expect(sup.reasons().join()).toContain(`rejected the passphrase in ${file.path}`);
    expect(sup.status().unlock.passphrase).toBe('rejected');
    writeFileSync(file.path, 'right\n');
    await rounds(sup, 5);
    expect(wallet.passphrasesSent).toEqual(['wrong', 'right']);
    expect(wallet.unlocked).toBe(true);
    expect(sup.isReady()).toBe(true);
  });

  it('votingMode daemon with a wallet kept locked: a rejected passphrase makes it not ready, naming the file', async () => {
    const wallet = new LockingWallet(false);
    const file = passphraseFile('wrong');
    const sup = supervise(wallet, file.passphrase, { votingMode: 'daemon', unlock: false });
    await rounds(sup, 10);
    // Checked once against the locked wallet (which stays locked), never again.
    expect(wallet.passphrasesSent).toEqual(['wrong']);
    expect(wallet.unlocked).toBe(false);
    expect(sup.isReady()).toBe(false);
    expect(sup.reasons().join()).toContain(`locked, and the wallet rejected the passphrase in ${file.path}`);
    writeFileSync(file.path, 'right\n');
    await rounds(sup, 5);
    expect(wallet.passphrasesSent).toEqual(['wrong', 'right']);
    expect(wallet.unlocked).toBe(false);
    expect(sup.isReady()).toBe(true);
    expect(sup.status().unlock.passphrase).toBe('accepted');
  });
});
