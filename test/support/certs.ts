// Test PKI made at test time with the openssl CLI (ECDSA P-256), so no key
// material is ever committed.
//
// Layout mirrors a real dcrwallet deployment:
//   - serverCa signs the wallet's TLS certificate (dcrwallet's rpc.cert is a
//     self-signed cert that acts as its own CA; a separate CA is equivalent
//     for the client, which only needs a trust anchor);
//   - clientCa plays the role of the wallet's clients.pem: the gRPC server
//     accepts only client certificates it signed;
//   - rogue is a client cert+key signed by an unrelated CA (never in
//     clients.pem), and rogueCa doubles as a "wrong wallet CA" for the client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestPki {
  dir: string;
  /** CA that signed the wallet's server certificate (the client trusts it). */
  serverCa: CertPair;
  /** Wallet TLS certificate, SAN 127.0.0.1, ::1, localhost. */
  server: CertPair;
  /** The wallet's client CA (what clients.pem holds). */
  clientCa: CertPair;
  /** dcrvoted's client certificate, signed by clientCa. */
  client: CertPair;
  /** A CA unrelated to the wallet. */
  rogueCa: CertPair;
  /** A client certificate signed by rogueCa: the wallet must reject it. */
  rogue: CertPair;
  /** Remove the temp dir. */
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function load(dir: string, name: string): CertPair {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

function makeLeaf(dir: string, name: string, cn: string, ca: string, ext: string): void {
  const extFile = `${name}.ext`;
  writeFileSync(join(dir, extFile), ext);
  openssl(
    [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`,
    ],
    dir,
  );
  openssl(
    [
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
      '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', extFile,
    ],
    dir,
  );
}

/** Generate a fresh PKI in a new temp dir. Takes well under a second. */
export function generateTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-pki-'));
  makeCa(dir, 'server-ca', 'fake dcrwallet rpc CA');
  makeLeaf(
    dir,
    'server',
    'fake dcrwallet',
    'server-ca',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n',
  );
  makeCa(dir, 'client-ca', 'fake dcrwallet clients.pem CA');
  const clientExt =
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  makeLeaf(dir, 'client', 'dcrvoted', 'client-ca', clientExt);
  makeCa(dir, 'rogue-ca', 'unrelated CA');
  makeLeaf(dir, 'rogue', 'rogue client', 'rogue-ca', clientExt);
  return {
    dir,
    serverCa: load(dir, 'server-ca'),
    server: load(dir, 'server'),
    clientCa: load(dir, 'client-ca'),
    client: load(dir, 'client'),
    rogueCa: load(dir, 'rogue-ca'),
    rogue: load(dir, 'rogue'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
