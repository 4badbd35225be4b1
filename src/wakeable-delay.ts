// A loop's pause between rounds that something else can cut short (a stop,
// a reconnect, a "check now"): wake() ends the pause in progress at once.
// The timer never keeps the process alive.

export class WakeableDelay {
  #wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  /** Ends the pause in progress, if any. */
  wake(): void {
    this.#wake?.();
  }
}
