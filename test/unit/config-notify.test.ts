// notify.*: every bad value is an error naming the key, and no error, view
// or log of the config ever shows a receiver's URL or token.

import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { configView } from '../../src/config/view.js';
import { GOOD, PEM, issuesOf, setup } from '../support/config-files.js';

const SECRET_TOPIC = 'topic-s3cret-91f3';
const TOKEN = 'tk_s3cretntfytoken';

function withNotify(yaml: string, files: Record<string, string> = {}) {
  return setup(`${GOOD}notify:\n${yaml}`, files);
}

function load(yaml: string, files: Record<string, string> = {}) {
  return loadConfig({ configFile: withNotify(yaml, files), env: {} });
}

describe('notify config', () => {
  it('defaults: no targets, no heartbeat, not-ready threshold two minutes', () => {
    const c = loadConfig({ configFile: setup(GOOD), env: {} });
    expect(c.notify.targets).toEqual([]);
    expect(c.notify.heartbeat).toBeNull();
    expect(c.notify.notReadyAfterMs).toBe(120_000);
    expect(c.notify.delivery).toEqual({ maxQueue: 100, timeoutMs: 10_000, retries: 5, backoffMinMs: 1_000, backoffMaxMs: 60_000 });
  });

  it('resolves webhook and ntfy targets, URLs and tokens from files, and keeps them out of every view', () => {
    const c = load(
      [
        '  targets:',
        '    - { name: hook, kind: webhook, url: "https://hooks.example/dcrvoted", minSeverity: warning }',
        '    - { name: phone, kind: ntfy, urlFile: ntfy-url, tokenFile: ntfy-token, caCert: ca.pem }',
        '  heartbeatUrlFile: hb-url',
        '  heartbeatIntervalMs: 30000',
      ].join('\n') + '\n',
      { 'ntfy-url': `https://ntfy.example/${SECRET_TOPIC}\n`, 'ntfy-token': `${TOKEN}\n`, 'hb-url': `https://user:pw-${SECRET_TOPIC}@hc.example/ping\n`, 'ca.pem': PEM },
    );
    expect(c.notify.targets.map((t) => [t.name, t.kind, t.origin, t.minSeverity])).toEqual([
      ['hook', 'webhook', 'https://hooks.example', 'warning'],
      ['phone', 'ntfy', 'https://ntfy.example', 'info'],
    ]);
    expect(c.notify.targets[1]?.url.reveal().toString()).toBe(`https://ntfy.example/${SECRET_TOPIC}`);
    expect(c.notify.targets[1]?.token?.reveal().toString()).toBe(TOKEN);
    expect(c.notify.heartbeat?.origin).toBe('https://hc.example');
    expect(c.notify.heartbeat?.intervalMs).toBe(30_000);
    const shown = JSON.stringify(configView(c)) + inspect(c, { depth: 10 });
    expect(shown).not.toContain(SECRET_TOPIC);
    expect(shown).not.toContain(TOKEN);
  });

  it.each([
    ['a URL with credentials inline', '  targets: [{ name: h, url: "https://u:p@hooks.example/x" }]', 'notify.targets[0].url', 'carries credentials: put the URL in a file readable only by dcrvoted and name it in urlFile'],
    ['both url and urlFile', '  targets: [{ name: h, url: "https://hooks.example/x", urlFile: u }]', 'notify.targets[0].url', 'set either url or urlFile, not both'],
    ['no URL at all', '  targets: [{ name: h }]', 'notify.targets[0].url', 'is required (or urlFile, for a URL that carries a secret)'],
    ['not a URL', '  targets: [{ name: h, url: "hooks.example/x" }]', 'notify.targets[0].url', 'must be a URL like https://host/path'],
    ['a scheme other than http(s)', '  targets: [{ name: h, url: "ftp://hooks.example/x" }]', 'notify.targets[0].url', 'must be an http:// or https:// URL, got a ftp: URL'],
    ['an ntfy URL without a topic', '  targets: [{ name: h, kind: ntfy, url: "https://ntfy.sh" }]', 'notify.targets[0].url', "an ntfy URL names the topic: https://ntfy.sh/<topic> (or your server's /<topic>)"],
    ['an unknown kind', '  targets: [{ name: h, kind: slack, url: "https://x.example/y" }]', 'notify.targets[0].kind', 'must be one of webhook or ntfy, got "slack"'],
    ['an unknown severity', '  targets: [{ name: h, url: "https://x.example/y", minSeverity: urgent }]', 'notify.targets[0].minSeverity', 'must be one of info, warning or critical, got "urgent"'],
    ['a bad name', '  targets: [{ name: "a b", url: "https://x.example/y" }]', 'notify.targets[0].name', 'must be 1-32 letters, digits, - or _'],
    ['an unknown target option', '  targets: [{ name: h, url: "https://x.example/y", topic: t }]', 'notify.targets[0].topic', 'is not a known option (check the spelling)'],
    ['a missing token file', '  targets: [{ name: h, url: "https://x.example/y", tokenFile: nope }]', 'notify.targets[0].tokenFile', expect.stringContaining('nope does not exist')],
    ['a CA file without a certificate', '  targets: [{ name: h, url: "https://x.example/y", caCert: dcrd-pass }]', 'notify.targets[0].caCert', expect.stringContaining('holds no PEM certificate')],
    ['a heartbeat URL with credentials inline', '  heartbeatUrl: "https://u:p@hc.example/ping"', 'notify.heartbeatUrl', 'carries credentials: put the URL in a file readable only by dcrvoted and name it in heartbeatUrlFile'],
    ['both heartbeat forms', '  heartbeatUrl: "https://hc.example/ping"\n  heartbeatUrlFile: hb', 'notify.heartbeatUrl', 'set either heartbeatUrl or heartbeatUrlFile, not both'],
    ['a heartbeat that is not a URL', '  heartbeatUrl: "hc-ping.com/abc"', 'notify.heartbeatUrl', 'must be a URL like https://host/path'],
    ['an empty URL file', '  targets: [{ name: h, urlFile: empty }]', 'notify.targets[0].urlFile', expect.stringMatching(/empty is empty$/)],
    ['a zero queue', '  queueSize: 0', 'notify.queueSize', 'must be a whole number from 1 to 10000, got the number 0'],
    ['a quoted retry count', '  retries: "3"', 'notify.retries', 'must be a whole number from 0 to 100, got "3" (without quotes)'],
    ['a backoff floor above its cap', '  backoffMinMs: 5000\n  backoffMaxMs: 1000', 'notify.backoffMinMs', 'must not exceed notify.backoffMaxMs'],
    ['a threshold with a unit', '  notReadyAfterMs: 2m', 'notify.notReadyAfterMs', 'must be a whole number of milliseconds from 1 to 2147483647, got "2m" (write 120000 for 2m)'],
  ])('rejects %s', (_what, yaml, key, message) => {
    expect(issuesOf(() => load(`${yaml}\n`, { empty: '' }))).toEqual([{ key, message }]);
  });

  it('a duplicate target name, a token with spaces and a URL file holding no URL are all reported in one pass', () => {
    const issues = issuesOf(() =>
      load(
        [
          '  targets:',
          '    - { name: h, url: "https://x.example/y" }',
          '    - { name: h, url: "https://x.example/z", tokenFile: bad-token }',
          '    - { name: i, urlFile: not-a-url }',
        ].join('\n') + '\n',
        { 'bad-token': 'tk one\n', 'not-a-url': `${SECRET_TOPIC}\n` },
      ),
    );
    expect(issues).toEqual([
      { key: 'notify.targets[1].name', message: 'duplicate notify target name "h"' },
      { key: 'notify.targets[1].tokenFile', message: 'the token must be one line of printable characters without spaces' },
      { key: 'notify.targets[2].urlFile', message: 'the file does not hold a URL (expected one line like https://host/path)' },
    ]);
    expect(JSON.stringify(issues)).not.toContain(SECRET_TOPIC);
  });

  it('an inline URL with credentials is not echoed in the error', () => {
    const issues = issuesOf(() => load(`  targets: [{ name: h, url: "https://u:${SECRET_TOPIC}@x.example/y" }]\n`));
    expect(JSON.stringify(issues)).not.toContain(SECRET_TOPIC);
  });
});
