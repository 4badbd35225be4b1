// A config directory for loadConfig tests: the YAML plus the certificate and
// secret files it names, in a fresh temporary directory.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../../src/config/load.js';

export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
export const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

export function setup(yaml: string | Buffer, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-config-'));
  const defaults: Record<string, string> = {
    'dcrd.cert': PEM,
    'dcrd-pass': 'dcrd-secret-pw\n',
    'wallet.cert': PEM,
    'client.pem': PEM,
    'client.key': KEY,
    'wallet-pass': 'hunter2-wallet\n',
    'jsonrpc-pass': 'jsonrpc-secret\n',
  };
  for (const [name, body] of Object.entries({ ...defaults, ...files })) writeFileSync(join(dir, name), body);
  writeFileSync(join(dir, 'dcrvoted.yaml'), yaml);
  return join(dir, 'dcrvoted.yaml');
}

export const GOOD = `
network: simnet
stateDir: ./state
dcrd:
  caCert: dcrd.cert
  user: rpcuser
  passwordFile: ./dcrd-pass
wallets:
  - name: main
    caCert: wallet.cert
    clientCert: client.pem
    clientKey: ./client.key
    passphraseFile: ./wallet-pass
    jsonrpc:
      user: rpcuser
      passwordFile: ./jsonrpc-pass
policy:
  agendas:
    maxblocksize: yes
  treasuryKeys:
    03f6e7041f1cf51ee10e0a01cd2b0385ce3cd9debaabb2296f7e9dee9329da946c: no
`;

export function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

