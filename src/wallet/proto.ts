// Loading proto/walletrpc.proto into the method definitions the wallet client
// calls through grpc-js's generic makeUnaryRequest / makeServerStreamRequest:
// no generated code, one place to check against the wallet's rpc/api.proto.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

// ---------------------------------------------------------------------------
// Proto loading (once per process).

// Decoded messages therefore come out with keepCase names, defaults filled in,
// longs as String, enums as String and bytes as Buffer; the raw message shapes
// the client declares follow from these options.
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: false,
};

const definitions = new Map<string, protoLoader.PackageDefinition>();

/** Find proto/walletrpc.proto from src/wallet (tsx, vitest) or dist/src/wallet (built). */
function locateProto(): string {
  for (const rel of ['../../proto/walletrpc.proto', '../../../proto/walletrpc.proto']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('proto/walletrpc.proto not found next to the dcrvoted installation');
}

export function loadDefinition(protoPath?: string): protoLoader.PackageDefinition {
  const path = protoPath ?? locateProto();
  let def = definitions.get(path);
  if (!def) {
    def = protoLoader.loadSync(path, LOADER_OPTIONS);
    definitions.set(path, def);
  }
  return def;
}

export function methodDef(
  def: protoLoader.PackageDefinition,
  service: string,
  method: string,
): protoLoader.MethodDefinition<object, object> {
  const svc = def[`walletrpc.${service}`] as protoLoader.ServiceDefinition | undefined;
  const m = svc?.[method];
  if (!m) throw new Error(`walletrpc.${service}/${method} missing from walletrpc.proto`);
  return m as protoLoader.MethodDefinition<object, object>;
}
