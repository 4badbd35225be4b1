// Reads the config file, refusing anything that is not a small, plain-text
// YAML mapping. The file may be wrong in any way (a list, random bytes, a
// 10 GB log pasted by mistake, an alias bomb), and each must end as one clear
// ConfigError, quickly and in bounded memory, never as a crash, a hang or a
// silently mangled value.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { CST, Lexer, LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from './issues.js';
import { describeValue, quote } from './quote.js';

/** A dcrvoted config is a few kilobytes; 1 MiB is far more than any real one. */
export const MAX_CONFIG_BYTES = 1 << 20;
/**
 * Deeper than any real config (which nests four levels). yaml's parser
 * spends memory and time in proportion to nesting, and a megabyte of "{"
 * exhausts the heap, so depth is measured with its cheap lexer first.
 */
export const MAX_NESTING = 64;
/** yaml's own guard against exponential alias expansion ("billion laughs"). */
export const MAX_ALIASES = 100;

const KEY = '--config';

function fail(message: string): never {
  throw new ConfigError([{ key: KEY, message }]);
}

/** The file's contents as a mapping (a Map, keys as YAML typed them); an empty file is an empty mapping. */
export function readConfigFile(path: string): Map<unknown, unknown> {
  const text = decode(path, readBounded(path));
  checkNesting(path, text);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, lineCounter });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) fail(yamlProblem(path, problem, where));
  // yaml's own uniqueKeys check compares every key with every other one
  // (seconds for a large file); a set per mapping does the same in one pass.
  findDuplicateKey(path, doc.contents, where);
  let value: unknown;
  try {
    value = doc.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/alias count/i.test(msg)) fail(`${path} expands YAML aliases (*name) too much (more than ${MAX_ALIASES} times); a config file needs few, if any`);
    fail(`${path} is not valid YAML: ${msg}`);
  }
  if (value === null || value === undefined) return new Map();
  if (!(value instanceof Map)) fail(`${path} must be a YAML mapping of options (name: value lines), got ${describeValue(value)}`);
  return value;
}

function readBounded(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    fail(`cannot load ${path}: ${fsReason(err)}`);
  }
  try {
    if (fstatSync(fd).isDirectory()) fail(`cannot load ${path}: it is a directory`);
    // Read at most one byte past the limit: the size from stat is not
    // trusted (a pipe or /dev/zero has none), the read is what is bounded.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_CONFIG_BYTES) fail(`${path} is larger than 1 MiB; a dcrvoted config file is a few kilobytes of YAML (is this the right file?)`);
    }
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    fail(`cannot load ${path}: ${fsReason(err)}`);
  } finally {
    closeSync(fd);
  }
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES') return 'it is not readable by this user';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

// YAML's printable set: no C0 controls but tab, newline and carriage return, no DEL, no C1 but NEL.
const NON_PRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;

function decode(path: string, bytes: Buffer): string {
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const hex = (bytes[at] as number).toString(16).padStart(2, '0');
    fail(`${path} is not UTF-8 text: invalid byte 0x${hex} at offset ${at} (line ${lineAt(bytes, at)})`);
  }
  const text = bytes.toString('utf8');
  const m = NON_PRINTABLE.exec(text);
  if (m) {
    const code = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
    fail(`${path} holds a control character (U+${code}) at line ${lineAt(text, m.index)}; a config file is plain text`);
  }
  return text;
}

function lineAt(data: Buffer | string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if ((typeof data === 'string' ? data.charCodeAt(i) : data[i]) === 0x0a) line++;
  return line;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    const extra = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (extra === 0) return i;
    let cp = c & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    const min = extra === 1 ? 0x80 : extra === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

/**
 * Counts how deep collections open, from tokens: flow brackets, plus "- " and
 * "? " indicators on one line (nesting across lines needs ever longer
 * indentation, so the size limit already bounds it).
 */
function checkNesting(path: string, text: string): void {
  let flow = 0;
  let onLine = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    switch (CST.tokenType(token)) {
      case 'flow-map-start':
      case 'flow-seq-start':
        flow++;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        flow = Math.max(0, flow - 1);
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
        onLine++;
        break;
      case 'newline':
        onLine = 0;
        break;
    }
    if (flow + onLine > MAX_NESTING) {
      fail(`${path} nests lists and mappings more than ${MAX_NESTING} deep (line ${lineAt(text, offset)}); a config file needs a few levels`);
    }
    offset += token.length;
  }
}

function yamlProblem(path: string, e: YAMLError, where: (offset: number) => string): string {
  const at = where(e.pos[0]);
  if (e.code === 'MULTIPLE_DOCS') return `${path} holds more than one YAML document (a "---" line at ${at}); dcrvoted reads one`;
  if (e.code === 'RESOURCE_EXHAUSTION') return `${path} nests lists and mappings too deep (at ${at}); a config file needs a few levels`;
  // The message alone: yaml's pretty form appends the offending line, which may be huge.
  return `${path} is not valid YAML: ${e.message.split('\n')[0]} (${at})`;
}

/** Fails on the first key that a mapping holds twice (YAML forbids it; which one wins is not for dcrvoted to guess). */
function findDuplicateKey(path: string, root: unknown, where: (offset: number) => string): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isScalar(pair.key)) {
          const k = pair.key.value;
          if (seen.has(k)) {
            fail(`${path} has the key ${quote(String(k))} twice in one mapping (second at ${where(pair.key.range?.[0] ?? 0)}); YAML allows each key once`);
          }
          seen.add(k);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      stack.push(...node.items);
    }
  }
}
