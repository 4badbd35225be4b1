// What each option takes, checked exactly. convict coerces whatever it is
// given (any string but "false" is a true boolean, parseInt("10s") is 10), so
// the config file's values are checked here, against the schema, before
// convict sees them: a value of the wrong type is an error naming the key,
// never a silent reinterpretation. Each kind doubles as the option's convict
// format, so the schema stays the one place options are declared.

import type { ConfigIssue } from './issues.js';
import { describeValue, isPlainObject, keySegment } from './quote.js';

/** Returned by a check for a value that was reported and must not be used. */
export const BAD: unique symbol = Symbol('bad config value');

export interface OptionKind {
  /** convict's format hook: throws on a bad value. */
  (value: unknown): void;
  /** What the option takes, as errors and `check-config --schema` say it. */
  readonly expected: string;
  /** Checks a config file value at `key`, reporting into `issues`; the value to use, or BAD. */
  check(value: unknown, key: string, issues: ConfigIssue[]): unknown;
  /** Environment variables and flags are text: this parses it strictly (undefined: not settable as text). */
  readonly fromText?: (text: string) => unknown;
}

/** Node.js timers fire after 1 ms for any delay above this, so a longer one is a misconfiguration. */
export const MAX_MILLIS = 2_147_483_647;
/** Longer than any path, address or name; bounds what later errors may echo. */
export const MAX_TEXT = 4096;

function kind(
  expected: string,
  check: OptionKind['check'],
  fromText?: OptionKind['fromText'],
  /** Lists and maps are checked entry by entry by `check`; convict only sees their clean result. */
  shallow?: (v: unknown) => boolean,
): OptionKind {
  const hook = (value: unknown): void => {
    if (shallow) {
      if (!shallow(value)) throw new Error(`must be ${expected}`);
      return;
    }
    const issues: ConfigIssue[] = [];
    if (check(value, '', issues) === BAD) throw new Error(issues[0]?.message ?? `must be ${expected}`);
  };
  return Object.assign(hook, { expected, check, fromText });
}

function bad(issues: ConfigIssue[], key: string, message: string): typeof BAD {
  issues.push({ key, message });
  return BAD;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Paths, addresses, names: a string, of sane length, with no control characters. */
export const text: OptionKind = kind(
  'a string',
  (v, key, issues) => {
    if (typeof v !== 'string') {
      const hint = typeof v === 'number' || typeof v === 'boolean' ? ' (put it in quotes if it is meant as text)' : '';
      return bad(issues, key, `must be a string, got ${describeValue(v)}${hint}`);
    }
    if (v.length > MAX_TEXT) return bad(issues, key, `must be at most ${MAX_TEXT} characters, got ${describeValue(v)}`);
    if (CONTROL.test(v)) return bad(issues, key, `must not contain control characters (tab, newline, NUL, …), got ${describeValue(v)}`);
    return v;
  },
  (t) => t,
);

/** YAML 1.1 booleans that YAML 1.2 (and so dcrvoted) reads as plain text. */
const YAML11_BOOLEANS = /^(y|yes|n|no|on|off)$/i;

export const flag: OptionKind = kind(
  'true or false',
  (v, key, issues) => {
    if (typeof v === 'boolean') return v;
    let hint = '';
    if (typeof v === 'string' && YAML11_BOOLEANS.test(v)) hint = ' (yes, no, on and off are text in YAML 1.2: write true or false)';
    else if (v === 'true' || v === 'false') hint = ' (without quotes)';
    return bad(issues, key, `must be true or false, got ${describeValue(v)}${hint}`);
  },
  (t) => (t === 'true' ? true : t === 'false' ? false : t),
);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
const WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$/i;

/** A duration in whole milliseconds: 0 would make polls and retries spin. */
export const millis: OptionKind = kind(
  `a whole number of milliseconds from 1 to ${MAX_MILLIS}`,
  (v, key, issues) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_MILLIS) return v;
    let hint = '';
    const unit = typeof v === 'string' ? WITH_UNIT.exec(v) : null;
    if (unit) {
      const ms = Number(unit[1]) * (UNIT_MS[(unit[2] as string).toLowerCase()] as number);
      if (Number.isInteger(ms) && ms >= 1 && ms <= MAX_MILLIS) hint = ` (write ${ms} for ${(v as string).trim()})`;
    } else if (typeof v === 'string' && /^\d+$/.test(v)) {
      hint = ' (without quotes)';
    }
    return bad(issues, key, `must be a whole number of milliseconds from 1 to ${MAX_MILLIS}, got ${describeValue(v)}${hint}`);
  },
  // Digits only: "10s", "1e4", "0x10" and " 5" are not numbers of milliseconds.
  (t) => (/^[0-9]{1,10}$/.test(t) ? Number(t) : t),
);

/**
 * Account numbers (uint32: BIP0044 accounts below 2^31, imported xpub
 * accounts such as ImportVotingAccountFromSeed's from 2^31 on; 2^31-1 is
 * the legacy imported-keys account, which has no passphrase of its own) to
 * file paths.
 */
export function accountFileMap(what: string): OptionKind {
  return kind(
    `a mapping of ${what}`,
    (v, key, issues) => {
      const entries = entriesOf(v);
      if (!entries) return bad(issues, key, `must be a mapping of ${what}, got ${describeValue(v)}`);
      const out: Record<string, string> = {};
      let ok = true;
      for (const [k, val] of entries) {
        const n = typeof k === 'number' ? k : typeof k === 'string' && /^\d{1,10}$/.test(k) ? Number(k) : NaN;
        if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1 || n === 2 ** 31 - 1) {
          bad(issues, join(key, k), 'keys must be account numbers (0 to 4294967295, not 2147483647), as ImportVotingAccountFromSeed or the wallet\'s account list reports them');
          ok = false;
          continue;
        }
        const r = text.check(val, join(key, String(n)), issues);
        if (r === BAD || r === '') {
          if (r === '') bad(issues, join(key, String(n)), 'must name a passphrase file');
          ok = false;
        } else out[String(n)] = r as string;
      }
      return ok ? out : BAD;
    },
    undefined,
    isPlainObject,
  );
}

export function oneOf(values: readonly string[]): OptionKind {
  const list = values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : String(values[0]);
  return kind(
    `one of ${list}`,
    (v, key, issues) =>
      typeof v === 'string' && values.includes(v) ? v : bad(issues, key, `must be one of ${list}, got ${describeValue(v)}`),
    (t) => t,
  );
}

/** A YAML mapping's entries (parsed with mapAsMap, so keys keep their YAML type), or null if not a mapping. */
function entriesOf(v: unknown): [unknown, unknown][] | null {
  if (v instanceof Map) return [...v.entries()];
  if (isPlainObject(v)) return Object.entries(v);
  return null;
}

function join(path: string, k: unknown): string {
  const seg = typeof k === 'string' ? keySegment(k) : `(${describeValue(k)} as a key)`;
  return path ? `${path}.${seg}` : seg;
}

/** Free-form keys (agenda ids, keys, hashes) to text values. */
export function textMap(what: string): OptionKind {
  return kind(
    `a mapping of ${what}`,
    (v, key, issues) => {
      const entries = entriesOf(v);
      if (!entries) return bad(issues, key, `must be a mapping of ${what}, got ${describeValue(v)}`);
      const out: Record<string, string> = {};
      let ok = true;
      for (const [k, val] of entries) {
        if (typeof k !== 'string') {
          // A hash of all digits is read as a (rounded) number: say so rather than "no such hash".
          bad(issues, join(key, k), 'keys must be text: YAML reads this one as a number or other value (put it in quotes)');
          ok = false;
          continue;
        }
        const r = text.check(val, join(key, k), issues);
        if (r === BAD) ok = false;
        else out[k] = r as string;
      }
      return ok ? out : BAD;
    },
    undefined,
    isPlainObject,
  );
}

/** A list whose entries each follow `schema`; a bad entry is reported and becomes null, the rest still count. */
export function listOf(schema: () => SchemaNode, what: string): OptionKind {
  return kind(
    `a list of ${what} entries`,
    (v, key, issues) => {
      if (!Array.isArray(v)) return bad(issues, key, `must be a list of ${what} entries, got ${describeValue(v)}`);
      return v.map((entry, i) => {
        const r = checkMapping(schema(), entry, `${key}[${i}]`, `${what} options`, issues);
        return r === BAD ? null : r;
      });
    },
    undefined,
    Array.isArray,
  );
}

export type SchemaNode = Record<string, unknown>;

export function isOption(node: unknown): node is { format: unknown; default: unknown; env?: string; arg?: string } {
  return isPlainObject(node) && 'default' in node;
}

export function kindOf(node: { format: unknown }, key: string): OptionKind {
  const k: unknown = node.format;
  if (typeof k !== 'function' || typeof (k as { check?: unknown }).check !== 'function') throw new Error(`schema bug: option ${key} has no dcrvoted kind`);
  return k as unknown as OptionKind;
}

/**
 * Checks a mapping of options against a schema: unknown keys, wrong types and
 * bad nested groups are all reported in one pass. Returns a plain object with
 * only the declared keys (nothing else reaches convict), or BAD.
 */
export function checkMapping(schema: SchemaNode, value: unknown, path: string, what: string, issues: ConfigIssue[]): Record<string, unknown> | typeof BAD {
  const entries = entriesOf(value);
  if (!entries) return bad(issues, path, `must be a mapping of ${what}, got ${describeValue(value)}`);
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const [k, v] of entries) {
    const key = join(path, k);
    const node = typeof k === 'string' && Object.hasOwn(schema, k) ? schema[k] : undefined;
    if (node === undefined) {
      bad(issues, key, 'is not a known option (check the spelling)');
      ok = false;
      continue;
    }
    const r = isOption(node) ? kindOf(node, key).check(v, key, issues) : checkMapping(node as SchemaNode, v, key, `${k} options`, issues);
    if (r === BAD) ok = false;
    else out[k as string] = r;
  }
  return ok ? out : BAD;
}

/** A whole number within bounds (queue sizes, retry counts). */
export function wholeNumber(min: number, max: number): OptionKind {
  return kind(
    `a whole number from ${min} to ${max}`,
    (v, key, issues) => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
      const hint = typeof v === 'string' && /^\d+$/.test(v) ? ' (without quotes)' : '';
      return bad(issues, key, `must be a whole number from ${min} to ${max}, got ${describeValue(v)}${hint}`);
    },
    (t) => (/^[0-9]{1,10}$/.test(t) ? Number(t) : t),
  );
}
