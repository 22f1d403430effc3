// Presence over one subject: who is here, with a name and a colour, built only from
// publications. Each member announces itself every `interval`; a newcomer's first
// announcement asks the others to announce at once, so it sees the room without waiting; a
// member that closes says it is leaving; one that falls silent for `expiryFactor` of its own
// announced intervals is dropped. Events: `join`, `update`, `leave` (detail: the member and,
// for leave, `reason` 'left' or 'expired'), and `change` after each of them.
import { randomId } from './random_id.js';

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * @typedef {object} Member
 * @property {string} id
 * @property {string} name
 * @property {string} colour `#rrggbb`
 * @property {boolean} self this Presence's own member
 * @property {number} lastSeen `Date.now()` of its last announcement (self: now)
 */

/** Presence on a subject. Make one with `joinPresence`. */
export class Presence extends EventTarget {
  /**
   * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
   * @param {string} subject where every member announces (a plain subject, no wildcards)
   * @param {{id?: string, name?: string, colour?: string, interval?: number, expiryFactor?: number, maxMembers?: number}} [options]
   */
  constructor(conn, subject, options = {}) {
    super();
    const { id = randomId(), name = 'anonymous', colour = '#4477aa', interval = 2000,
      expiryFactor = 3, maxMembers = 1000 } = options;
    if (!ID.test(id)) throw new TypeError('presence id: 1 to 64 of A-Z a-z 0-9 _ -');
    if (!(interval >= 50 && interval <= 60_000)) throw new TypeError('presence interval: 50 to 60000 ms');
    if (!(expiryFactor >= 1.5)) throw new TypeError('presence expiryFactor: at least 1.5');
    this.conn = conn;
    this.subject = subject;
    this.id = id;
    this.interval = interval;
    this.expiryFactor = expiryFactor;
    this.maxMembers = maxMembers;
    this.me = { id, ...checkedProfile(name, colour) };
    /** @type {Map<string, Member & {expiresAt: number}>} */
    this.others = new Map();
    this.closed = false;
    this.stats = { announcements: 0, received: 0, ignored: 0, expired: 0 };
  }

  /** Subscribes and announces (asking the others to announce). */
  async start() {
    this.sub = this.conn.subscribe(this.subject, { callback: (err, msg) => this.onMessage(err, msg) });
    await this.conn.flush();
    this.announce(true);
    this.timer = setInterval(() => this.announce(false), this.interval);
  }

  /** @returns {Member[]} everyone here, this member included, sorted by name */
  members() {
    const now = Date.now();
    const all = [{ ...this.me, self: true, lastSeen: now },
      ...[...this.others.values()].map(({ expiresAt, ...m }) => m)];
    return all.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /**
   * Changes this member's name and/or colour and tells the others.
   * @param {{name?: string, colour?: string}} profile
   */
  update({ name = this.me.name, colour = this.me.colour }) {
    this.me = { id: this.id, ...checkedProfile(name, colour) };
    this.announce(false);
    this.emit('update', { ...this.me, self: true, lastSeen: Date.now() });
  }

  /** Says goodbye and stops; the connection stays the caller's. */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.expiryTimer);
    if (this.conn.status === 'connected') this.send({ state: 'leave' });
    this.sub?.unsubscribe();
  }

  announce(query) {
    if (this.closed) return;
    this.stats.announcements += 1;
    this.send({ state: 'here', query, interval: this.interval });
  }

  send(body) {
    const { name, colour } = this.me;
    this.conn.publish(this.subject, encoder.encode(JSON.stringify({ id: this.id, name, colour, ...body })));
  }

  onMessage(err, msg) {
    if (err || this.closed) return;
    let m;
    try {
      m = JSON.parse(decoder.decode(msg.data));
    } catch {
      m = null;
    }
    if (!m || !ID.test(m.id) || m.id === this.id || typeof m.name !== 'string' || !COLOUR.test(m.colour)) {
      this.stats.ignored += 1;
      return;
    }
    this.stats.received += 1;
    if (m.state === 'leave') {
      this.remove(m.id, 'left');
      return;
    }
    const interval = Math.min(60_000, Math.max(50, Number(m.interval) || this.interval));
    const known = this.others.get(m.id);
    if (!known && this.others.size >= this.maxMembers) {
      this.stats.ignored += 1;
      return;
    }
    const member = { id: m.id, name: m.name.slice(0, 64), colour: m.colour, self: false,
      lastSeen: Date.now(), expiresAt: Date.now() + interval * this.expiryFactor };
    this.others.set(m.id, member);
    if (!known) this.emit('join', member);
    else if (known.name !== member.name || known.colour !== member.colour) this.emit('update', member);
    if (m.query) this.announce(false);
    this.scheduleExpiry();
  }

  remove(id, reason) {
    const member = this.others.get(id);
    if (!member) return;
    this.others.delete(id);
    if (reason === 'expired') this.stats.expired += 1;
    this.emit('leave', { ...member, reason });
    this.scheduleExpiry();
  }

  // One timer, for the earliest expiry: silence is noticed when it happens, not on a poll.
  scheduleExpiry() {
    clearTimeout(this.expiryTimer);
    if (this.closed || this.others.size === 0) return;
    const next = Math.min(...[...this.others.values()].map((m) => m.expiresAt));
    this.expiryTimer = setTimeout(() => {
      const now = Date.now();
      for (const m of [...this.others.values()]) if (m.expiresAt <= now) this.remove(m.id, 'expired');
      this.scheduleExpiry();
    }, Math.max(0, next - Date.now()) + 1);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
    this.dispatchEvent(new CustomEvent('change', { detail: { type, member: detail } }));
  }
}

function checkedProfile(name, colour) {
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError('presence name: a non-empty string');
  if (!COLOUR.test(colour)) throw new TypeError('presence colour: #rrggbb');
  return { name: name.trim().slice(0, 64), colour };
}

/**
 * Joins presence on `subject`: subscribes, announces, and keeps announcing until `close()`.
 * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
 * @param {string} subject
 * @param {ConstructorParameters<typeof Presence>[2]} [options]
 * @returns {Promise<Presence>}
 */
export async function joinPresence(conn, subject, options) {
  const presence = new Presence(conn, subject, options);
  await presence.start();
  return presence;
}
