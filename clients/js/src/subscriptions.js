// The connection's subscriptions. The protocol has no subscription ids: a subject plus queue
// group IS the server-side subscription, and a message matching several of them arrives once.
// So the client keeps one entry per key (told to the server once, however many local
// subscriptions share it) and hands each arriving message to every entry whose pattern
// matches: to all plain subscriptions of the key, and to one member (in turn) of a queue key.
import { compilePattern } from './subject.js';

/** @typedef {import('./subscription.js').Subscription} Subscription */

export class SubscriptionTable {
  constructor() {
    /** @type {Map<string, {subject: string, queue: string, matches: (s: string) => boolean,
     *   subs: Subscription[], turn: number}>} */
    this.entries = new Map();
  }

  /**
   * @param {Subscription} sub
   * @returns {boolean} whether its key is new (the server must be told)
   */
  add(sub) {
    const key = keyOf(sub.subject, sub.queue);
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.subs.push(sub);
      return false;
    }
    const matches = compilePattern(sub.subject);
    this.entries.set(key, { subject: sub.subject, queue: sub.queue, matches, subs: [sub], turn: 0 });
    return true;
  }

  /**
   * @param {Subscription} sub
   * @returns {boolean} whether its key is gone (the server must be told)
   */
  remove(sub) {
    const key = keyOf(sub.subject, sub.queue);
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    entry.subs = entry.subs.filter((s) => s !== sub);
    if (entry.subs.length > 0) return false;
    this.entries.delete(key);
    return true;
  }

  /**
   * The local subscriptions a message on `subject` goes to.
   * @param {string} subject
   * @returns {Subscription[]}
   */
  recipients(subject) {
    const out = [];
    for (const entry of this.entries.values()) {
      if (!entry.matches(subject)) continue;
      if (entry.queue === '') {
        out.push(...entry.subs);
      } else {
        entry.turn = (entry.turn + 1) % entry.subs.length;
        out.push(entry.subs[entry.turn]);
      }
    }
    return out;
  }

  /** @returns {Array<{subject: string, queue: string}>} every key, for resubscribing */
  keys() {
    return [...this.entries.values()].map(({ subject, queue }) => ({ subject, queue }));
  }

  /**
   * The subscriptions on `subject` exactly (any queue group).
   * @param {string} subject
   * @returns {Subscription[]}
   */
  onSubject(subject) {
    return [...this.entries.values()].filter((e) => e.subject === subject).flatMap((e) => e.subs);
  }

  /** @returns {Subscription[]} */
  all() {
    return [...this.entries.values()].flatMap((e) => e.subs);
  }
}

/**
 * @param {string} subject
 * @param {string} queue
 */
function keyOf(subject, queue) {
  return `${subject} ${queue}`;
}
