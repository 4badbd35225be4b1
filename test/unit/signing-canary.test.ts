// SigningCanary and AccountLockGuard on stub wallets: which outcome each
// wallet answer leads to, and the passphrase rules for voting accounts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { VoteAssembler } from '../../src/vote/assembler.js';
import { decodeTx, serializeTx } from '../../src/vote/tx.js';
import { AccountLockGuard, type AccountLockWallet } from '../../src/wallet/account-locks.js';
import type { LiveTicket, LiveTicketScan } from '../../src/wallet/grpc-client.js';
import { WalletPassphrase } from '../../src/wallet/passphrase.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { SigningCanary, type CanaryWallet } from '../../src/wallet/signing-canary.js';
import { makeTicket, newVotingKey, p2pkhSigScript, type VotingKey } from '../support/fake-tickets.js';

const logger = pino({ level: 'silent' });
const TIP = { hash: 'ab'.repeat(32), height: 300 };

function ticketOf(account: number | null): { live: LiveTicket; key: VotingKey } {
  const key = newVotingKey();
  const t = makeTicket(key);
  return { live: { hash: t.hash, tx: Buffer.from(t.hex, 'hex'), votingAccount: account }, key };
}

function scanOf(...tickets: LiveTicket[]): LiveTicketScan {
  const byAccount = new Map<number, LiveTicket>();
  for (const t of tickets) if (t.votingAccount !== null && !byAccount.has(t.votingAccount)) byAccount.set(t.votingAccount, t);
  return { byAccount, withoutKey: tickets.find((t) => t.votingAccount === null) ?? null, live: tickets.length };
}

interface Setup {
  scan: () => Promise<LiveTicketScan>;
  sign?: (tx: Uint8Array) => Promise<{ tx: Buffer; unsignedInputIndexes: number[] }>;
  unlocked?: boolean | null;
  lockedByDesign?: boolean;
  walletAloneVotes?: boolean;
  accounts?: AccountLockWallet;
  tickets: { live: LiveTicket; key: VotingKey }[];
}

function canaryFor(s: Setup) {
  const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  const signCalls: (null | Buffer)[] = [];
  const byHash = new Map(s.tickets.map((t) => [t.live.hash, t]));
  const signWithKeys = async (tx: Uint8Array) => {
    const d = decodeTx(tx);
    if (!d.ok) throw new Error(d.reason);
    const input = d.value.tx.txIn[1]!;
    const t = byHash.get(Buffer.from(input.prevOut.hash).reverse().toString('hex'))!;
    input.signatureScript = p2pkhSigScript(t.key, serializeTx(d.value.tx, 'noWitness'));
    return { tx: Buffer.from(serializeTx(d.value.tx)), unsignedInputIndexes: [] };
  };
  const wallet: CanaryWallet = {
    scanLiveTickets: s.scan,
    signTransaction: async (passphrase, tx) => {
      signCalls.push(passphrase);
      return (s.sign ?? signWithKeys)(tx);
    },
  };
  const assembler = new VoteAssembler({
    walletName: 'w',
    network: 'simnet',
    wallet: { getTicketTx: async (h) => byHash.get(h)?.live.tx ?? null, voteChoices: async () => ({ voteBits: 1 }), tspendPolicies: async () => [] },
    chain: { deployments: async () => ({}), tspendExpiry: async () => null },
    voteVersion: () => 12,
    logger,
  });
  const canary = new SigningCanary({
    walletName: 'w',
    walletAloneVotes: s.walletAloneVotes ?? true,
    wallet,
    assembler,
    accounts: new AccountLockGuard({ walletName: 'w', wallet: s.accounts ?? { accountUnlocked: async () => null, unlockAccount: async () => undefined }, passphrases: new Map(), metrics, logger }),
    lock: { unlocked: () => s.unlocked ?? true, lockedByDesign: () => s.lockedByDesign ?? false },
    metrics,
    logger,
  });
  return { canary, signCalls, metrics };
}

describe('SigningCanary', () => {
  it('signs one vote per voting account, never with a passphrase, and reports the txid it threw away', async () => {
    const a = ticketOf(0);
    const b = ticketOf(5);
    const { canary, signCalls } = canaryFor({ scan: async () => scanOf(a.live, b.live), tickets: [a, b] });
    const r = await canary.run(TIP);
    expect(r).toMatchObject({ status: 'ok', cause: null, accountsSigned: [0, 5], voteTxid: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(signCalls).toEqual([null, null]);
  });

  it('a signature by another key is a bad_signature', async () => {
    const a = ticketOf(0);
    const stranger = newVotingKey();
    const { canary } = canaryFor({
      scan: async () => scanOf(a.live),
      tickets: [a],
      sign: async (tx) => {
        const d = decodeTx(tx);
        if (!d.ok) throw new Error(d.reason);
        d.value.tx.txIn[1]!.signatureScript = p2pkhSigScript(stranger, new Uint8Array(1));
        return { tx: Buffer.from(serializeTx(d.value.tx)), unsignedInputIndexes: [] };
      },
    });
    expect(await canary.run(TIP)).toMatchObject({ status: 'cannot_sign', cause: 'bad_signature' });
  });

  it('an unsigned input: wallet_locked, or locked_by_design when dcrvoted signs with the passphrase per vote', async () => {
    const a = ticketOf(0);
    const unsigned = async (tx: Uint8Array) => ({ tx: Buffer.from(tx), unsignedInputIndexes: [1] });
    expect(await canaryFor({ scan: async () => scanOf(a.live), tickets: [a], sign: unsigned, unlocked: false }).canary.run(TIP)).toMatchObject({ status: 'cannot_sign', cause: 'wallet_locked' });
    expect(await canaryFor({ scan: async () => scanOf(a.live), tickets: [a], sign: unsigned, unlocked: false, lockedByDesign: true }).canary.run(TIP)).toMatchObject({ status: 'locked_by_design', cause: null });
  });

  it('a wallet-side refusal is grpc_refused; a lost wallet is thrown for the supervisor, not reported', async () => {
    const a = ticketOf(0);
    const refused = new WalletRpcError('wallet w refused', 'other', grpc.status.PERMISSION_DENIED, 'WalletService.SignTransaction', 'w', 'x');
    const lost = new WalletRpcError('wallet w is unreachable', 'unreachable', grpc.status.UNAVAILABLE, 'WalletService.GetTickets', 'w', 'x');
    const r = await canaryFor({ scan: async () => scanOf(a.live), tickets: [a], sign: async () => Promise.reject(refused) }).canary.run(TIP);
    expect(r).toMatchObject({ status: 'cannot_sign', cause: 'grpc_refused', message: expect.stringContaining('refused SignTransaction') });
    await expect(canaryFor({ scan: async () => Promise.reject(lost), tickets: [] }).canary.run(TIP)).rejects.toBe(lost);
  });

  it('no live ticket: nothing signed, reported as such', async () => {
    const { canary, signCalls, metrics } = canaryFor({ scan: async () => scanOf(), tickets: [] });
    expect(await canary.run(TIP)).toMatchObject({ status: 'no_live_ticket', cause: null });
    expect(signCalls).toEqual([]);
    expect((await metrics.signingCanaryStatus.get()).values.find((v) => v.labels.status === 'no_live_ticket')?.value).toBe(1);
  });
});

describe('AccountLockGuard', () => {
  function guardFor(state: Map<number, { pass: string | null; unlocked: boolean }>, files: Map<number, string>) {
    const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
    const sent: [number, string][] = [];
    const wallet: AccountLockWallet = {
      accountUnlocked: async (n) => {
        const a = state.get(n);
        return a?.pass ? a.unlocked : null;
      },
      unlockAccount: async (n, p) => {
        sent.push([n, p.toString()]);
        const a = state.get(n)!;
        if (p.toString() !== a.pass) throw new WalletRpcError('rejected the account passphrase', 'wrong_passphrase', grpc.status.INVALID_ARGUMENT, 'WalletService.UnlockAccount', 'w', 'x');
        a.unlocked = true;
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-acct-'));
    const passphrases = new Map<number, WalletPassphrase>();
    for (const [n, content] of files) {
      const path = join(dir, `acct-${n}`);
      writeFileSync(path, content);
      passphrases.set(n, new WalletPassphrase(new Secret(Buffer.from(content)), path));
    }
    return { guard: new AccountLockGuard({ walletName: 'w', wallet, passphrases, metrics, logger }), sent, dir };
  }

  it('unlocks a locked account with its file; never sends to an unlocked one or to one without its own passphrase', async () => {
    const state = new Map([
      [0, { pass: null, unlocked: false }],
      [7, { pass: 'right', unlocked: true }],
      [9, { pass: 'right', unlocked: false }],
    ]);
    const { guard, sent } = guardFor(state, new Map([[7, 'right'], [9, 'right']]));
    expect(await guard.check([0, 7, 9])).toEqual([]);
    expect(sent).toEqual([[9, 'right']]);
    expect(state.get(9)!.unlocked).toBe(true);
  });

  it('a rejected passphrase is not sent again until its file changes', async () => {
    const state = new Map([[9, { pass: 'right', unlocked: false }]]);
    const { guard, sent, dir } = guardFor(state, new Map([[9, 'wrong']]));
    expect(await guard.check([9])).toMatchObject([{ account: 9, why: expect.stringContaining('rejected the passphrase') }]);
    expect(await guard.check([9])).toMatchObject([{ account: 9, why: expect.stringContaining('will not send it again') }]);
    expect(sent).toEqual([[9, 'wrong']]);
    writeFileSync(join(dir, 'acct-9'), 'right!');
    state.get(9)!.pass = 'right!';
    expect(await guard.check([9])).toEqual([]);
    expect(sent).toEqual([[9, 'wrong'], [9, 'right!']]);
  });
});
