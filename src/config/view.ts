// The configuration as an operator may see it: file paths instead of file
// contents, "[redacted]" instead of secrets. Used by check-config and /status.

import type { DaemonConfig } from './load.js';
import type { OptionKind } from './kinds.js';
import { daemonSchema, notifyTargetSchema, walletSchema } from './schema.js';

export function configView(c: DaemonConfig): unknown {
  return JSON.parse(
    JSON.stringify(c, (_key, value: unknown) => {
      if (value && typeof value === 'object' && 'bytes' in value && 'path' in value) return (value as { path: string }).path;
      if (value && typeof value === 'object' && 'address' in value && 'port' in value) return (value as { address: string }).address;
      return value;
    }),
  );
}

interface DocLine {
  key: string;
  doc: string;
  takes: string;
  default: unknown;
  env?: string;
  arg?: string;
}

function collectDocs(schema: Record<string, unknown>, prefix: string, out: DocLine[]): DocLine[] {
  for (const [k, v] of Object.entries(schema)) {
    const o = v as Record<string, unknown>;
    if (typeof o.doc === 'string') {
      out.push({ key: prefix + k, doc: o.doc, takes: (o.format as OptionKind).expected, default: o.default, env: o.env as string | undefined, arg: o.arg as string | undefined });
    } else {
      collectDocs(o, `${prefix}${k}.`, out);
    }
  }
  return out;
}

/** Every option with its documentation, default, environment variable and flag. */
export function schemaDocs(): string {
  const lines = [
    ...collectDocs(daemonSchema as unknown as Record<string, unknown>, '', []),
    ...collectDocs(walletSchema as unknown as Record<string, unknown>, 'wallets[].', []),
    ...collectDocs(notifyTargetSchema as unknown as Record<string, unknown>, 'notify.targets[].', []),
  ];
  return lines
    .map((l) => {
      const extra = [l.env ? `env ${l.env}` : '', l.arg ? `flag --${l.arg}` : ''].filter(Boolean).join(', ');
      return `${l.key}  (${l.takes}; default: ${JSON.stringify(l.default)}${extra ? `; ${extra}` : ''})\n    ${l.doc}`;
    })
    .join('\n');
}
