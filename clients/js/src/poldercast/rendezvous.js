// Joining without a server: pages of one origin in one browser (one profile) find one another
// over a BroadcastChannel named for the overlay, and the WebRTC offer, answer and ICE
// candidates of a newcomer's first data channel travel over it. Only for a page that cannot
// reach any gateway: across machines, or between browsers, a page still needs a gateway (or
// some other signalling) to join, since WebRTC cannot be dialled without signalling.
//
// The conversation (every message a JSON string, at most MAX_MESSAGE characters):
//   newcomer  {v:1, t:'seek', n}               n: 16 hex digits, this attempt's nonce
//   member    {v:1, t:'here', n, relay}        a page that can relay for one more: its address
//   newcomer  {v:1, t:'join', to, from}        to the first that answered; from = web:<id>@<to>
//   both      {v:1, t:'signal', to, from, data} the PeerLinks signals between the two
// Everything heard is input from another tab: it is checked (parseRendezvous) before use, and
// what does not fit is dropped and counted; a page answers at most ANSWERS_PER_SECOND seeks.
import { relayOf, undialable } from './addresses.js';

/** The longest message taken: a signal's SDP (at most 16 KiB, as on the overlay) and its frame. */
export const MAX_MESSAGE = 20 * 1024;
const MAX_ADDRESS = 255; // bytes, as the wire's limit (wire.hpp)
const ANSWERS_PER_SECOND = 16;
const TYPES = new Set(['seek', 'here', 'join', 'signal']);
const HEX16 = /^[0-9a-f]{16}$/;
const encoder = new TextEncoder();

/** The BroadcastChannel name of the overlay named `name`. */
export const channelName = (name) => `psycho.poldercast.rendezvous.${name}`;

const isAddress = (a) => typeof a === 'string' && undialable(a) &&
  encoder.encode(a).length <= MAX_ADDRESS;

/**
 * Checks one message heard on a rendezvous channel.
 * @param {unknown} raw what the channel delivered
 * @returns {{t: string, n?: string, relay?: string, to?: string, from?: string, data?: object} | null}
 *   the message, or null when it is not one a page sends (too long, not JSON, a field missing
 *   or of the wrong shape)
 */
export function parseRendezvous(raw) {
  if (typeof raw !== 'string' || raw.length > MAX_MESSAGE) return null;
  let m;
  try {
    m = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m) || m.v !== 1 || !TYPES.has(m.t)) return null;
  switch (m.t) {
    case 'seek':
      return HEX16.test(m.n) ? { t: m.t, n: m.n } : null;
    case 'here':
      return HEX16.test(m.n) && isAddress(m.relay) ? { t: m.t, n: m.n, relay: m.relay } : null;
    case 'join':
      return isAddress(m.to) && isAddress(m.from) && new RegExp('^web:[0-9a-f]{16}@').test(m.from) &&
        relayOf(m.from) === m.to ? { t: m.t, to: m.to, from: m.from } : null;
    default: // signal
      return isAddress(m.to) && isAddress(m.from) && typeof m.data === 'object' && m.data !== null &&
        !Array.isArray(m.data) && typeof m.data.t === 'string'
        ? { t: m.t, to: m.to, from: m.from, data: m.data } : null;
  }
}

/** One page's end of the rendezvous channel: it seeks, answers seeks, and carries signals. */
export class Rendezvous {
  /**
   * @param {{name: string, BroadcastChannel: any,
   *   canRelay: () => string, onJoin: (from: string) => boolean,
   *   onSignal: (from: string, data: object) => void, self: () => string}} options
   *   `canRelay` gives this page's address when it can take one more page, else "";
   *   `onJoin` adopts a newcomer (false: no room); `self` is this page's current address
   */
  constructor(options) {
    this.options = options;
    this.stats = { received: 0, malformed: 0, answered: 0, refused: 0 };
    /** @type {Map<string, (relay: string) => void>} seeks waiting for an answer, by nonce */
    this.seeking = new Map();
    this.answers = { second: 0, count: 0 };
    this.channel = new options.BroadcastChannel(channelName(options.name));
    this.channel.onmessage = (event) => this.heard(event.data);
  }

  /**
   * Asks the pages of this origin for one to join through; resolves with the address of the
   * first that answers, or "" after `ms`.
   * @param {number} ms
   * @returns {Promise<string>}
   */
  seek(ms) {
    const n = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, '0')).join('');
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(''), ms);
      const done = (relay) => {
        clearTimeout(timer);
        this.seeking.delete(n);
        resolve(relay);
      };
      this.seeking.set(n, done);
      this.post({ t: 'seek', n });
    });
  }

  /** @param {string} to @param {string} from */
  join(to, from) {
    this.post({ t: 'join', to, from });
  }

  /** @param {string} to @param {string} from @param {object} data */
  signal(to, from, data) {
    this.post({ t: 'signal', to, from, data });
  }

  close() {
    for (const done of [...this.seeking.values()]) done('');
    this.channel.close();
  }

  // ---- internals -------------------------------------------------------------------------

  post(message) {
    const text = JSON.stringify({ v: 1, ...message });
    if (text.length <= MAX_MESSAGE) this.channel.postMessage(text);
  }

  heard(raw) {
    this.stats.received += 1;
    const m = parseRendezvous(raw);
    if (m === null) {
      this.stats.malformed += 1;
      return;
    }
    if (m.t === 'here') return this.seeking.get(m.n)?.(m.relay);
    if (m.t === 'seek') return this.answer(m.n);
    // join and signal: for one page; everybody hears them.
    if (m.to !== this.options.self()) return;
    if (m.t === 'join') {
      if (!this.options.onJoin(m.from)) this.stats.refused += 1;
      return;
    }
    this.options.onSignal(m.from, m.data);
  }

  answer(n) {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.answers.second) this.answers = { second, count: 0 };
    const relay = this.options.canRelay();
    if (relay === '' || this.answers.count >= ANSWERS_PER_SECOND) {
      this.stats.refused += 1;
      return;
    }
    this.answers.count += 1;
    this.stats.answered += 1;
    this.post({ t: 'here', n, relay });
  }
}
