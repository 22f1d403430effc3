// Clock offsets between peers, estimated over request/reply: each peer answers on
// `PREFIX.<its id>` with its own clock; a peer that wants to place another's events on its
// own timeline asks a few times and keeps the sample with the shortest round trip, whose
// midpoint is the best estimate of when the answer was read (Cristian's method).

/** The clock a page's events are stamped with: milliseconds, monotonic, shared by pages of one machine. */
export function monotonicNow() {
  return performance.timeOrigin + performance.now();
}

/** Offsets to peers' clocks. Make one with `startClockSync`. */
export class ClockSync {
  /**
   * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
   * @param {string} prefix answers are on `prefix.<id>`
   * @param {{id: string, now?: () => number, samples?: number, timeout?: number}} options
   */
  constructor(conn, prefix, { id, now = monotonicNow, samples = 5, timeout = 1000 }) {
    this.conn = conn;
    this.prefix = prefix;
    this.id = id;
    this.now = now;
    this.samples = samples;
    this.timeout = timeout;
    /** @type {Map<string, {offset: number, rtt: number}>} */
    this.offsets = new Map();
  }

  /** Starts answering others' questions about this clock. */
  async start() {
    this.sub = this.conn.subscribe(`${this.prefix}.${this.id}`, {
      callback: (err, msg) => {
        if (!err && msg.reply) msg.respond(JSON.stringify({ t: this.now() }));
      },
    });
    await this.conn.flush();
  }

  /**
   * Estimates `peer`'s offset (its clock minus ours).
   * @param {string} peer
   * @returns {Promise<{offset: number, rtt: number}>} rejects with the client's last error when no round trip succeeds
   */
  async measure(peer) {
    let best = null;
    let failure = null;
    for (let i = 0; i < this.samples; ++i) {
      const sent = this.now();
      let reply;
      try {
        reply = await this.conn.request(`${this.prefix}.${peer}`, '', { timeout: this.timeout });
      } catch (e) {
        // One lost round trip spoils no other: the rest may still answer.
        failure = e;
        continue;
      }
      const received = this.now();
      const theirs = Number(reply.json().t);
      if (!Number.isFinite(theirs)) continue;
      const rtt = received - sent;
      if (!best || rtt < best.rtt) best = { offset: theirs - (sent + received) / 2, rtt };
    }
    if (!best) throw failure ?? new Error(`no usable clock answer from ${peer}`);
    this.offsets.set(peer, best);
    return best;
  }

  /**
   * A time on `peer`'s clock, on ours (unchanged while its offset is unknown).
   * @param {string} peer
   * @param {number} theirTime
   */
  toLocal(peer, theirTime) {
    return theirTime - (this.offsets.get(peer)?.offset ?? 0);
  }

  /** @param {string} peer forgets its offset (it left) */
  forget(peer) {
    this.offsets.delete(peer);
  }

  close() {
    this.sub?.unsubscribe();
  }
}

/**
 * Starts answering on `prefix.<id>` and returns the ClockSync.
 * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
 * @param {string} prefix
 * @param {ConstructorParameters<typeof ClockSync>[2]} options
 * @returns {Promise<ClockSync>}
 */
export async function startClockSync(conn, prefix, options) {
  const sync = new ClockSync(conn, prefix, options);
  await sync.start();
  return sync;
}
