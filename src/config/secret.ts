// A secret value that cannot leak by accident: it serialises, prints and
// inspects as "[redacted]". Only `reveal()` gives the bytes, and only the code
// that hands them to a peer calls it.

import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: Buffer;

  constructor(value: Buffer) {
    this.#value = value;
  }

  reveal(): Buffer {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
