// The config file itself may be anything: a list, random bytes, a huge file,
// an alias bomb. Each ends as one clear error naming the file, and errors
// quote only short excerpts of what the file holds.

import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { GOOD, issuesOf, setup } from '../support/config-files.js';

function fileIssue(body: string | Buffer): { file: string; message: string } {
  const file = setup(body);
  const issues = issuesOf(() => loadConfig({ configFile: file, env: {} }));
  expect(issues).toHaveLength(1);
  expect(issues[0]!.key).toBe('--config');
  return { file, message: issues[0]!.message };
}

describe('the config file must be a small UTF-8 YAML mapping', () => {
  it.each([
    ['a list', '- network: simnet\n- stateDir: x\n'],
    ['"network simnet"', 'network simnet\n'],
    ['the number 5', '5\n'],
    ['true', 'true\n'],
  ])('a document that is %s is one error, not one per entry or character', (got, body) => {
    const { file, message } = fileIssue(body);
    expect(message).toBe(`${file} must be a YAML mapping of options (name: value lines), got ${got}`);
  });

  it('invalid UTF-8 is refused with its offset and line, not replaced and accepted', () => {
    const body = Buffer.concat([Buffer.from('stateDir: ./state\nnetwork: sim'), Buffer.from([0xff]), Buffer.from('net\n')]);
    const { file, message } = fileIssue(body);
    expect(message).toBe(`${file} is not UTF-8 text: invalid byte 0xff at offset 30 (line 2)`);
    // Random bytes are the same error rather than garbage options.
    expect(fileIssue(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])).message).toMatch(/is not UTF-8 text: invalid byte 0x89 at offset 0 \(line 1\)$/);
    // Overlong and surrogate encodings are not UTF-8 either.
    expect(fileIssue(Buffer.from([0x61, 0x3a, 0x20, 0xc0, 0xaf])).message).toMatch(/invalid byte 0xc0 at offset 3/);
    expect(fileIssue(Buffer.from([0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80])).message).toMatch(/invalid byte 0xed at offset 3/);
  });

  it('control characters are refused: a config file is plain text', () => {
    expect(fileIssue('network: simnet\nstateDir: a\u0000b\n').message).toMatch(/holds a control character \(U\+0000\) at line 2; a config file is plain text$/);
  });

  it('a file over 1 MiB is refused without being parsed', () => {
    const { file, message } = fileIssue('# ' + 'x'.repeat(1 << 20) + '\n');
    expect(message).toBe(`${file} is larger than 1 MiB; a dcrvoted config file is a few kilobytes of YAML (is this the right file?)`);
  });

  it('a key given twice is an error, wherever it is', () => {
    expect(fileIssue('network: simnet\nnetwork: mainnet\n').message).toMatch(/has the key "network" twice in one mapping \(second at line 2, column 1\); YAML allows each key once$/);
    expect(fileIssue(GOOD.replace('    caCert: wallet.cert\n', '    caCert: wallet.cert\n    caCert: other.cert\n')).message).toMatch(
      /has the key "caCert" twice in one mapping \(second at line 11, column 5\)/,
    );
  });

  it('an alias bomb ("billion laughs") is refused instead of expanded', () => {
    const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 9; i++) {
      const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    expect(fileIssue(lines.join('\n') + '\n').message).toMatch(/expands YAML aliases \(\*name\) too much \(more than 100 times\); a config file needs few, if any$/);
  });

  it('deep nesting is refused before yaml parses it (a megabyte of "{" exhausts its memory)', () => {
    expect(fileIssue('policy: ' + '{'.repeat(500_000) + '\n').message).toMatch(/nests lists and mappings more than 64 deep \(line 1\); a config file needs a few levels$/);
    expect(fileIssue('wallets:\n' + '- '.repeat(300_000) + 'x\n').message).toMatch(/nests lists and mappings more than 64 deep \(line 2\)/);
  });

  it('several documents, unknown tags and syntax errors are errors with a position', () => {
    expect(fileIssue('network: simnet\n---\nnetwork: mainnet\n').message).toMatch(/holds more than one YAML document \(a "---" line at line 2, column 1\); dcrvoted reads one$/);
    expect(fileIssue('stateDir: !secret x\n').message).toMatch(/is not valid YAML: Unresolved tag: !secret \(line 1, column 11\)$/);
    expect(fileIssue('log:\n  level: info\n format: json\n').message).toMatch(/is not valid YAML: All mapping items must start at the same column \(line 3, column 1\)$/);
  });

  it('an empty file is an empty mapping: every required option is reported', () => {
    const keys = issuesOf(() => loadConfig({ configFile: setup('# nothing yet\n'), env: {} })).map((i) => i.key);
    expect(keys).toEqual(['dcrd.caCert', 'dcrd.user', 'dcrd.passwordFile', 'wallets']);
  });
});

describe('errors quote short excerpts only, and never a secret', () => {
  it('a huge bad value is cut to an excerpt', () => {
    const huge = 'h'.repeat(500_000);
    for (const line of [`http:\n  listen: ${huge}\n`, `? ${huge}\n: 1\n`, `log:\n  level: ${huge}\n`]) {
      const err = catchConfigError(() => loadConfig({ configFile: setup(GOOD + line), env: {} }));
      expect(err.message.length).toBeLessThan(400);
      expect(err.message).toContain(`"${'h'.repeat(64)}"… (500000 characters)`);
    }
  });

  it('a bad address quotes an excerpt too', () => {
    const long = 'x'.repeat(3000);
    const issues = issuesOf(() => loadConfig({ configFile: setup(GOOD.replace('policy:', `http:\n  listen: ${long}\npolicy:`)), env: {} }));
    expect(issues).toEqual([{ key: 'http.listen', message: `must be host:port (for example 127.0.0.1:9198), got "${'x'.repeat(64)}"… (3000 characters)` }]);
  });

  it('a hostile file with thousands of bad entries lists the first 50', () => {
    const body = Array.from({ length: 5000 }, (_, i) => `bogus${i}: 1`).join('\n') + '\n';
    const err = catchConfigError(() => loadConfig({ configFile: setup(body), env: {} }));
    expect(err.issues).toHaveLength(5000);
    expect(err.message.split('\n')).toHaveLength(52);
    expect(err.message).toMatch(/\n {2}… and 4950 more$/);
  });

  it('secret file contents never appear in an error, whatever else is wrong', () => {
    const file = setup(GOOD.replace('network: simnet', 'network: simnetx'));
    writeFileSync(file.replace('dcrvoted.yaml', 'wallet-pass'), 'hunter2-wallet\n');
    const text = catchConfigError(() => loadConfig({ configFile: file, env: {} })).message;
    const bad = setup(GOOD.replace('passphraseFile: ./wallet-pass', 'passphraseFile: ./wallet-pass\n    unlock: maybe'));
    const text2 = catchConfigError(() => loadConfig({ configFile: bad, env: {} })).message;
    for (const secret of ['dcrd-secret-pw', 'hunter2-wallet', 'jsonrpc-secret', 'MIIE']) expect(text + text2).not.toContain(secret);
  });
});

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
