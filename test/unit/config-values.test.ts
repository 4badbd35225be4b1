// Every option takes exactly one type. A YAML value of another type, or an
// environment variable or flag that does not spell a valid value, is an error
// naming the key and what it takes, never a silent reinterpretation.

import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { flag, isOption, kindOf, millis, text, type OptionKind, type SchemaNode } from '../../src/config/kinds.js';
import { textOverrides } from '../../src/config/overrides.js';
import { daemonSchema, dcrdNodeSchema, notifyTargetSchema, walletSchema } from '../../src/config/schema.js';
import type { ConfigIssue } from '../../src/config/issues.js';
import { GOOD, issuesOf, setup } from '../support/config-files.js';

const TARGET = { name: 'phone', kind: 'ntfy', url: 'https://ntfy.example/topic' };
const NODE = { name: 'backup', address: '10.0.0.2:19556', caCert: 'dcrd.cert', user: 'u2', passwordFile: 'dcrd-pass' };

/** GOOD plus one additional dcrd node, with `value` put at `path` (a.b, wallets[0].x). */
function configWith(path: string, value: unknown): string {
  const doc = parse(GOOD) as Record<string, unknown>;
  (doc.dcrd as Record<string, unknown>).additionalNodes = [{ ...NODE }];
  doc.notify = { targets: [{ ...TARGET }] };
  const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at = doc as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
  at[parts.at(-1) as string] = value;
  return setup(stringify(doc));
}

function options(schema: SchemaNode, prefix: string): { path: string; kind: OptionKind }[] {
  return Object.entries(schema).flatMap(([k, node]) =>
    isOption(node) ? [{ path: prefix + k, kind: kindOf(node, k) }] : options(node as SchemaNode, `${prefix}${k}.`),
  );
}

function groups(schema: SchemaNode, prefix: string): string[] {
  return Object.entries(schema).flatMap(([k, node]) => (isOption(node) ? [] : [prefix + k, ...groups(node as SchemaNode, `${prefix}${k}.`)]));
}

const ALL = [
  ...options(daemonSchema as unknown as SchemaNode, ''),
  ...options(walletSchema as unknown as SchemaNode, 'wallets[0].'),
  ...options(dcrdNodeSchema as unknown as SchemaNode, 'dcrd.additionalNodes[0].'),
  ...options(notifyTargetSchema as unknown as SchemaNode, 'notify.targets[0].'),
];

/** A value of the wrong type for each kind of option, as YAML would give it. */
function wrongValue(kind: OptionKind): unknown {
  if (kind === flag) return 'no';
  if (kind === millis) return '10s';
  if (kind === text) return 123;
  if (kind.expected.startsWith('one of')) return 5;
  if (kind.expected.startsWith('a list')) return 'x';
  return ['a', 'list']; // mappings
}

describe('config values of the wrong type', () => {
  it('the reported defects: unlock: no, callTimeoutMs: 10s, voteSeenDeadlineMs: 5s', () => {
    const file = setup(
      GOOD.replace('    passphraseFile: ./wallet-pass\n', '    passphraseFile: ./wallet-pass\n    unlock: no\n    callTimeoutMs: 10s\n')
        .replace('  passwordFile: ./dcrd-pass\n', '  passwordFile: ./dcrd-pass\n  callTimeoutMs: 10s\n') + 'voting:\n  voteSeenDeadlineMs: 5s\n',
    );
    expect(issuesOf(() => loadConfig({ configFile: file, env: {} }))).toEqual([
      { key: 'dcrd.callTimeoutMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got "10s" (write 10000 for 10s)' },
      { key: 'wallets[0].unlock', message: 'must be true or false, got "no" (yes, no, on and off are text in YAML 1.2: write true or false)' },
      { key: 'wallets[0].callTimeoutMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got "10s" (write 10000 for 10s)' },
      { key: 'voting.voteSeenDeadlineMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got "5s" (write 5000 for 5s)' },
    ]);
  });

  it.each(ALL.map((o) => [o.path, o.kind] as const))('%s rejects a value of the wrong type', (path, kind) => {
    const issues = issuesOf(() => loadConfig({ configFile: configWith(path, wrongValue(kind)), env: {} }));
    expect(issues).toContainEqual({ key: path, message: expect.stringMatching(new RegExp(`^must be ${escape(kind.expected)}, got `)) });
  });

  it.each([...groups(daemonSchema as unknown as SchemaNode, ''), ...groups(walletSchema as unknown as SchemaNode, 'wallets[0].')])(
    '%s must be a mapping',
    (path) => {
      const issues = issuesOf(() => loadConfig({ configFile: configWith(path, 5), env: {} }));
      expect(issues).toContainEqual({ key: path, message: expect.stringMatching(/^must be a mapping of \w+ options, got the number 5$/) });
    },
  );

  it('durations must be whole milliseconds a timer can wait: no 0, fraction, quoted number or overflow', () => {
    const cases: [unknown, string][] = [
      [0, 'got the number 0'],
      [1.5, 'got the number 1.5'],
      ['5000', 'got "5000" (without quotes)'],
      [2_147_483_648, 'got the number 2147483648'],
      [1e300, 'got the number 1e+300'],
      [null, 'got no value (an empty entry)'],
    ];
    for (const [value, got] of cases) {
      const issues = issuesOf(() => loadConfig({ configFile: configWith('supervisor.probeIntervalMs', value), env: {} }));
      expect(issues).toEqual([{ key: 'supervisor.probeIntervalMs', message: `must be a whole number of milliseconds from 1 to 2147483647, ${got}` }]);
    }
  });

  it('voting.decisionGraceMs is a whole number of milliseconds from 0 (decide at once) to 30000', () => {
    const cases: [unknown, string][] = [
      [-1, 'got the number -1'],
      [30_001, 'got the number 30001'],
      [2.5, 'got the number 2.5'],
      ['2000', 'got "2000" (without quotes)'],
      ['2s', 'got "2s"'],
    ];
    for (const [value, got] of cases) {
      const issues = issuesOf(() => loadConfig({ configFile: configWith('voting.decisionGraceMs', value), env: {} }));
      expect(issues).toEqual([{ key: 'voting.decisionGraceMs', message: `must be a whole number from 0 to 30000, ${got}` }]);
    }
    expect(loadConfig({ configFile: configWith('voting.decisionGraceMs', 0), env: {} }).voting.decisionGraceMs).toBe(0);
    expect(loadConfig({ configFile: setup(GOOD), env: {} }).voting.decisionGraceMs).toBe(2_000);
  });

  it('a number where text is expected says to quote it; text is bounded and has no control characters', () => {
    const issues = issuesOf(() => loadConfig({ configFile: configWith('wallets[0].jsonrpc.user', 1234), env: {} }));
    expect(issues).toEqual([{ key: 'wallets[0].jsonrpc.user', message: 'must be a string, got the number 1234 (put it in quotes if it is meant as text)' }]);
    expect(issuesOf(() => loadConfig({ configFile: configWith('dcrd.user', 'a\u0007b'), env: {} }))).toEqual([
      { key: 'dcrd.user', message: 'must not contain control characters (tab, newline, NUL, …), got "a\\u0007b"' },
    ]);
  });

  it('a policy key YAML reads as a number is reported, not rounded into some other hash', () => {
    const file = setup(GOOD.replace('  agendas:\n    maxblocksize: yes\n', `  tspends:\n    ${'1'.repeat(64)}: yes\n`));
    expect(issuesOf(() => loadConfig({ configFile: file, env: {} }))).toEqual([
      { key: 'policy.tspends.(the number 1.1111111111111112e+63 as a key)', message: 'keys must be text: YAML reads this one as a number or other value (put it in quotes)' },
    ]);
  });

  it('supervisor.canaryEveryBlocks is a whole number (of blocks) from 1 to 10000', () => {
    for (const [value, got] of [[0, 'got the number 0'], [2.5, 'got the number 2.5'], ['12', 'got "12" (without quotes)'], [10_001, 'got the number 10001']] as const) {
      expect(issuesOf(() => loadConfig({ configFile: configWith('supervisor.canaryEveryBlocks', value), env: {} }))).toEqual([
        { key: 'supervisor.canaryEveryBlocks', message: `must be a whole number from 1 to 10000, ${got}` },
      ]);
    }
    expect(loadConfig({ configFile: configWith('supervisor.canaryEveryBlocks', 3), env: {} }).supervisor.canaryEveryBlocks).toBe(3);
    expect(loadConfig({ configFile: setup(GOOD), env: {} }).supervisor.canaryEveryBlocks).toBe(12);
  });

  it('wallets[].accountPassphraseFiles: account numbers to files that exist; the secret is read, never echoed', () => {
    const withAccounts = (map: string) => setup(GOOD.replace('    passphraseFile: ./wallet-pass\n', `    passphraseFile: ./wallet-pass\n    accountPassphraseFiles: ${map}\n`), { 'acct-pass': 'account-s3cret\n' });
    const c = loadConfig({ configFile: withAccounts('{ 2147483648: ./acct-pass, "1": ./acct-pass }'), env: {} });
    expect(c.wallets[0]!.accountPassphrases.map((a) => [a.account, a.passphrase.reveal().toString()])).toEqual([
      [1, 'account-s3cret'],
      [2147483648, 'account-s3cret'],
    ]);
    expect(issuesOf(() => loadConfig({ configFile: withAccounts('{ voting: ./acct-pass }'), env: {} }))).toEqual([
      { key: 'wallets[0].accountPassphraseFiles.voting', message: expect.stringContaining('keys must be account numbers (0 to 4294967295, not 2147483647)') },
    ]);
    expect(issuesOf(() => loadConfig({ configFile: withAccounts('{ 2147483647: ./acct-pass, -1: ./acct-pass, 4294967296: ./acct-pass }'), env: {} })).map((i) => i.key)).toEqual([
      'wallets[0].accountPassphraseFiles.(the number 2147483647 as a key)',
      'wallets[0].accountPassphraseFiles.(the number -1 as a key)',
      'wallets[0].accountPassphraseFiles.(the number 4294967296 as a key)',
    ]);
    expect(issuesOf(() => loadConfig({ configFile: withAccounts('{ 3: "" }'), env: {} }))).toEqual([{ key: 'wallets[0].accountPassphraseFiles.3', message: 'must name a passphrase file' }]);
    const missing = issuesOf(() => loadConfig({ configFile: withAccounts('{ 3: ./no-such-file }'), env: {} }));
    expect(missing).toEqual([{ key: 'wallets[0].accountPassphraseFiles.3', message: expect.stringContaining('no-such-file') }]);
    expect(JSON.stringify(missing)).not.toContain('account-s3cret');
  });

  it('a bad wallet entry is reported and the other entries are still checked', () => {
    const file = setup(
      GOOD.replace(
        'policy:',
        '  - { name: second, unlock: "true", caCert: wallet.cert, clientCert: client.pem, clientKey: client.key }\n' +
          '  - 7\n' +
          '  - { name: third, caCert: nope.cert, clientCert: client.pem, clientKey: client.key, passphraseFile: wallet-pass, jsonrpc: { user: u, passwordFile: jsonrpc-pass } }\n' +
          'policy:',
      ),
    );
    const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
    expect(issues).toEqual([
      { key: 'wallets[1].unlock', message: 'must be true or false, got "true" (without quotes)' },
      { key: 'wallets[2]', message: 'must be a mapping of wallet options, got the number 7' },
      { key: 'wallets[3].caCert', message: expect.stringContaining('nope.cert does not exist') },
    ]);
  });
});

describe('environment variables and flags are parsed strictly', () => {
  it('a bad value names the variable or the flag', () => {
    const file = setup(GOOD);
    const issues = issuesOf(() => loadConfig({ configFile: file, env: { DCRVOTED_NETWORK: 'simnetx', DCRVOTED_LOG_LEVEL: 'DEBUG' }, args: ['--log-format', 'fancy', '--frob', '1'] }));
    expect(issues).toEqual([
      { key: 'DCRVOTED_NETWORK', message: 'must be one of mainnet, testnet or simnet, got "simnetx"' },
      { key: 'DCRVOTED_LOG_LEVEL', message: 'must be one of fatal, error, warn, info, debug or trace, got "DEBUG"' },
      { key: '--log-format', message: 'must be one of json, pretty or auto, got "fancy"' },
      { key: '--frob', message: 'is not a known option' },
      { key: '1', message: 'is not a known option' },
    ]);
  });

  it('a flag value is taken as written, not read as a number or another flag', () => {
    const file = setup(GOOD);
    expect(loadConfig({ configFile: file, env: {}, args: ['--state-dir', '0100'] }).stateDir).toMatch(/\/0100$/);
    expect(loadConfig({ configFile: file, env: {}, args: ['--state-dir=-x'] }).stateDir).toMatch(/\/-x$/);
    expect(loadConfig({ configFile: file, env: { DCRVOTED_STATE_DIR: '1e3' } }).stateDir).toMatch(/\/1e3$/);
  });

  it('booleans from text are exactly true or false, durations digits only', () => {
    // No boolean or duration has a variable today; this is what one would get.
    const schema = {
      unlock: { doc: '', format: flag, default: true, env: 'X_UNLOCK' },
      timeoutMs: { doc: '', format: millis, default: 5, env: 'X_TIMEOUT' },
    };
    const run = (env: Record<string, string>) => {
      const issues: ConfigIssue[] = [];
      return { values: textOverrides(schema, env, [], issues), issues };
    };
    expect(run({ X_UNLOCK: 'false', X_TIMEOUT: '250' }).values).toEqual([
      { path: 'unlock', value: false },
      { path: 'timeoutMs', value: 250 },
    ]);
    for (const [unlock, timeout] of [['no', '10s'], ['0', '1e3'], ['FALSE', ' 5'], ['', '0x10']]) {
      expect(run({ X_UNLOCK: unlock as string, X_TIMEOUT: timeout as string }).issues.map((i) => i.key)).toEqual(['X_UNLOCK', 'X_TIMEOUT']);
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('guards.checkIntervalMs', () => {
  it('defaults to ten minutes, takes whole milliseconds, and rejects 0 and a duration with a unit', () => {
    expect(loadConfig({ configFile: setup(GOOD), env: {} }).guards.checkIntervalMs).toBe(600_000);
    expect(loadConfig({ configFile: configWith('guards.checkIntervalMs', 30_000), env: {} }).guards.checkIntervalMs).toBe(30_000);
    expect(issuesOf(() => loadConfig({ configFile: configWith('guards.checkIntervalMs', 0), env: {} }))).toEqual([
      { key: 'guards.checkIntervalMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got the number 0' },
    ]);
    expect(issuesOf(() => loadConfig({ configFile: configWith('guards.checkIntervalMs', '10m'), env: {} }))).toEqual([
      { key: 'guards.checkIntervalMs', message: 'must be a whole number of milliseconds from 1 to 2147483647, got "10m" (write 600000 for 10m)' },
    ]);
  });
});
