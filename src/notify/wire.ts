// Each target kind's wire form: what one notification becomes as an HTTP
// request. Pure functions, so the exact bytes a receiver gets are unit-tested.
//
// ntfy (docs.ntfy.sh/publish): POST the message text to the topic URL with
// Title, Priority (1 min … 5 max) and Tags (comma-separated; known emoji
// short codes show as emoji) headers; an access token goes in
// "Authorization: Bearer tk_…". Header values are ISO-8859-1 on the wire, so
// any other text is sent RFC 2047-encoded, which ntfy decodes.

import { detailLines, headline, type Notification, type Severity } from './message.js';

export const TARGET_KINDS = ['webhook', 'ntfy'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface WireRequest {
  headers: Record<string, string>;
  body: string;
}

/** The generic webhook's JSON body; receivers may rely on these fields (version 1). */
export interface WebhookBody {
  version: 1;
  key: string;
  state: Notification['state'];
  severity: Severity;
  title: string;
  details: Notification['details'];
  at: string;
  source: string;
}

export function webhookRequest(n: Notification): WireRequest {
  const body: WebhookBody = { version: 1, key: n.key, state: n.state, severity: n.severity, title: headline(n), details: n.details, at: n.at, source: n.source };
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

const NTFY_PRIORITY: Record<Severity, string> = { info: '3', warning: '4', critical: '5' };

function ntfyTags(n: Notification): string {
  const mark =
    n.state === 'resolved' ? 'white_check_mark'
    : n.state === 'test' ? 'test_tube'
    : n.severity === 'critical' ? 'rotating_light'
    : n.severity === 'warning' ? 'warning'
    : 'information_source';
  return [mark, 'dcrvoted', n.state].join(',');
}

export function ntfyRequest(n: Notification): WireRequest {
  const text = [detailLines(n), `${n.source} at ${n.at}`].filter(Boolean).join('\n');
  return {
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      title: headerText(headline(n)),
      // A resolved condition needs no buzzing phone.
      priority: n.state === 'resolved' ? '3' : NTFY_PRIORITY[n.severity],
      tags: ntfyTags(n),
    },
    body: text,
  };
}

export function requestFor(kind: TargetKind, n: Notification): WireRequest {
  return kind === 'ntfy' ? ntfyRequest(n) : webhookRequest(n);
}

/** Printable ASCII as is; anything else as an RFC 2047 encoded word. */
export function headerText(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}
