// Throwaway TLS material for the fake dcrd, made with the openssl CLI (dcrd
// itself generates an ECDSA P-256 rpc.cert/rpc.key pair on first start).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FakeTlsMaterial {
  certPem: string;
  keyPem: string;
  certPath: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** A self-signed P-256 certificate valid for localhost and 127.0.0.1. */
export async function makeSelfSignedCert(commonName = 'fake dcrd'): Promise<FakeTlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-dcrd-tls-'));
  const certPath = join(dir, 'rpc.cert');
  const keyPath = join(dir, 'rpc.key');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { certPem, keyPem, certPath, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
