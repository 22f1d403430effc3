// Reconnect delays: exponential from `initial` to `max`, each drawn at random from the upper
// half of its step, so that a thousand pages dropped by one gateway restart do not all come
// back in the same millisecond.
export class Backoff {
  /**
   * @param {number} initial milliseconds before the first retry (before jitter)
   * @param {number} max the cap
   * @param {() => number} [random] returns [0, 1); replaceable in tests
   */
  constructor(initial, max, random = Math.random) {
    this.initial = initial;
    this.max = max;
    this.random = random;
    this.attempt = 0;
  }

  /** The delay before the next attempt, in milliseconds. */
  next() {
    const step = Math.min(this.max, this.initial * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  /** Back to the first step (after a successful connection). */
  reset() {
    this.attempt = 0;
  }
}
