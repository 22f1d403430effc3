// One request whose answers come from any number of replicas, each answer possibly in
// several parts: a snapshot on join, a range of keys during anti-entropy. Entries are handed
// on as they arrive (merging is idempotent, so several answers are harmless); the request
// ends when its time is up. A "no responders" status (503) does not end it: behind a bridge
// it may speak for one fabric while a replica on another is still answering.
import { createInbox } from './requests.js';
import { decodeEntry, decodeMessage, encodeMessage } from './store_codec.js';

/**
 * @typedef {object} CollectResult
 * @property {number} complete replicas whose whole answer arrived
 * @property {number} refused answers that declined (rate limited), with the longest `retryAfter`
 * @property {number} retryAfter milliseconds the refusers asked to wait
 */

/**
 * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
 * @param {string} subject
 * @param {object} body
 * @param {{timeout: number, epoch: () => number,
 *          onEntries: (entries: Array<[string, import('./store_state.js').Entry]>, message: any) => void,
 *          onComplete?: (from: string) => void, onBadMessage: (e: unknown) => void}} handlers
 * @returns {Promise<CollectResult>}
 */
export function collect(conn, subject, body, handlers) {
  return new Promise((resolve) => {
    const result = { complete: 0, refused: 0, retryAfter: 0 };
    /** @type {Map<string, Set<number>>} parts seen per responder */
    const parts = new Map();
    const inbox = createInbox();
    let timer;
    const finish = () => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(result);
    };
    const sub = conn.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return finish();
        if (msg.headers?.status) return;
        try {
          const message = decodeMessage(msg.data);
          if (message.e !== handlers.epoch()) return; // an answer from another history
          if (message.error) {
            result.refused += 1;
            result.retryAfter = Math.max(result.retryAfter, Number(message.retryAfter) || 0);
            return;
          }
          if (!Array.isArray(message.entries) || !Number.isSafeInteger(message.part) ||
              !Number.isSafeInteger(message.parts) || message.parts < 1 || message.part >= message.parts) {
            throw new TypeError('a malformed answer');
          }
          handlers.onEntries(message.entries.map(decodeEntry), message);
          const seen = parts.get(message.from) ?? new Set();
          parts.set(message.from, seen);
          seen.add(message.part);
          if (seen.size === message.parts) {
            result.complete += 1;
            handlers.onComplete?.(message.from);
          }
        } catch (e) {
          handlers.onBadMessage(e);
        }
      },
    });
    timer = setTimeout(finish, handlers.timeout);
    conn.publish(subject, encodeMessage(body), { reply: inbox });
  });
}
