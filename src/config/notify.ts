// notify.* resolved: every target's URL and token read (from files where
// they carry secrets) and checked, so the daemon gets receivers it can call
// without another check. A URL is never echoed in an error: it may hold a
// token (an ntfy topic is itself a password).

import convict from 'convict';
import { errorMessage } from '../errors.js';
import type { DeliveryPolicy } from '../notify/delivery.js';
import { originOf, type NotifyTarget } from '../notify/target.js';
import type { ConfigIssue } from './issues.js';
import { convictIssues, NAME_RE } from './convict-issues.js';
import type { FileReader } from './file-reader.js';
import { notifyTargetSchema, type DaemonConfigShape, type NotifyTargetShape } from './schema.js';
import { Secret } from './secret.js';

export interface NotifyConfig {
  targets: NotifyTarget[];
  /** null: no dead-man's switch. */
  heartbeat: { url: Secret; origin: string; intervalMs: number } | null;
  notReadyAfterMs: number;
  startupMessage: boolean;
  delivery: DeliveryPolicy;
}

type RawNotify = DaemonConfigShape['notify'];

export function resolveNotify(raw: RawNotify, files: FileReader, issues: ConfigIssue[]): NotifyConfig {
  const targets = resolveTargets(raw.targets, files, issues);
  if (raw.backoffMinMs > raw.backoffMaxMs) issues.push({ key: 'notify.backoffMinMs', message: 'must not exceed notify.backoffMaxMs' });
  let heartbeat: NotifyConfig['heartbeat'] = null;
  const hb = receiverUrl('notify.heartbeatUrl', raw.heartbeatUrl, 'notify.heartbeatUrlFile', raw.heartbeatUrlFile, files, issues, false);
  if (hb) heartbeat = { url: hb.secret, origin: originOf(hb.url), intervalMs: raw.heartbeatIntervalMs };
  return {
    targets,
    heartbeat,
    notReadyAfterMs: raw.notReadyAfterMs,
    startupMessage: raw.startupMessage,
    delivery: {
      maxQueue: raw.queueSize,
      timeoutMs: raw.timeoutMs,
      retries: raw.retries,
      backoffMinMs: raw.backoffMinMs,
      backoffMaxMs: raw.backoffMaxMs,
    },
  };
}

function resolveTargets(entries: unknown[], files: FileReader, issues: ConfigIssue[]): NotifyTarget[] {
  const out: NotifyTarget[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    const key = (k: string) => `notify.targets[${i}].${k}`;
    if (entry === null) return; // a bad entry, already reported by the schema check
    const tconf = convict(notifyTargetSchema, { env: {}, args: [] });
    let t: NotifyTargetShape;
    try {
      tconf.load(entry as object);
      tconf.validate({ allowed: 'strict' });
      t = tconf.getProperties();
    } catch (err) {
      for (const issue of convictIssues(errorMessage(err))) issues.push({ key: key(issue.key), message: issue.message });
      return;
    }
    if (!NAME_RE.test(t.name)) issues.push({ key: key('name'), message: 'must be 1-32 letters, digits, - or _' });
    else if (seen.has(t.name)) issues.push({ key: key('name'), message: `duplicate notify target name "${t.name}"` });
    seen.add(t.name);
    const url = receiverUrl(key('url'), t.url, key('urlFile'), t.urlFile, files, issues, true);
    if (url && t.kind === 'ntfy' && (url.url.pathname === '/' || url.url.pathname === '')) {
      issues.push({ key: t.urlFile ? key('urlFile') : key('url'), message: 'an ntfy URL names the topic: https://ntfy.sh/<topic> (or your server\'s /<topic>)' });
      return;
    }
    let token: Secret | null = null;
    if (t.tokenFile) {
      token = files.secret(key('tokenFile'), t.tokenFile);
      if (token && !/^[\x21-\x7e]+$/.test(token.reveal().toString('latin1'))) {
        issues.push({ key: key('tokenFile'), message: 'the token must be one line of printable characters without spaces' });
        token = null;
      }
      if (!token) return;
    }
    const caCert = t.caCert ? files.cert(key('caCert'), t.caCert) : null;
    if (!url || (t.caCert && !caCert)) return;
    out.push({ name: t.name, kind: t.kind, url: url.secret, origin: originOf(url.url), token, caCert: caCert ?? null, minSeverity: t.minSeverity });
  });
  return out;
}

/**
 * A receiver URL given inline or in a file (exactly one of them, or neither
 * when optional). Inline URLs may not carry credentials: the config file is
 * often world-readable and gets pasted into bug reports.
 */
function receiverUrl(
  urlKey: string,
  inline: string,
  fileKey: string,
  file: string,
  files: FileReader,
  issues: ConfigIssue[],
  required: boolean,
): { url: URL; secret: Secret } | null {
  if (inline && file) {
    issues.push({ key: urlKey, message: `set either ${lastSegment(urlKey)} or ${lastSegment(fileKey)}, not both` });
    return null;
  }
  if (!inline && !file) {
    if (required) issues.push({ key: urlKey, message: `is required (or ${lastSegment(fileKey)}, for a URL that carries a secret)` });
    return null;
  }
  let text: string;
  let key: string;
  if (file) {
    const s = files.secret(fileKey, file);
    if (!s) return null;
    text = s.reveal().toString('utf8').trim();
    key = fileKey;
  } else {
    text = inline;
    key = urlKey;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    issues.push({ key, message: file ? 'the file does not hold a URL (expected one line like https://host/path)' : 'must be a URL like https://host/path' });
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    issues.push({ key, message: `must be an http:// or https:// URL, got a ${url.protocol} URL` });
    return null;
  }
  if (!file && (url.username || url.password)) {
    issues.push({ key, message: `carries credentials: put the URL in a file readable only by dcrvoted and name it in ${lastSegment(fileKey)}` });
    return null;
  }
  return { url, secret: new Secret(Buffer.from(url.href, 'utf8')) };
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('.') + 1);
}
