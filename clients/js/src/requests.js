// Request/reply over one wildcard inbox subscription per connection (`_INBOX.<random>.*`),
// subscribed on the first request: each request's reply subject is one token under it, so a
// thousand requests in flight cost the server one subscription, not a thousand.
import { PsychoError } from './errors.js';

/** @typedef {import('./message.js').Msg} Msg */

/** @returns {string} 22 random characters for an inbox name */
function randomToken() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(22));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** Creates an inbox subject no one else uses. @returns {string} */
export function createInbox() {
  return `_INBOX.${randomToken()}`;
}

export class RequestMux {
  /** @param {(pattern: string, onMsg: (err: PsychoError | null, msg: Msg | null) => void) => void} subscribe */
  constructor(subscribe) {
    this.subscribe = subscribe;
    this.prefix = createInbox();
    this.subscribed = false;
    this.next = 0;
    /** @type {Map<string, {subject: string, resolve: (m: Msg) => void, reject: (e: unknown) => void, timer: ReturnType<typeof setTimeout>}>} */
    this.pending = new Map();
  }

  /**
   * Registers a request to `subject` and returns its reply subject and its outcome.
   * @param {string} subject
   * @param {number} timeout milliseconds
   * @returns {{reply: string, result: Promise<Msg>}}
   */
  start(subject, timeout) {
    if (!this.subscribed) {
      this.subscribed = true;
      this.subscribe(`${this.prefix}.*`, (err, msg) => (err ? this.failAll(err) : this.answer(msg)));
    }
    const token = String(++this.next);
    const result = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new PsychoError('timeout', `no reply to a request on ${subject} within ${timeout} ms`, { subject }));
      }, timeout);
      this.pending.set(token, { subject, resolve, reject, timer });
    });
    return { reply: `${this.prefix}.${token}`, result };
  }

  /** @param {Msg} msg a message on the inbox */
  answer(msg) {
    const token = msg.subject.slice(this.prefix.length + 1);
    const request = this.pending.get(token);
    if (request === undefined) return; // late, after its timeout, or a second answer
    this.settle(token);
    // A NATS system bridged by the gateway answers a request nobody listens to with a bare
    // 503 status; the gateway itself sends nothing, so there a request times out instead.
    if (msg.headers !== null && msg.headers.status === 503 && msg.data.length === 0) {
      request.reject(new PsychoError('no_responders', `no responders on ${request.subject}`, { subject: request.subject }));
    } else {
      request.resolve(msg);
    }
  }

  /**
   * Fails the requests published to `subject` (the server refused the publish).
   * @param {string} subject
   * @param {PsychoError} error
   */
  failSubject(subject, error) {
    for (const [token, request] of this.pending) {
      if (request.subject !== subject) continue;
      this.settle(token);
      request.reject(error);
    }
  }

  /** @param {PsychoError} error */
  failAll(error) {
    for (const [token, request] of this.pending) {
      this.settle(token);
      request.reject(error);
    }
    this.subscribed = false; // the inbox subscription ended with the error; a new request retries
  }

  /** @param {string} token */
  settle(token) {
    clearTimeout(this.pending.get(token).timer);
    this.pending.delete(token);
  }
}
