/**
 * signing: local — the voting-key store, the ticket listing that feeds it and
 * the caster that signs with it, on the real dcrwallet vote fixtures.
 */
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { createMetrics, initWalletSeries } from '../../src/telemetry/metrics.js';
import { VoteCaster, type CasterWallet } from '../../src/vote/caster.js';
import { decodeWif } from '../../src/vote/keys.js';
import { serializeTx } from '../../src/vote/tx.js';
import { VotingKeyStore } from '../../src/vote/voting-keys.js';
import { WalletPassphrase } from '../../src/wallet/passphrase.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { decodedTx, deploymentsOf, voteFixtures, withoutFraudProof, type VoteFixture as Fixture } from '../support/vote-fixtures.js';

const fixtures = voteFixtures.map((v) => v.fx);

/** The published vote with dcrd's fraud-proof fill undone: what the wallet signed. */
function walletVoteHex(fx: Fixture): string {
  return Buffer.from(serializeTx(withoutFraudProof(decodedTx(fx.voteHex)))).toString('hex');
}

/** dcrwallet's DumpPrivateKey as far as the store sees it (rpcserver DumpPrivateKey, wallet.LoadPrivateKey). */
class KeyWalletModel {
  locked = false;
  readonly asked: string[] = [];
  readonly answered: Buffer[] = [];
  constructor(readonly keys: Map<string, string>) {}
  async dumpPrivateKey(address: string): Promise<Buffer> {
    this.asked.push(address);
    if (this.locked) throw new WalletRpcError('wallet w: failed precondition: wallet.DumpWIFPrivateKey: wallet is locked', 'failed_precondition', grpc.status.FAILED_PRECONDITION, 'WalletService.DumpPrivateKey', 'w', 'x');
    const wif = this.keys.get(address);
    if (!wif) throw new WalletRpcError('wallet w: not found: item does not exist', 'not_found', grpc.status.NOT_FOUND, 'WalletService.DumpPrivateKey', 'w', 'x');
    const b = Buffer.from(wif, 'latin1');
    this.answered.push(b);
    return b;
  }
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

function storeFor(fxs: Fixture[], opts: { locked?: boolean; listed?: boolean; probeSaysUnlocked?: boolean } = {}) {
  const wallet = new KeyWalletModel(new Map(fxs.map((f) => [f.votingAddress, f.votingWif])));
  wallet.locked = opts.locked ?? false;
  const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  initWalletSeries(metrics, 'w', 'daemon', 'local');
  const log = capture();
  const store = new VotingKeyStore({ walletName: 'w', network: 'simnet', wallet, lockState: { unlocked: () => opts.probeSaysUnlocked ?? !wallet.locked }, metrics, logger: log.logger });
  if (opts.listed ?? true) for (const fx of fxs) store.ticketAdded(fx.ticketHash, Buffer.from(fx.ticketHex, 'hex'));
  return { wallet, metrics, store, log };
}

async function metric(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const x = (await m.registry.getMetricsAsJSON()).find((y) => y.name === name);
  return x?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}

function casterFor(fx: Fixture, store: VotingKeyStore, metrics: ReturnType<typeof createMetrics>, logger: pino.Logger) {
  const calls: string[] = [];
  const broadcasts: string[] = [];
  const wallet: CasterWallet = {
    getTicketTx: async (t) => {
      calls.push('GetTicket');
      return t === fx.ticketHash ? Buffer.from(fx.ticketHex, 'hex') : null;
    },
    voteChoices: async () => ({ voteBits: fx.voteBits }),
    tspendPolicies: async (h) => (h === undefined ? (fx.tspend ? [{ hash: fx.tspend.hash, policy: '' }] : []) : fx.tspend && fx.tspendPolicy ? [{ hash: h, policy: fx.tspendPolicy[fx.wallet] }] : []),
    signTransaction: async (_p, tx) => {
      calls.push('SignTransaction');
      // The wallet's own signature: the fixture's vote.
      void tx;
      return { tx: Buffer.from(walletVoteHex(fx), 'hex'), unsignedInputIndexes: [0] };
    },
    publishTransaction: async () => 'x',
  };
  const caster = new VoteCaster({
    walletName: 'w',
    network: 'simnet',
    wallet,
    chain: {
      deployments: async () => deploymentsOf(fx),
      tspendExpiry: async (h) => (fx.tspend?.hash === h ? fx.tspend.expiry : null),
      broadcast: async (hex) => {
        broadcasts.push(hex);
        return [{ node: 'a', ok: true, ms: 1 }];
      },
    },
    passphrase: new WalletPassphrase(new Secret(Buffer.from('pw')), null),
    lockState: { unlocked: () => true, refreshUnlocked: async () => true },
    voteVersion: () => fx.voteVersion,
    keys: store,
    metrics,
    logger,
  });
  return { caster, calls, broadcasts };
}

describe('signing: local — caster', () => {
  it.each(fixtures.map((f) => [f.voteTxid.slice(0, 12), f] as const))('signs the vote itself, byte-identical to the wallet, without GetTicket or SignTransaction (%s)', async (_n, fx) => {
    const { store, metrics, log } = storeFor([fx]);
    await store.fetchPending();
    const { caster, calls, broadcasts } = casterFor(fx, store, metrics, log.logger);
    const r = await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(r.txid).toBe(fx.voteTxid);
    expect(broadcasts).toEqual([walletVoteHex(fx)]);
    expect(calls).toEqual([]);
    expect(log.text()).toContain('"signer":"local"');
  });

  it('without a key (the wallet was locked when keys were fetched) the wallet signs, the reason is logged once and every fallback counted', async () => {
    const fx = fixtures[0] as Fixture;
    const { store, metrics, log, wallet } = storeFor([fx], { locked: true });
    await store.fetchPending();
    expect(wallet.asked).toEqual([]); // never asked while locked
    const { caster, calls, broadcasts } = casterFor(fx, store, metrics, log.logger);
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(calls).toEqual(['GetTicket', 'SignTransaction', 'GetTicket', 'SignTransaction']);
    expect(broadcasts).toEqual([walletVoteHex(fx), walletVoteHex(fx)]);
    expect(log.text().match(/"event":"local_signing_fallback"/g)).toHaveLength(1);
    expect(await metric(metrics, 'dcrvoted_local_signing_fallbacks_total', { wallet: 'w', reason: 'key_not_fetched' })).toBe(2);
  });

  it('a ticket the store never listed is signed by the wallet (ticket_not_listed)', async () => {
    const fx = fixtures[0] as Fixture;
    const { store, metrics, log } = storeFor([]);
    const { caster, calls } = casterFor(fx, store, metrics, log.logger);
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(calls).toContain('SignTransaction');
    expect(await metric(metrics, 'dcrvoted_local_signing_fallbacks_total', { wallet: 'w', reason: 'ticket_not_listed' })).toBe(1);
  });
});

describe('signing: local — key store', () => {
  it('fetches each key once the wallet is unlocked, zeroes the wire copy, and counts keys (never shows them)', async () => {
    const { store, wallet, metrics, log } = storeFor(fixtures, { locked: true });
    const tickets = new Set(fixtures.map((f) => f.ticketHash)).size; // a ticket can win twice (two blocks at one height)
    await store.fetchPending();
    expect(store.counts()).toEqual({ tickets, keys: 0, pending: tickets });
    wallet.locked = false;
    await store.fetchPending();
    expect(store.counts()).toEqual({ tickets, keys: tickets, pending: 0 });
    expect(wallet.answered.every((b) => b.every((x) => x === 0))).toBe(true);
    expect(await metric(metrics, 'dcrvoted_voting_keys', { wallet: 'w' })).toBe(tickets);
    const exported = (await metrics.registry.metrics()) + log.text();
    for (const fx of fixtures) {
      expect(exported).not.toContain(fx.votingWif);
      expect(exported).not.toContain(Buffer.from(decodeWif(fx.votingWif, 'simnet')).toString('hex'));
    }
  });

  it('a wallet that locks mid-fetch keeps the rest pending and is asked again later; the deferral is logged once', async () => {
    const { store, wallet, log } = storeFor(fixtures.slice(0, 3), { probeSaysUnlocked: true });
    const real = wallet.dumpPrivateKey.bind(wallet);
    let n = 0;
    wallet.dumpPrivateKey = async (a) => {
      if (++n === 2) wallet.locked = true;
      return real(a);
    };
    await store.fetchPending();
    expect(store.counts()).toMatchObject({ keys: 1, pending: 2 });
    // Seen unlocked by a stale probe, locked for DumpPrivateKey (e.g. an account with its own passphrase): asked, refused, not re-logged.
    await store.fetchPending();
    expect(wallet.asked).toHaveLength(3);
    expect(log.text().match(/"event":"voting_keys_deferred"/g)).toHaveLength(1);
    wallet.locked = false;
    await store.fetchPending();
    expect(store.counts()).toMatchObject({ keys: 3, pending: 0 });
  });

  it('zeroes a key when its ticket is removed (voted, revoked, expired)', async () => {
    const fx = fixtures[0] as Fixture;
    const { store } = storeFor([fx]);
    await store.fetchPending();
    const found = store.lookup(fx.ticketHash);
    if (!('key' in found)) throw new Error('no key');
    store.ticketRemoved(fx.ticketHash);
    expect(found.key.privateKey.every((b) => b === 0)).toBe(true);
    expect(store.lookup(fx.ticketHash)).toEqual({ missing: 'ticket_not_listed' });
  });

  it('clear() zeroes every key', async () => {
    const { store } = storeFor(fixtures.slice(0, 4));
    await store.fetchPending();
    const held = fixtures.slice(0, 4).map((f) => store.lookup(f.ticketHash));
    store.clear();
    for (const h of held) {
      if (!('key' in h)) throw new Error('no key');
      expect(h.key.privateKey.every((b) => b === 0)).toBe(true);
    }
  });

  it('a key the wallet does not hold is not asked for again (key_refused)', async () => {
    const fx = fixtures[0] as Fixture;
    const { store, wallet } = storeFor([fx]);
    wallet.keys.clear();
    await store.fetchPending();
    await store.fetchPending();
    expect(wallet.asked).toHaveLength(1);
    expect(store.lookup(fx.ticketHash)).toEqual({ missing: 'key_refused' });
  });

  it('a wallet answering another ticket’s key is refused before any signature', async () => {
    const [a, b] = fixtures as [Fixture, Fixture];
    const { store, wallet } = storeFor([a]);
    wallet.keys.set(a.votingAddress, b.votingWif);
    await store.fetchPending();
    expect(store.lookup(a.ticketHash)).toEqual({ missing: 'key_refused' });
  });

  it('a P2SH ticket is left to the wallet (not_p2pkh), no key asked for', async () => {
    const fx = fixtures[0] as Fixture;
    const t = decodedTx(fx.ticketHex);
    const out0 = t.txOut[0];
    if (!out0) throw new Error('no output 0');
    out0.pkScript = Uint8Array.of(0xba, 0xa9, 0x14, ...new Uint8Array(20), 0x87);
    const { store, wallet } = storeFor([]);
    store.ticketAdded('aa'.repeat(32), Buffer.from(serializeTx(t)));
    await store.fetchPending();
    expect(wallet.asked).toEqual([]);
    expect(store.lookup('aa'.repeat(32))).toEqual({ missing: 'not_p2pkh' });
  });
});
