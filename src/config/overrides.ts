// DCRVOTED_* environment variables and schema flags (--network, …) on top of
// the file. Both are text, so each is parsed strictly by its option's kind
// ("true"/"false" only for a boolean, digits only for a duration) instead of
// convict's coercion, and a bad one is reported under the name the operator
// typed: the variable or the flag.

import type { ConfigIssue } from './issues.js';
import { BAD, isOption, kindOf, type SchemaNode } from './kinds.js';

export interface Override {
  /** Option path, e.g. "log.level". */
  path: string;
  value: unknown;
}

interface TextOption {
  path: string;
  env?: string;
  arg?: string;
}

function textOptions(schema: SchemaNode, prefix = ''): TextOption[] {
  return Object.entries(schema).flatMap(([k, node]) => {
    if (!isOption(node)) return textOptions(node as SchemaNode, `${prefix}${k}.`);
    return node.env || node.arg ? [{ path: prefix + k, env: node.env, arg: node.arg }] : [];
  });
}

function parse(schema: SchemaNode, path: string, text: string, source: string, issues: ConfigIssue[]): Override | null {
  const node = path.split('.').reduce<unknown>((n, k) => (n as SchemaNode)[k], schema) as { format: unknown };
  const kind = kindOf(node, path);
  const value = kind.check(kind.fromText ? kind.fromText(text) : text, source, issues);
  return value === BAD ? null : { path, value };
}

/** Environment first, then flags, so a flag wins over a variable (and both over the file). */
export function textOverrides(schema: SchemaNode, env: NodeJS.ProcessEnv, args: string[], issues: ConfigIssue[]): Override[] {
  const options = textOptions(schema);
  const out: Override[] = [];
  for (const o of options) {
    const text = o.env ? env[o.env] : undefined;
    if (text === undefined) continue;
    const r = parse(schema, o.path, text, o.env as string, issues);
    if (r) out.push(r);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
    const o = options.find((x) => x.arg === name);
    if (!a.startsWith('-') || !o) {
      issues.push({ key: a.startsWith('-') ? `--${name}` : a, message: 'is not a known option' });
      continue;
    }
    const text = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (text === undefined) {
      issues.push({ key: `--${name}`, message: 'needs a value' });
      continue;
    }
    const r = parse(schema, o.path, text, `--${name}`, issues);
    if (r) out.push(r);
  }
  return out;
}
