// A received message. The payload is a view into the frame it arrived in: cheap to receive,
// and safe to keep (frames are never reused).
import { decodeHeaders } from './headers.js';

const decoder = new TextDecoder();

export class Msg {
  /**
   * @param {string} subject
   * @param {string} reply
   * @param {Uint8Array} data
   * @param {Uint8Array | null} headerBytes
   * @param {((subject: string, data?: Uint8Array | string, options?: object) => void) | null} publish
   */
  constructor(subject, reply, data, headerBytes, publish) {
    /** The subject it was published on (not the pattern that matched). */
    this.subject = subject;
    /** The reply subject, or "". */
    this.reply = reply;
    /** The payload bytes. */
    this.data = data;
    this.headerBytes = headerBytes;
    this.publish = publish;
    /** @type {import('./headers.js').MsgHeaders | null | undefined} */
    this.decodedHeaders = undefined;
  }

  /** The headers, or null when it had none. Decoded on first use. */
  get headers() {
    if (this.decodedHeaders === undefined) {
      this.decodedHeaders = this.headerBytes === null ? null : decodeHeaders(this.headerBytes);
    }
    return this.decodedHeaders;
  }

  /** The payload as UTF-8 text. */
  string() {
    return decoder.decode(this.data);
  }

  /** The payload parsed as JSON. */
  json() {
    return JSON.parse(this.string());
  }

  /**
   * Publishes `data` to this message's reply subject.
   * @param {Uint8Array | string} [data]
   * @param {{headers?: object}} [options]
   * @returns {boolean} false when the message has no reply subject
   */
  respond(data, options) {
    if (this.reply === '' || this.publish === null) return false;
    this.publish(this.reply, data, options);
    return true;
  }
}
