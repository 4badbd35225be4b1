/**
 * Client certificates for dcrwallet's gRPC server, made with the openssl CLI.
 *
 * dcrwallet serves gRPC only when its client CA file (clients.pem) holds at
 * least one certificate and then requires every client to present a
 * certificate that verifies against that pool. A self-signed certificate with
 * extendedKeyUsage=clientAuth, appended to clients.pem, is its own root and
 * therefore accepted; anything else is refused during the TLS handshake.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ClientCert {
  certPath: string;
  keyPath: string;
}

/** Creates a self-signed ECDSA P-256 client certificate + key (PEM) if absent. */
export async function makeClientCert(certPath: string, keyPath: string, commonName: string): Promise<ClientCert> {
  if (existsSync(certPath) && existsSync(keyPath)) return { certPath, keyPath };
  mkdirSync(dirname(certPath), { recursive: true });
  mkdirSync(dirname(keyPath), { recursive: true });
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '3650', '-subj', `/CN=${commonName}`,
    '-addext', 'extendedKeyUsage=clientAuth', '-addext', 'keyUsage=critical,digitalSignature',
  ];
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`openssl could not create ${certPath}: ${stderr || err.message}`));
      else resolve();
    });
  });
  return { certPath, keyPath };
}

/** Appends a PEM certificate to a wallet's clients.pem unless it is already there. */
export function trustClientCert(clientsPemPath: string, certPath: string): void {
  const pem = readFileSync(certPath, 'utf8').trim();
  const current = existsSync(clientsPemPath) ? readFileSync(clientsPemPath, 'utf8') : '';
  if (current.includes(pem)) return;
  mkdirSync(dirname(clientsPemPath), { recursive: true });
  appendFileSync(clientsPemPath, `${current && !current.endsWith('\n') ? '\n' : ''}${pem}\n`);
}
