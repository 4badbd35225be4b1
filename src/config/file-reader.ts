// Reading the files a config names: certificates and secrets, relative to
// the config file or from systemd's credentials directory, each failure an
// issue naming the key.

import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { errorMessage } from '../errors.js';
import type { ConfigIssue } from './issues.js';
import { Secret } from './secret.js';

export interface LoadedFile {
  path: string;
  bytes: Buffer;
}

/** Reads the files a config names, recording a keyed issue for each failure. */
export class FileReader {
  constructor(
    private readonly baseDir: string,
    private readonly credentialsDir: string | undefined,
    private readonly issues: ConfigIssue[],
  ) {}

  /**
   * A bare secret file name (no slash) is a systemd credential when
   * $CREDENTIALS_DIRECTORY is set; anything else is relative to the config file.
   */
  pathOf(value: string, secret = true): string {
    if (isAbsolute(value)) return value;
    if (secret && this.credentialsDir && !value.includes('/')) return join(this.credentialsDir, value);
    return resolve(this.baseDir, value);
  }

  private read(key: string, value: string, secret: boolean): { path: string; bytes: Buffer } | null {
    if (!value) {
      this.issues.push({ key, message: 'is required' });
      return null;
    }
    const path = this.pathOf(value, secret);
    try {
      if (!statSync(path).isFile()) {
        this.issues.push({ key, message: `${path} is not a regular file` });
        return null;
      }
      return { path, bytes: readFileSync(path) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : errorMessage(err);
      this.issues.push({ key, message: `${path} ${why}` });
      return null;
    }
  }

  cert(key: string, value: string): LoadedFile | null {
    const file = this.read(key, value, false);
    if (file && !file.bytes.includes('-----BEGIN CERTIFICATE-----')) {
      this.issues.push({ key, message: `${file.path} holds no PEM certificate` });
      return null;
    }
    return file;
  }

  /** Secrets: the file's content, minus one trailing newline. Never echoed. */
  secret(key: string, value: string, mustContain?: string): Secret | null {
    const file = this.read(key, value, true);
    if (!file) return null;
    let bytes = file.bytes;
    if (mustContain) {
      if (!bytes.includes(mustContain)) {
        this.issues.push({ key, message: `${file.path} holds no PEM private key` });
        return null;
      }
      return new Secret(bytes);
    }
    if (bytes.at(-1) === 0x0a) bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
    if (bytes.length === 0) {
      this.issues.push({ key, message: `${file.path} is empty` });
      return null;
    }
    return new Secret(Buffer.from(bytes));
  }
}

