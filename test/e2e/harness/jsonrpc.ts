/**
 * Minimal JSON-RPC 1.0 client over HTTPS POST, as spoken by dcrd and by
 * dcrwallet's legacy JSON-RPC server (basic auth, self-signed rpc.cert).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export interface JsonRpcEndpoint {
  host: string;
  port: number;
  /** PEM file of the server's self-signed certificate (read on every call: it may appear late). */
  caCertPath: string;
  user: string;
  password: string;
}

export class JsonRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number | undefined,
    message: string,
  ) {
    super(`${method}: ${message}${code === undefined ? '' : ` (code ${code})`}`);
    this.name = 'JsonRpcError';
  }
}

let nextId = 1;

export function jsonRpcCall(
  ep: JsonRpcEndpoint,
  method: string,
  params: unknown[] = [],
  timeoutMs = 30_000,
): Promise<any> {
  const body = JSON.stringify({ jsonrpc: '1.0', id: nextId++, method, params });
  const ca = readFileSync(ep.caCertPath);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ep.host,
        port: ep.port,
        method: 'POST',
        path: '/',
        ca,
        auth: `${ep.user}:${ep.password}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { result?: unknown; error?: { code?: number; message?: string } | null };
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(new JsonRpcError(method, undefined, `HTTP ${res.statusCode}: ${text.trim().slice(0, 200)}`));
            return;
          }
          if (parsed.error) {
            reject(new JsonRpcError(method, parsed.error.code, parsed.error.message ?? 'unknown error'));
            return;
          }
          resolve(parsed.result);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
