// WalletClient and StatusProbe against the in-process fake dcrwallet: real
// sockets, real TLS with client certificates, our proto on the wire.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WalletClient, type WalletClientOptions } from '../../src/wallet/grpc-client.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { hashHexToWire } from '../../src/wallet/wire.js';
import * as grpc from '@grpc/grpc-js';
import { WALLET_MAX_RECEIVE_BYTES } from '../../src/wallet/grpc-client.js';
import { StatusProbe, StatusProbeError, WALLETINFO_MAX_BYTES, type StatusProbeAuth } from '../../src/wallet/status-probe.js';
import { generateTestPki, type TestPki } from '../support/certs.js';
import { FakeWallet, type FakeWalletOptions } from '../support/fake-wallet.js';

let pki: TestPki;
const fakes: FakeWallet[] = [];
const clients: WalletClient[] = [];

beforeAll(() => {
  pki = generateTestPki();
});
afterAll(() => pki.cleanup());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const f of fakes.splice(0)) await f.stop();
});

async function startFake(opts: Partial<FakeWalletOptions> = {}): Promise<FakeWallet> {
  const f = await FakeWallet.start({ pki, ...opts });
  fakes.push(f);
  return f;
}

function clientFor(fake: FakeWallet, over: Partial<WalletClientOptions> = {}): WalletClient {
  const c = new WalletClient({
    name: 'w1',
    address: fake.grpcAddress,
    caCert: pki.serverCa.cert,
    clientCert: pki.client.cert,
    clientKey: pki.client.key,
    callTimeoutMs: 2000,
    ...over,
  });
  clients.push(c);
  return c;
}

async function rpcError(p: Promise<unknown>): Promise<WalletRpcError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WalletRpcError);
    return err as WalletRpcError;
  }
  throw new Error('expected a WalletRpcError');
}

/** A hash whose bytes differ end to end, so a missed reversal cannot pass. */
const asym = (seed: number): string =>
  Array.from({ length: 32 }, (_, i) => ((seed * 31 + i * 7) & 0xff).toString(16).padStart(2, '0')).join('');

describe('WalletClient round trips', () => {
  it('version, ping, network, bestBlock, stakeInfo', async () => {
    const fake = await startFake({ state: { bestBlock: { hash: asym(1), height: 4242 } } });
    fake.state.tickets.set(asym(2), { status: 'LIVE' });
    fake.state.tickets.set(asym(3), { status: 'VOTED', spenderHash: asym(4) });
    fake.state.tickets.set(asym(5), { status: 'IMMATURE' });
    fake.state.stake.totalSubsidy = 123_456_789_012;
    const c = clientFor(fake);

    expect(await c.version()).toEqual({
      versionString: '10.0.0', major: 10, minor: 0, patch: 0, prerelease: '', buildMetadata: '',
    });
    await c.ping();
    expect(await c.network()).toBe('simnet');
    expect(await c.networkInfo()).toEqual({ name: 'simnet', netId: 0x12141c16 });
    fake.state.network = 'mainnet';
    expect(await c.networkInfo()).toEqual({ name: 'mainnet', netId: 0xd9b400f9 });
    fake.state.network = 'testnet';
    expect(await c.network()).toBe('testnet');
    fake.state.network = 0xdab500fa; // regnet
    expect(await c.networkInfo()).toEqual({ name: 'unknown', netId: 0xdab500fa });

    expect(await c.bestBlock()).toEqual({ hash: asym(1), height: 4242 });
    const si = await c.stakeInfo();
    expect(si).toMatchObject({ live: 1, voted: 1, immature: 1, unspent: 2, poolSize: 64, totalSubsidy: 123_456_789_012 });
  });

  it('hashes travel reversed on the wire', () => {
    const display = '00'.repeat(31) + 'ff';
    const wire = hashHexToWire(display);
    expect(wire[0]).toBe(0xff);
    expect(wire[31]).toBe(0x00);
    expect(() => hashHexToWire('abc')).toThrow(TypeError);
  });

  it('getTicket: statuses, spender, block, and null for a ticket the wallet does not own', async () => {
    const fake = await startFake();
    fake.state.tickets.set(asym(10), { status: 'LIVE', blockHash: asym(11), blockHeight: 300 });
    fake.state.tickets.set(asym(12), { status: 'VOTED', spenderHash: asym(13), spenderType: 'VOTE', blockHash: asym(14), blockHeight: 200 });
    fake.state.tickets.set(asym(15), { status: 'UNMINED' });
    const c = clientFor(fake);

    expect(await c.getTicket(asym(10))).toEqual({
      hash: asym(10), status: 'LIVE', spenderHash: null, spenderType: null, blockHash: asym(11), blockHeight: 300, vspHost: '', votingAccount: null,
    });
    expect(await c.getTicket(asym(12))).toMatchObject({ status: 'VOTED', spenderHash: asym(13), spenderType: 'VOTE', blockHeight: 200 });
    expect(await c.getTicket(asym(15))).toMatchObject({ status: 'UNMINED', blockHash: null, blockHeight: null });
    expect(await c.getTicket(asym(99))).toBeNull();
    expect(fake.calls('GetTicket')).toBe(4);
  });

  it('getTicketTx: the purchase transaction, fetched once per ticket (the ownership check already brought it)', async () => {
    const fake = await startFake();
    fake.state.tickets.set(asym(20), { status: 'LIVE', tx: '0100aabbcc' });
    const c = clientFor(fake);
    expect(await c.getTicket(asym(20))).toMatchObject({ status: 'LIVE' });
    expect(await c.getTicketTx(asym(20))).toEqual(Buffer.from('0100aabbcc', 'hex'));
    expect(fake.calls('GetTicket')).toBe(1);
    expect(await c.getTicketTx(asym(99))).toBeNull();
    expect(fake.calls('GetTicket')).toBe(2);
  });

  it('unlock and lock; a wrong passphrase is wrong_passphrase, never echoed, and locks the wallet', async () => {
    const secret = 'hunter2-very-secret';
    const fake = await startFake({ state: { passphrase: secret, locked: true } });
    const c = clientFor(fake, { hints: { passphraseFile: '/run/credentials/dcrvoted/w1-pass' } });

    await c.unlockWallet(Buffer.from(secret));
    expect(fake.state.locked).toBe(false);

    const wrong = 'wrong-passphrase-xyz';
    const err = await rpcError(c.unlockWallet(Buffer.from(wrong)));
    expect(err.kind).toBe('wrong_passphrase');
    expect(err.code).toBe(3); // InvalidArgument
    expect(err.method).toBe('WalletService.UnlockWallet');
    expect(err.message).toContain('/run/credentials/dcrvoted/w1-pass');
    const everything = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)} ${String(err)}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(secret);
    expect(fake.state.locked).toBe(true); // dcrwallet locks on a failed unlock

    await c.unlockWallet(Buffer.from(secret));
    await c.lockWallet();
    expect(fake.state.locked).toBe(true);
  });

  it('managed mode: walletExists, openWallet (already open is success), services not ready before open', async () => {
    const fake = await startFake({ state: { opened: false, publicPassphrase: 'pubpass' } });
    const c = clientFor(fake);
    expect(await c.walletExists()).toBe(true);

    const notReady = await rpcError(c.ping());
    expect(notReady.kind).toBe('failed_precondition');
    expect(notReady.message).toContain('walletrpc.WalletService is not ready');

    const wrong = await rpcError(c.openWallet(Buffer.from('nope')));
    expect(wrong.kind).toBe('wrong_passphrase');
    expect(wrong.message).not.toContain('nope');

    expect(await c.openWallet(Buffer.from('pubpass'))).toEqual({ alreadyOpen: false, watchingOnly: false });
    expect(await c.openWallet(Buffer.from('pubpass'))).toEqual({ alreadyOpen: true, watchingOnly: null });
    await c.ping();
  });

  it('rpcSync: synced, cancel, refusal while syncing, failure and loss of dcrd', async () => {
    const fake = await startFake({ state: { daemonConnected: false } });
    const c = clientFor(fake);
    const opts = {
      networkAddress: '127.0.0.1:19556',
      username: 'dcrduser',
      password: Buffer.from('dcrd-secret-pass'),
      certificate: Buffer.from('-----BEGIN CERTIFICATE-----\n'),
    };

    const h = c.rpcSync(opts);
    await new Promise<void>((resolve) => h.once('synced', resolve));
    expect(h.synced).toBe(true);
    expect(fake.state.syncing).toBe(true);
    expect(fake.state.lastRpcSync).toEqual({ networkAddress: '127.0.0.1:19556', username: 'dcrduser', discoverAccounts: false });

    // A second sync is refused the way dcrwallet refuses it.
    const second = c.rpcSync(opts);
    const secondErr = await new Promise<WalletRpcError>((resolve) => second.once('error', resolve));
    expect(secondErr.kind).toBe('failed_precondition');
    expect(secondErr.message).toContain('already synchronizing');
    expect(secondErr.message).not.toContain('dcrd-secret-pass');

    const ended = new Promise<void>((resolve) => h.once('end', resolve));
    const errors: unknown[] = [];
    h.on('error', (e) => errors.push(e));
    h.cancel();
    await ended;
    expect(errors).toEqual([]);
    await expect.poll(() => fake.state.syncing).toBe(false);

    // The wallet loses dcrd mid-sync.
    const h2 = c.rpcSync(opts);
    await new Promise<void>((resolve) => h2.once('synced', resolve));
    const lost = new Promise<WalletRpcError>((resolve) => h2.once('error', resolve));
    const end2 = new Promise<void>((resolve) => h2.once('end', resolve));
    fake.endSyncs('dcrd went away');
    expect((await lost).kind).toBe('other');
    await end2;
    expect(h2.lastError?.code).toBe(2); // Unknown

    // dcrd refuses the wallet at once.
    fake.state.rpcSync = { mode: 'fail', message: 'connect: connection refused' };
    const h3 = c.rpcSync(opts);
    const failed = await new Promise<WalletRpcError>((resolve) => h3.once('error', resolve));
    expect(failed.method).toBe('WalletLoaderService.RpcSync');
    expect(failed.message).not.toContain('dcrd-secret-pass');
  });

  it('agendas and vote choices, wallet-wide and per ticket; bad choices change nothing', async () => {
    const fake = await startFake();
    fake.state.tickets.set(asym(20), { status: 'LIVE' });
    const c = clientFor(fake);

    const ag = await c.agendas();
    expect(ag.version).toBe(11);
    expect(ag.agendas.map((a) => a.id)).toEqual(['maxblocksize', 'blake3pow']);
    expect(ag.agendas[0]?.choices.map((x) => [x.id, x.bits, x.isAbstain, x.isNo])).toEqual([
      ['abstain', 0, true, false],
      ['no', 2, false, true],
      ['yes', 4, false, false],
    ]);
    expect(ag.agendas[0]?.startTime).toBe(1_700_000_000);

    let vc = await c.voteChoices();
    expect(vc.choices.map((x) => x.choiceId)).toEqual(['abstain', 'abstain']);
    expect(vc.voteBits).toBe(1);

    const set = await c.setVoteChoices([{ agendaId: 'maxblocksize', choiceId: 'yes' }, { agendaId: 'blake3pow', choiceId: 'no' }]);
    expect(set.voteBits).toBe(1 | 4 | 8);
    expect(fake.calls('SetVoteChoices')).toBe(1);
    vc = await c.voteChoices();
    expect(vc.choices).toEqual([
      { agendaId: 'maxblocksize', agendaDescription: 'Change maximum allowed block size', choiceId: 'yes', choiceDescription: 'change to the new consensus rules' },
      { agendaId: 'blake3pow', agendaDescription: 'Change proof of work hashing algorithm', choiceId: 'no', choiceDescription: 'keep the existing consensus rules' },
    ]);

    const badAgenda = await rpcError(c.setVoteChoices([{ agendaId: 'maxblocksize', choiceId: 'no' }, { agendaId: 'nosuch', choiceId: 'yes' }]));
    expect(badAgenda.kind).toBe('invalid_argument');
    expect(badAgenda.message).toContain('no agenda with ID "nosuch"');
    const badChoice = await rpcError(c.setVoteChoices([{ agendaId: 'maxblocksize', choiceId: 'maybe' }]));
    expect(badChoice.kind).toBe('invalid_argument');
    expect((await c.voteChoices()).choices[0]?.choiceId).toBe('yes'); // unchanged

    // Per ticket: falls back to wallet-wide until set; unknown ticket is NotFound.
    expect((await c.voteChoices(asym(20))).choices[0]?.choiceId).toBe('yes');
    await c.setVoteChoices([{ agendaId: 'maxblocksize', choiceId: 'abstain' }], asym(20));
    expect((await c.voteChoices(asym(20))).choices[0]?.choiceId).toBe('abstain');
    expect((await c.voteChoices()).choices[0]?.choiceId).toBe('yes');
    expect((await rpcError(c.voteChoices(asym(21)))).kind).toBe('not_found');
    expect((await rpcError(c.setVoteChoices([{ agendaId: 'maxblocksize', choiceId: 'no' }], asym(21)))).kind).toBe('not_found');
  });

  it('treasury key and tspend policies', async () => {
    const fake = await startFake();
    const c = clientFor(fake);
    const key = '02' + 'ab'.repeat(32);
    const key2 = '03' + 'cd'.repeat(32);

    expect(await c.treasuryPolicies()).toEqual([]);
    await c.setTreasuryPolicy(key, 'yes');
    await c.setTreasuryPolicy(key2, 'no');
    expect(await c.treasuryPolicies()).toEqual([
      { key, policy: 'yes', ticketHash: null },
      { key: key2, policy: 'no', ticketHash: null },
    ]);
    expect([...fake.state.treasuryPolicies.keys()]).toEqual([key, key2]); // keys are not reversed
    await c.setTreasuryPolicy(key2, 'abstain'); // abstain removes the entry, as in dcrwallet
    expect(await c.treasuryPolicies()).toEqual([{ key, policy: 'yes', ticketHash: null }]);
    await expect(c.setTreasuryPolicy('02ab', 'yes')).rejects.toThrow(TypeError);

    // A tspend not seen yet: its policy is stored but only readable by hash.
    const unseen = asym(30);
    await c.setTSpendPolicy(unseen, 'no');
    expect(fake.state.tspendPolicies.get(unseen)).toBe('no');
    expect(await c.tspendPolicies()).toEqual([]);
    expect(await c.tspendPolicies(unseen)).toEqual([{ hash: unseen, policy: 'no', ticketHash: null }]);

    // A seen tspend signed by `key` inherits the key policy; abstain comes back as abstain.
    const seen = asym(31);
    const other = asym(32);
    fake.state.knownTSpends.set(seen, key);
    fake.state.knownTSpends.set(other, key2);
    expect(await c.tspendPolicies()).toEqual([
      { hash: seen, policy: 'yes', ticketHash: null },
      { hash: other, policy: 'abstain', ticketHash: null },
    ]);
    expect(await c.tspendPolicies(asym(33))).toEqual([{ hash: asym(33), policy: 'abstain', ticketHash: null }]);

    // Per-ticket tspend policy.
    await c.setTSpendPolicy(seen, 'no', asym(34));
    expect(fake.state.ticketTSpendPolicies.get(`${asym(34)}/${seen}`)).toBe('no');
  });
});

describe('WalletClient TLS and connectivity failures', () => {
  it('a client certificate the wallet does not trust is tls_rejected with an actionable message', async () => {
    const fake = await startFake();
    const c = clientFor(fake, {
      clientCert: pki.rogue.cert,
      clientKey: pki.rogue.key,
      hints: { clientCertPath: '/etc/dcrvoted/client.pem' },
    });
    const err = await rpcError(c.ping());
    expect(err.kind).toBe('tls_rejected');
    expect(err.wallet).toBe('w1');
    expect(err.method).toBe('WalletService.Ping');
    expect(err.message).toContain(`wallet w1 at ${fake.grpcAddress} rejected our client certificate`);
    expect(err.message).toContain('append the certificate from wallets[].clientCert (/etc/dcrvoted/client.pem)');
    expect(err.message).toContain("clients.pem");
    expect(fake.calls('Ping')).toBe(0);
  });

  it('no client certificate at all is tls_rejected', async () => {
    const fake = await startFake();
    const c = clientFor(fake, { clientCert: Buffer.alloc(0), clientKey: Buffer.alloc(0) });
    const err = await rpcError(c.ping());
    expect(err.kind).toBe('tls_rejected');
    expect(err.message).toMatch(/certificate required|right after the TLS handshake/);
  });

  it('a wallet certificate not signed by caCert is tls_untrusted', async () => {
    const fake = await startFake();
    const c = clientFor(fake, { caCert: pki.rogueCa.cert, hints: { caCertPath: '/etc/dcrvoted/w1-rpc.cert' } });
    const err = await rpcError(c.ping());
    expect(err.kind).toBe('tls_untrusted');
    expect(err.message).toContain('wallets[].caCert (/etc/dcrvoted/w1-rpc.cert)');
    expect(err.message).toContain("rpc.cert");
  });

  it('a stopped wallet is unreachable within the deadline; after a restart on the same port the client works again', async () => {
    const fake = await startFake();
    const c = clientFor(fake, { callTimeoutMs: 1500 });
    await c.ping();

    await fake.stop();
    const err = await rpcError(c.ping());
    expect(err.kind).toBe('unreachable');
    // Refused (UNAVAILABLE), not waited out until the deadline passed.
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.message).toContain(`wallet w1 at ${fake.grpcAddress} is unreachable`);
    expect(err.message).not.toContain('no connection within');

    await fake.restart();
    await expect
      .poll(async () => c.ping().then(() => 'ok', (e: WalletRpcError) => e.kind), { timeout: 10_000, interval: 200 })
      .toBe('ok');
    expect(await c.bestBlock()).toMatchObject({ height: 1 });
  });

  it('a wallet that does not answer in time gives deadline', async () => {
    const fake = await startFake();
    const c = clientFor(fake, { callTimeoutMs: 300 });
    await c.ping();
    fake.state.delayMs['Ping'] = 1500;
    const err = await rpcError(c.ping());
    expect(err.kind).toBe('deadline');
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(err.message).toContain(`wallet w1 at ${fake.grpcAddress} did not answer WalletService.Ping within 300 ms`);
    fake.state.delayMs['Ping'] = 0;
    await c.ping(); // a fresh channel after the deadline
  });

  it('an answer over the receive limit is refused with an error naming it, and the client keeps working', async () => {
    const fake = await startFake();
    const c = clientFor(fake);
    // A wallet answering Agendas with 2 MiB: far over any real answer, under grpc-js's 4 MiB default.
    fake.state.agendas[0]!.description = 'd'.repeat(2 * 1024 * 1024);
    const err = await rpcError(c.agendas());
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.message).toContain(String(WALLET_MAX_RECEIVE_BYTES));
    fake.state.agendas[0]!.description = 'Change maximum allowed block size';
    expect((await c.agendas()).agendas).toHaveLength(2);
  });

  it('nothing listening at all is unreachable', async () => {
    const fake = await startFake();
    const addr = fake.grpcAddress;
    await fake.stop();
    const c = new WalletClient({ name: 'w2', address: addr, caCert: pki.serverCa.cert, clientCert: pki.client.cert, clientKey: pki.client.key, callTimeoutMs: 1000 });
    clients.push(c);
    const err = await rpcError(c.walletExists());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('StatusProbe (walletinfo over JSON-RPC)', () => {
  const basic = (fake: FakeWallet, password = fake.jsonRpcPassword): StatusProbeAuth => ({
    type: 'basic',
    user: fake.jsonRpcUser,
    password: Buffer.from(password),
  });

  async function probeError(p: Promise<unknown>): Promise<StatusProbeError> {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(StatusProbeError);
      return err as StatusProbeError;
    }
    throw new Error('expected a StatusProbeError');
  }

  it('reports unlocked, voting, daemonConnected and voteVersion', async () => {
    const fake = await startFake({ state: { locked: false, votingEnabled: true, daemonConnected: true } });
    const probe = new StatusProbe({ name: 'w1', address: fake.jsonRpcAddress, caCert: pki.serverCa.cert, auth: basic(fake) });
    expect(await probe.walletInfo()).toEqual({ unlocked: true, voting: true, daemonConnected: true, voteVersion: 11, spv: false });
    fake.state.locked = true;
    fake.state.votingEnabled = false;
    fake.state.daemonConnected = false;
    expect(await probe.walletInfo()).toMatchObject({ unlocked: false, voting: false, daemonConnected: false });
    expect(fake.calls('walletinfo')).toBe(2);
  });

  it('a wrong password is auth_failed (401) and the password appears nowhere', async () => {
    const fake = await startFake();
    const probe = new StatusProbe({ name: 'w1', address: fake.jsonRpcAddress, caCert: pki.serverCa.cert, auth: basic(fake, 'not-the-password') });
    const err = await probeError(probe.walletInfo());
    expect(err.kind).toBe('auth_failed');
    expect(err.httpStatus).toBe(401);
    expect(err.message).toContain('wallets[].jsonrpc.passwordFile');
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain('not-the-password');
  });

  it('no wallet loaded yet is rpc_error -4', async () => {
    const fake = await startFake({ state: { opened: false } });
    const probe = new StatusProbe({ name: 'w1', address: fake.jsonRpcAddress, caCert: pki.serverCa.cert, auth: basic(fake) });
    const err = await probeError(probe.walletInfo());
    expect(err.kind).toBe('rpc_error');
    expect(err.rpcCode).toBe(-4);
  });

  it('a hostile answer is bad_response, never a crash: deep nesting anywhere, or more bytes than any walletinfo', async () => {
    const fake = await startFake();
    const probe = new StatusProbe({ name: 'w1', address: fake.jsonRpcAddress, caCert: pki.serverCa.cert, auth: basic(fake) });
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    for (const body of [
      deep,
      `{"result":null,"error":{"code":-1,"message":${deep}},"id":1}`,
      `{"result":null,"error":${deep},"id":1}`,
      `{"result":${deep},"error":null,"id":1}`,
      `{"result":{"unlocked":${deep}},"error":null,"id":1}`,
    ]) {
      fake.state.jsonRpcRawReply = body;
      const err = await probeError(probe.walletInfo());
      expect(['bad_response', 'rpc_error']).toContain(err.kind);
      expect(err.message.length).toBeLessThan(600);
    }
    // A well-formed walletinfo padded past the cap is refused, not read to the end.
    fake.state.jsonRpcRawReply = JSON.stringify({
      result: { unlocked: true, voting: true, daemonconnected: true, voteversion: 11, pad: 'p'.repeat(WALLETINFO_MAX_BYTES) },
      error: null,
      id: 1,
    });
    const big = await probeError(probe.walletInfo());
    expect(big.kind).toBe('bad_response');
    expect(big.message).toContain(String(WALLETINFO_MAX_BYTES));
    fake.state.jsonRpcRawReply = JSON.stringify({ result: null, error: { code: -1, message: 'm'.repeat(100_000) }, id: 1 });
    expect((await probeError(probe.walletInfo())).message.length).toBeLessThan(600);
    delete fake.state.jsonRpcRawReply;
    expect(await probe.walletInfo()).toMatchObject({ voteVersion: 11 });
  });

  it('a stopped wallet is unreachable', async () => {
    const fake = await startFake();
    const address = fake.jsonRpcAddress;
    await fake.stop();
    const probe = new StatusProbe({ name: 'w1', address, caCert: pki.serverCa.cert, auth: basic(fake), timeoutMs: 1000 });
    const err = await probeError(probe.walletInfo());
    expect(err.kind).toBe('unreachable');
  });

  it('clientcert auth: our certificate works, a rogue one is tls_rejected, a wrong CA is tls_untrusted', async () => {
    const fake = await startFake({ jsonRpcAuth: 'clientcert' });
    const mk = (auth: StatusProbeAuth, caCert = pki.serverCa.cert): StatusProbe =>
      new StatusProbe({ name: 'w1', address: fake.jsonRpcAddress, caCert, auth, timeoutMs: 2000 });
    expect(await mk({ type: 'clientcert', cert: pki.client.cert, key: pki.client.key }).walletInfo()).toMatchObject({ voteVersion: 11 });
    const rejected = await probeError(mk({ type: 'clientcert', cert: pki.rogue.cert, key: pki.rogue.key }).walletInfo());
    expect(rejected.kind).toBe('tls_rejected');
    expect(rejected.message).toContain('clients.pem');
    const untrusted = await probeError(mk({ type: 'clientcert', cert: pki.client.cert, key: pki.client.key }, pki.rogueCa.cert).walletInfo());
    expect(untrusted.kind).toBe('tls_untrusted');
  });
});
