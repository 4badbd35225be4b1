import { mkdtempSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { GOOD, issuesOf, setup } from '../support/config-files.js';
import { configView } from '../../src/config/view.js';
import { parseArgs } from '../../src/cli-args.js';

describe('config loading', () => {
  it('resolves defaults per network, relative paths and secrets', () => {
    const file = setup(GOOD);
    const c = loadConfig({ configFile: file, env: {} });
    expect(c.network).toBe('simnet');
    expect(c.dcrd.nodes[0].endpoint.address).toBe('127.0.0.1:19556');
    expect(c.wallets[0]!.grpc.address).toBe('127.0.0.1:19558');
    expect(c.wallets[0]!.jsonrpc.endpoint.address).toBe('127.0.0.1:19557');
    expect(c.dcrd.nodes[0].password.reveal().toString()).toBe('dcrd-secret-pw');
    expect(c.wallets[0]!.passphrase!.reveal().toString()).toBe('hunter2-wallet');
    expect(c.stateDir).toBe(join(file, '..', 'state'));
    expect(c.policy.agendas).toEqual({ maxblocksize: 'yes' });
  });

  it('mainnet and testnet pick their own default ports', () => {
    const file = setup(GOOD.replace('network: simnet', 'network: testnet'));
    const c = loadConfig({ configFile: file, env: {} });
    expect(c.dcrd.nodes[0].endpoint.port).toBe(19109);
    expect(c.wallets[0]!.grpc.port).toBe(19111);
    const m = loadConfig({ configFile: file, env: {}, args: ['--network', 'mainnet'] });
    expect(m.dcrd.nodes[0].endpoint.port).toBe(9109);
    expect(m.wallets[0]!.jsonrpc.endpoint.port).toBe(9110);
  });

  it('environment and flags override the file', () => {
    const file = setup(GOOD);
    const c = loadConfig({ configFile: file, env: { DCRVOTED_HTTP_LISTEN: '127.0.0.1:9999', DCRVOTED_LOG_LEVEL: 'debug' }, args: ['--log-level', 'warn'] });
    expect(c.http.port).toBe(9999);
    expect(c.log.level).toBe('warn');
  });

  it('a bare secret file name is read from $CREDENTIALS_DIRECTORY', () => {
    const file = setup(GOOD.replace('passwordFile: ./dcrd-pass', 'passwordFile: dcrd-password'));
    const creds = mkdtempSync(join(tmpdir(), 'creds-'));
    writeFileSync(join(creds, 'dcrd-password'), 'from-credentials\n');
    const c = loadConfig({ configFile: file, env: { CREDENTIALS_DIRECTORY: creds } });
    expect(c.dcrd.nodes[0].password.reveal().toString()).toBe('from-credentials');
  });

  it('secrets never show in the printed config', () => {
    const c = loadConfig({ configFile: setup(GOOD), env: {} });
    const text = JSON.stringify(configView(c));
    for (const secret of ['dcrd-secret-pw', 'hunter2-wallet', 'jsonrpc-secret', 'MIIE']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    expect(String(c.dcrd.nodes[0].password)).toBe('[redacted]');
  });

  it('names the key and the problem for every invalid value, all at once', () => {
    const file = setup(`
network: simnetx
bogus: 1
log:
  level: loud
dcrd:
  callTimeoutMs: -5
`);
    const keys = issuesOf(() => loadConfig({ configFile: file, env: {} })).map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['network', 'bogus', 'log.level', 'dcrd.callTimeoutMs']));
  });

  it('reports missing and unreadable files with their key', () => {
    const file = setup(GOOD.replace('caCert: wallet.cert', 'caCert: nope.cert').replace('passwordFile: ./dcrd-pass', 'passwordFile: ./empty'), { empty: '' });
    const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
    expect(issues).toEqual(
      expect.arrayContaining([
        { key: 'wallets[0].caCert', message: expect.stringContaining('does not exist') },
        { key: 'dcrd.passwordFile', message: expect.stringContaining('is empty') },
      ]),
    );
  });

  it('rejects a certificate file that holds no certificate and a key file with no key', () => {
    const file = setup(GOOD, { 'wallet.cert': 'garbage', 'client.key': 'not a key' });
    const keys = issuesOf(() => loadConfig({ configFile: file, env: {} })).map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['wallets[0].caCert', 'wallets[0].clientKey']));
  });

  it('validates wallet entries: unknown option, bad mode, duplicate names, missing passphrase', () => {
    const file = setup(`
network: simnet
dcrd: { caCert: dcrd.cert, user: u, passwordFile: dcrd-pass }
wallets:
  - { name: a, caCert: wallet.cert, clientCert: client.pem, clientKey: client.key, passphraseFile: wallet-pass, jsonrpc: { user: u, passwordFile: jsonrpc-pass }, color: red }
  - { name: b, mode: weird, caCert: wallet.cert, clientCert: client.pem, clientKey: client.key }
  - { name: c, caCert: wallet.cert, clientCert: client.pem, clientKey: client.key, jsonrpc: { user: u, passwordFile: jsonrpc-pass } }
  - { name: c, unlock: false, caCert: wallet.cert, clientCert: client.pem, clientKey: client.key, jsonrpc: { user: u, passwordFile: jsonrpc-pass } }
`);
    const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
    const keys = issues.map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['wallets[0].color', 'wallets[1].mode', 'wallets[2].passphraseFile', 'wallets[3].name']));
    expect(issues.find((i) => i.key === 'wallets[3].name')?.message).toContain('duplicate');
  });

  it('validates policy entries', () => {
    const file = setup(
      GOOD.replace('maxblocksize: yes', 'maxblocksize: ""').replace(
        '03f6e7041f1cf51ee10e0a01cd2b0385ce3cd9debaabb2296f7e9dee9329da946c: no',
        'abc: maybe\n  tspends:\n    ' + 'a'.repeat(64) + ': perhaps',
      ),
    );
    const keys = issuesOf(() => loadConfig({ configFile: file, env: {} })).map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['policy.agendas.maxblocksize', 'policy.treasuryKeys.abc', `policy.tspends.${'a'.repeat(64)}`]));
  });

  it('requires at least one wallet and a sane address', () => {
    const file = setup(`
network: simnet
http: { listen: "nowhere" }
dcrd: { caCert: dcrd.cert, user: u, passwordFile: dcrd-pass }
`);
    const keys = issuesOf(() => loadConfig({ configFile: file, env: {} })).map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['wallets', 'http.listen']));
  });

  it('reports an unreadable config file', () => {
    expect(issuesOf(() => loadConfig({ configFile: '/nonexistent/dcrvoted.yaml', env: {} }))[0]!.key).toBe('--config');
  });

  it('reports a permission problem on a secret file', () => {
    if (process.getuid?.() === 0) return; // root reads everything; covered on non-root CI only
    const file = setup(GOOD);
    chmodSync(join(file, '..', 'dcrd-pass'), 0o000);
    const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
    expect(issues[0]!.message).toContain('not readable');
  });

  it('rejects a directory where a file is expected', () => {
    const file = setup(GOOD.replace('caCert: dcrd.cert', 'caCert: dir.cert'));
    mkdirSync(join(file, '..', 'dir.cert'));
    const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
    expect(issues[0]).toEqual({ key: 'dcrd.caCert', message: expect.stringContaining('not a regular file') });
  });
});

describe('voting mode and several dcrd nodes', () => {
  it('votingMode daemon needs the passphrase file even when unlocking is off', () => {
    const file = setup(GOOD.replace('    passphraseFile: ./wallet-pass\n', '    unlock: false\n    votingMode: daemon\n'));
    const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
    expect(issues).toEqual([{ key: 'wallets[0].passphraseFile', message: expect.stringContaining('required when votingMode is daemon') }]);
  });

  it('reads the passphrase for signing when unlock is off but votingMode is both', () => {
    const file = setup(GOOD.replace('    passphraseFile: ./wallet-pass\n', '    unlock: false\n    votingMode: both\n    passphraseFile: ./wallet-pass\n'));
    const c = loadConfig({ configFile: file, env: {} });
    expect(c.wallets[0]!.votingMode).toBe('both');
    expect(c.wallets[0]!.passphrase?.reveal().toString()).toBe('hunter2-wallet');
  });

  it('signing defaults to wallet; local is read for a daemon or both wallet', () => {
    expect(loadConfig({ configFile: setup(GOOD), env: {} }).wallets[0]!.signing).toBe('wallet');
    const c = loadConfig({ configFile: setup(GOOD.replace('    passphraseFile: ./wallet-pass\n', '    passphraseFile: ./wallet-pass\n    votingMode: both\n    signing: local\n')), env: {} });
    expect(c.wallets[0]!.signing).toBe('local');
  });

  it('signing: a value other than wallet or local, and local with votingMode wallet, are named errors', () => {
    const bad = setup(GOOD.replace('    passphraseFile: ./wallet-pass\n', '    passphraseFile: ./wallet-pass\n    votingMode: both\n    signing: Local\n'));
    expect(issuesOf(() => loadConfig({ configFile: bad, env: {} }))).toEqual([{ key: 'wallets[0].signing', message: expect.stringContaining('must be one of wallet or local, got "Local"') }]);
    const useless = setup(GOOD.replace('    passphraseFile: ./wallet-pass\n', '    passphraseFile: ./wallet-pass\n    signing: local\n'));
    expect(issuesOf(() => loadConfig({ configFile: useless, env: {} }))).toEqual([{ key: 'wallets[0].signing', message: expect.stringContaining('needs votingMode daemon or both') }]);
  });

  it('lists every dcrd node, the primary first, and validates the additional ones', () => {
    const good = setup(GOOD.replace('  passwordFile: ./dcrd-pass\n', '  passwordFile: ./dcrd-pass\n  additionalNodes:\n    - { name: backup, address: "10.0.0.2:19556", caCert: dcrd.cert, user: u2, passwordFile: dcrd-pass }\n'));
    const c = loadConfig({ configFile: good, env: {} });
    expect(c.dcrd.nodes.map((n) => [n.name, n.endpoint.address, n.user])).toEqual([
      ['dcrd', '127.0.0.1:19556', 'rpcuser'],
      ['backup', '10.0.0.2:19556', 'u2'],
    ]);
    const bad = setup(GOOD.replace('  passwordFile: ./dcrd-pass\n', '  passwordFile: ./dcrd-pass\n  additionalNodes:\n    - { name: dcrd, address: "nowhere", caCert: nope.cert, user: u2, passwordFile: dcrd-pass, extra: 1 }\n    - { name: dcrd, address: "10.0.0.3:1", caCert: nope.cert, user: u2, passwordFile: dcrd-pass }\n'));
    const keys = issuesOf(() => loadConfig({ configFile: bad, env: {} })).map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['dcrd.additionalNodes[0].extra', 'dcrd.additionalNodes[1].caCert', 'dcrd.additionalNodes[1].name']));
  });
});

describe('command line', () => {
  it('refuses anything that looks like a secret', () => {
    for (const flag of ['--dcrd-password=x', '--passphrase', '--wallet-pass', '--client-key', '--rpcpass']) {
      expect(() => parseArgs(['run', flag, 'v'])).toThrow(ConfigError);
    }
  });

  it('passes schema flags to the config and keeps command flags', () => {
    const a = parseArgs(['votes', '--config', 'x.yaml', '--network=testnet', '--limit', '5', '--json']);
    expect(a.command).toBe('votes');
    expect(a.configFile).toBe('x.yaml');
    expect(a.convictArgs).toEqual(['--network', 'testnet']);
    expect(a.flags.get('limit')).toBe('5');
    expect(a.flags.get('json')).toBe(true);
  });

  it('rejects unknown flags', () => {
    expect(() => parseArgs(['run', '--frobnicate'])).toThrow(/unknown option/);
  });
});

describe('dcrd reconnect backoff', () => {
  it('has its own keys, separate from the wallet supervisor’s', () => {
    const withDcrd = (lines: string) => GOOD.replace('  passwordFile: ./dcrd-pass\n', `  passwordFile: ./dcrd-pass\n${lines}`);
    const file = setup(withDcrd('  reconnectMinMs: 250\n  reconnectMaxMs: 4000\n') + 'supervisor:\n  backoffMinMs: 100\n  backoffMaxMs: 900\n');
    const c = loadConfig({ configFile: file, env: {} });
    expect(c.dcrd.reconnect).toEqual({ minMs: 250, maxMs: 4000 });
    expect(c.supervisor).toMatchObject({ backoffMinMs: 100, backoffMaxMs: 900 });
    const bad = setup(withDcrd('  reconnectMinMs: 5000\n  reconnectMaxMs: 1000\n'));
    expect(issuesOf(() => loadConfig({ configFile: bad, env: {} }))).toContainEqual({ key: 'dcrd.reconnectMinMs', message: 'must not exceed dcrd.reconnectMaxMs' });
  });
});

describe('dcrd sync guard settings', () => {
  const withDcrd = (lines: string) => GOOD.replace('  passwordFile: ./dcrd-pass\n', `  passwordFile: ./dcrd-pass\n${lines}`);

  it('default to a check every 10 s and a grace period of 60 s, and take other values', () => {
    expect(loadConfig({ configFile: setup(GOOD), env: {} }).dcrd.sync).toEqual({ intervalMs: 10_000, graceMs: 60_000 });
    const c = loadConfig({ configFile: setup(withDcrd('  syncCheckIntervalMs: 2000\n  syncGraceMs: 300000\n')), env: {} });
    expect(c.dcrd.sync).toEqual({ intervalMs: 2_000, graceMs: 300_000 });
  });

  it('refuse a value that is not a whole, positive number of milliseconds, naming the key', () => {
    const issues = issuesOf(() => loadConfig({ configFile: setup(withDcrd('  syncCheckIntervalMs: 0\n  syncGraceMs: 1m\n')), env: {} }));
    expect(issues).toEqual([
      { key: 'dcrd.syncCheckIntervalMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got the number 0' },
      { key: 'dcrd.syncGraceMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got "1m" (write 60000 for 1m)' },
    ]);
  });
});
