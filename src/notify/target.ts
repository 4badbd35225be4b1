// A configured receiver: where it is, how to authenticate, what it wants to
// hear. The URL and token are Secrets (they print as "[redacted]"); `origin`
// (scheme, host and port) is the only part of the address ever shown.

import type { Secret } from '../config/secret.js';
import type { Severity } from './message.js';
import type { TargetKind } from './wire.js';

export interface NotifyTarget {
  name: string;
  kind: TargetKind;
  url: Secret;
  /** scheme://host[:port]: safe for logs and /status. */
  origin: string;
  /** Sent as "Authorization: Bearer …" when set. */
  token: Secret | null;
  /** Extra CA certificate(s) for a receiver with a private certificate. */
  caCert: { path: string; bytes: Buffer } | null;
  /** Least severity this target is sent (the start-up test message goes to every target). */
  minSeverity: Severity;
}

/** scheme://host[:port] of a URL, without credentials, path or query. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}
