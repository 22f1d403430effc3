// A browser node's overlay link to one gateway (its `poldercast.websocket` listener). The
// gateway speaks first: one text message {"poldercast":1,"relay":"<its overlay address>"},
// which names the relay this node's address points at. After that every message either way
// is one binary PolderCast wire message (or a relay envelope) and nothing else.
import { PsychoError } from '../errors.js';

const OPEN = 1; // WebSocket.OPEN

export class GatewayLink {
  /**
   * @param {any} WebSocketImpl the WebSocket class
   * @param {string} url
   * @param {{maxBufferedBytes: number, timeout: number,
   *   onMessage: (bytes: Uint8Array) => void, onClose: (error: PsychoError) => void}} options
   */
  constructor(WebSocketImpl, url, options) {
    this.options = options;
    /** The gateway's overlay address, once its hello arrived. */
    this.relay = '';
    /** Messages not sent because the socket's buffer was past maxBufferedBytes. */
    this.dropped = 0;
    this.closed = false;
    this.ws = new WebSocketImpl(url);
    this.ws.binaryType = 'arraybuffer';
    /** @type {Promise<string>} resolves with the relay address */
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new PsychoError('connect_failed',
        `no PolderCast hello from ${url} within ${options.timeout} ms`)), options.timeout);
      this.settle = (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(this.relay);
      };
    });
    this.ready.catch(() => {});
    this.ws.onmessage = (event) => this.received(event.data);
    this.ws.onclose = (event) => this.fail(new PsychoError('disconnected',
      `the overlay link to ${url} closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`));
    this.ws.onerror = () => {}; // the close event follows with what is known
  }

  /** @param {string | ArrayBuffer} data */
  received(data) {
    if (this.closed) return;
    if (this.relay === '') {
      let hello;
      try {
        hello = typeof data === 'string' ? JSON.parse(data) : null;
      } catch {
        hello = null;
      }
      if (hello?.poldercast !== 1 || typeof hello.relay !== 'string' || hello.relay === '') {
        return this.fail(new PsychoError('protocol_error', 'the gateway did not greet as a PolderCast relay'));
      }
      this.relay = hello.relay;
      return this.settle(null);
    }
    if (typeof data === 'string') {
      return this.fail(new PsychoError('protocol_error', 'a text message on an overlay link'));
    }
    this.options.onMessage(new Uint8Array(data));
  }

  /**
   * Sends one message; false (counted in `dropped`) when the link is down or its socket
   * holds more than maxBufferedBytes unsent.
   * @param {Uint8Array} bytes
   */
  send(bytes) {
    if (this.closed || this.ws.readyState !== OPEN ||
        this.ws.bufferedAmount + bytes.length > this.options.maxBufferedBytes) {
      this.dropped += 1;
      return false;
    }
    this.ws.send(bytes);
    return true;
  }

  /** Bytes the socket has not sent yet. */
  get backlog() {
    return this.ws.bufferedAmount ?? 0;
  }

  /** @param {PsychoError} error */
  fail(error) {
    if (this.closed) return;
    this.closed = true;
    this.settle(error);
    try {
      this.ws.close(1000);
    } catch {
      // already closing
    }
    this.options.onClose(error);
  }

  close() {
    this.fail(new PsychoError('connection_closed', 'closed'));
  }
}
