// One subscription as the application sees it: either a callback or an async iterator over a
// bounded queue (a consumer slower than the messages arriving loses the newest ones, counted
// in `dropped`, rather than growing memory without end).

/**
 * @typedef {import('./message.js').Msg} Msg
 * @typedef {import('./errors.js').PsychoError} PsychoError
 */

export class Subscription {
  /**
   * @param {{subject: string, queue: string, max: number, maxPending: number,
   *   callback: ((err: PsychoError | null, msg: Msg | null) => void) | null,
   *   onDone: (sub: Subscription) => void, onDrop: () => void}} options
   */
  constructor(options) {
    /** The subject or pattern subscribed to. */
    this.subject = options.subject;
    /** The queue group, or "". */
    this.queue = options.queue;
    this.max = options.max;
    this.maxPending = options.maxPending;
    this.callback = options.callback;
    this.onDone = options.onDone;
    this.onDrop = options.onDrop;
    /** Messages handed to this subscription. */
    this.received = 0;
    /** Messages dropped because the iterator's queue was full. */
    this.dropped = 0;
    /** @type {(Msg | undefined)[]} messages waiting for the iterator, from `head` on */
    this.waiting = [];
    this.head = 0;
    /** @type {((r: IteratorResult<Msg>) => void) | null} */
    this.waiter = null;
    /** @type {((e: unknown) => void) | null} */
    this.waiterReject = null;
    this.done = false;
    /** @type {PsychoError | null} */
    this.error = null;
    /** @type {Promise<void>} resolves when the subscription ends; rejects if an error ended it */
    this.closed = new Promise((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    this.closed.catch(() => {}); // an error is also reported to the iterator or callback
  }

  /**
   * Ends the subscription; the server is told once no subscription with this subject and
   * queue group is left on the connection. Messages already queued are still iterated.
   */
  unsubscribe() {
    this.finish(null);
  }

  /** Whether the subscription has ended. */
  get isClosed() {
    return this.done;
  }

  /** @param {Msg} msg */
  deliver(msg) {
    if (this.done) return;
    this.received += 1;
    if (this.callback !== null) {
      this.callback(null, msg);
    } else if (this.waiter !== null) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter({ value: msg, done: false });
    } else if (this.waiting.length - this.head < this.maxPending) {
      this.waiting.push(msg);
    } else {
      this.dropped += 1;
      this.onDrop();
    }
    if (this.max > 0 && this.received >= this.max) this.finish(null);
  }

  /** @param {PsychoError | null} error what ended it, or null for a normal end */
  finish(error) {
    if (this.done) return;
    this.done = true;
    this.error = error;
    this.onDone(this);
    if (error !== null && this.callback !== null) this.callback(error, null);
    if (this.waiter !== null) {
      const [resolve, reject] = [this.waiter, this.waiterReject];
      this.waiter = null;
      if (error !== null) reject(error);
      else resolve({ value: undefined, done: true });
    }
    if (error !== null) this.rejectClosed(error);
    else this.resolveClosed();
  }

  /** The oldest waiting message; the array is compacted as it empties, never shifted. */
  take() {
    const msg = /** @type {Msg} */ (this.waiting[this.head]);
    this.waiting[this.head++] = undefined;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    return msg;
  }

  /** @returns {AsyncIterator<Msg>} */
  [Symbol.asyncIterator]() {
    return {
      next: () => {
        if (this.head < this.waiting.length) return Promise.resolve({ value: this.take(), done: false });
        if (this.done) {
          if (this.error !== null) return Promise.reject(this.error);
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.waiter = resolve;
          this.waiterReject = reject;
        });
      },
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
