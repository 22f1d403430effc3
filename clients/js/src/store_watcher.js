// A watch on a store's keys under a prefix: the current values first, then one `ready`
// record once the store's initial data is complete, then every change, as NATS KV watchers
// deliver them. An async iterator over a bounded queue, or a callback.
import { StoreError } from './store_error.js';

/**
 * @typedef {object} Change
 * @property {'put' | 'delete' | 'ready'} op `ready`: the initial values have all been given
 * @property {string} [key]
 * @property {Uint8Array | null} [value] null for a delete
 * @property {import('./hlc.js').Version} [version]
 * @property {boolean} [initial] part of the initial values
 * @property {'local' | 'remote'} [origin] who made the change
 */

/** One watch; `store.watch()` makes it. Iterate it, or pass a callback; `stop()` ends it. */
export class Watcher {
  /**
   * @param {string} prefix
   * @param {{callback?: (change: Change) => void, maxPending?: number, onStop: (w: Watcher) => void}} options
   */
  constructor(prefix, { callback, maxPending = 100_000, onStop }) {
    this.prefix = prefix;
    this.callback = callback;
    this.maxPending = maxPending;
    this.onStop = onStop;
    /** @type {Change[]} */
    this.queue = [];
    /** @type {((r: IteratorResult<Change>) => void) | null} */
    this.waiting = null;
    this.done = false;
    /** @type {StoreError | null} */
    this.error = null;
  }

  /** @param {string} key */
  matches(key) {
    return key.startsWith(this.prefix);
  }

  /** @param {Change} change */
  push(change) {
    if (this.done) return;
    if (this.callback) {
      this.callback(change);
      return;
    }
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: change, done: false });
      return;
    }
    if (this.queue.length >= this.maxPending) {
      // Skipping a change would leave the reader with wrong contents: end it instead.
      this.stop(new StoreError('watcher_overflow',
        `more than ${this.maxPending} changes waited unread; watch again to start over`));
      return;
    }
    this.queue.push(change);
  }

  /** Ends the watch; a reader waiting gets the end (or `error`). @param {StoreError} [error] */
  stop(error) {
    if (this.done) return;
    this.done = true;
    this.error = error ?? null;
    this.onStop(this);
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  /** @returns {AsyncIterator<Change>} */
  [Symbol.asyncIterator]() {
    return {
      next: () => {
        if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift(), done: false });
        if (this.done) {
          return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => { this.waiting = resolve; });
      },
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
