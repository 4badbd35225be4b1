// One pino logger for the whole daemon. JSON lines on stdout for journald and
// log shippers; pretty output only when a human is watching a terminal.
// Redaction is a second line of defence: secrets are Secret objects that
// already print as "[redacted]", but a stray field named like a secret is
// censored too.

import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'passphrase',
  'privatePassphrase',
  'publicPassphrase',
  'clientKey',
  'key',
  'authorization',
  'headers.authorization',
  '*.password',
  '*.passphrase',
  '*.privatePassphrase',
  '*.clientKey',
  '*.authorization',
];

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty' | 'auto';
  /** Where lines go; defaults to stdout. Tests pass a stream to inspect output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true && !opts.destination);
  const base = {
    level: opts.level,
    base: { service: 'dcrvoted' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return opts.destination ? pino(base, opts.destination as pino.DestinationStream) : pino(base, pino.destination({ fd: 1, sync: false }));
}
