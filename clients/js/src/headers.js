// Message headers in the NATS header block format PROTOCOL.md uses:
// `NATS/1.0[ status[ description]]\r\n`, then `Name: value\r\n` lines, then `\r\n`.
import { PsychoError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const BAD_NAME = /[\s:]/;
const BAD_VALUE = /[\r\n]/;

/**
 * The headers of a received message: names as sent, each with one or more values, plus the
 * status line a message bridged from NATS may carry (`503` for "no responders").
 */
export class MsgHeaders {
  constructor() {
    /** @type {Map<string, string[]>} */
    this.values = new Map();
    /** The status code after `NATS/1.0`, or 0. */
    this.status = 0;
    /** The words after the status code, or "". */
    this.description = '';
  }

  /**
   * The first value of `name` (names compare case-insensitively), or undefined.
   * @param {string} name
   * @returns {string | undefined}
   */
  get(name) {
    return this.getAll(name)[0];
  }

  /**
   * Every value of `name`, in order.
   * @param {string} name
   * @returns {string[]}
   */
  getAll(name) {
    const wanted = name.toLowerCase();
    const out = [];
    for (const [key, list] of this.values) if (key.toLowerCase() === wanted) out.push(...list);
    return out;
  }

  /** @returns {IterableIterator<[string, string[]]>} */
  [Symbol.iterator]() {
    return this.values.entries();
  }
}

/**
 * Encodes headers given as a plain object, a Map, MsgHeaders or an iterable of pairs; a value
 * may be a string or an array of strings.
 * @param {unknown} headers
 * @returns {Uint8Array}
 * @throws {PsychoError} kind `bad_payload` for a name or value that cannot be sent
 */
export function encodeHeaders(headers) {
  let text = 'NATS/1.0\r\n';
  for (const [name, value] of headerEntries(headers)) {
    if (typeof name !== 'string' || name === '' || BAD_NAME.test(name)) {
      throw new PsychoError('bad_payload', `header name ${JSON.stringify(name)} is not a token`);
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      const s = String(v);
      if (BAD_VALUE.test(s)) {
        throw new PsychoError('bad_payload', `header ${name} has a line break in its value`);
      }
      text += `${name}: ${s}\r\n`;
    }
  }
  return encoder.encode(`${text}\r\n`);
}

/** @param {unknown} headers */
function headerEntries(headers) {
  if (headers instanceof MsgHeaders) return headers.values.entries();
  if (headers instanceof Map) return headers.entries();
  if (headers !== null && typeof headers === 'object') {
    if (Symbol.iterator in headers) return /** @type {Iterable<[string, unknown]>} */ (headers);
    return Object.entries(headers);
  }
  throw new PsychoError('bad_payload', 'headers must be an object, a Map or an iterable of pairs');
}

/**
 * Decodes a received header block; lenient about what it cannot read (a line without a colon
 * is skipped), since the message itself has already been delivered by the gateway.
 * @param {Uint8Array} bytes
 * @returns {MsgHeaders}
 */
export function decodeHeaders(bytes) {
  const out = new MsgHeaders();
  const lines = decoder.decode(bytes).split('\r\n');
  const status = /^NATS\/1\.0(?:[ \t]+([0-9]{3})(?:[ \t]+(.*))?)?$/.exec(lines[0].trim());
  if (status && status[1]) {
    out.status = Number(status[1]);
    out.description = status[2] ?? '';
  }
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const list = out.values.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    out.values.set(name, list);
  }
  return out;
}
