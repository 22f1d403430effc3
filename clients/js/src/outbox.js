// The outgoing byte queue. Everything written in one event-loop turn goes out as ONE
// WebSocket message when the turn ends (a microtask): a browser sends a few thousand
// WebSocket messages per second but many protocol ops per message, so batching is the
// difference between ~3,600 and ~88,000 publishes per second in Chromium.
//
// Bounded: the bytes waiting here plus what the socket has not sent yet (bufferedAmount) may
// not exceed `maxBytes`; `fits` tells the caller whether a publish may be added (the caller
// counts what it drops). While disconnected the queue keeps what was published, up to the same
// bound, and sends it behind the handshake of the next connection.

const encoder = new TextEncoder();
const INITIAL = 16 * 1024;
const KEEP = 1024 * 1024; // a buffer grown past this is given back after a flush

export class Outbox {
  /** @param {number} maxBytes */
  constructor(maxBytes) {
    this.maxBytes = maxBytes;
    this.buf = new Uint8Array(INITIAL);
    this.length = 0;
    /** @type {((bytes: Uint8Array) => void) | null} sends one WebSocket message */
    this.sink = null;
    /** @type {() => number} bytes the socket has accepted but not sent */
    this.backlog = () => 0;
    this.scheduled = false;
    this.flushes = 0;
  }

  /** Whether `n` more bytes stay within the bound. @param {number} n */
  fits(n) {
    return this.length + this.backlog() + n <= this.maxBytes;
  }

  /** @param {string} text */
  writeString(text) {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    this.reserve(text.length * 3);
    this.length += encoder.encodeInto(text, this.buf.subarray(this.length)).written;
    this.schedule();
  }

  /** @param {Uint8Array} bytes */
  writeBytes(bytes) {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    this.schedule();
  }

  /**
   * Starts sending through `sink`: `prefix` (the handshake) first, then what waited.
   * @param {(bytes: Uint8Array) => void} sink
   * @param {() => number} backlog
   * @param {Uint8Array} prefix
   */
  attach(sink, backlog, prefix) {
    const waiting = this.buf.slice(0, this.length);
    this.length = 0;
    this.writeBytes(prefix);
    this.writeBytes(waiting);
    this.sink = sink;
    this.backlog = backlog;
    this.schedule();
  }

  /** Stops sending; what is written from now on waits for the next `attach`. */
  detach() {
    this.sink = null;
    this.backlog = () => 0;
  }

  /** Drops everything waiting. @returns {number} the bytes dropped */
  clear() {
    const dropped = this.length;
    this.length = 0;
    return dropped;
  }

  schedule() {
    if (this.scheduled || this.sink === null || this.length === 0) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Sends what waits as one message now (normally called at the end of the turn). */
  flush() {
    this.scheduled = false;
    if (this.sink === null || this.length === 0) return;
    // A copy, so the buffer can be reused: a WebSocket may keep (or mask in place) what it
    // was given until it is on the wire.
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    if (this.buf.length > KEEP) this.buf = new Uint8Array(INITIAL);
    this.flushes += 1;
    this.sink(out);
  }

  /** @param {number} n */
  reserve(n) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }
}
