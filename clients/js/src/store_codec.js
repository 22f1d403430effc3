// The Psycho Store's messages on the wire: JSON, values as base64 (they are bytes), every
// field of a peer's message checked before it is used.
import { isVersion } from './hlc.js';
import { StoreError } from './store_error.js';

/** @typedef {import('./store_state.js').Entry} Entry */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** @param {Uint8Array} bytes @returns {string} */
export function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** @param {string} text @returns {Uint8Array} */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; ++i) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** @param {[string, Entry]} pair @returns {Array<unknown>} the wire form of one entry */
export function encodeEntry([key, entry]) {
  const wire = [key, entry.value ? toBase64(entry.value) : null, entry.version];
  if (entry.base) wire.push(entry.base);
  return wire;
}

/** @param {unknown} wire @returns {[string, Entry]} */
export function decodeEntry(wire) {
  if (!Array.isArray(wire) || typeof wire[0] !== 'string' || !isVersion(wire[2]) ||
      (wire[1] !== null && typeof wire[1] !== 'string') || (wire[3] !== undefined && !isVersion(wire[3]))) {
    throw new StoreError('bad_message', 'a malformed entry');
  }
  /** @type {Entry} */
  const entry = { value: wire[1] === null ? null : fromBase64(wire[1]), version: wire[2] };
  if (wire[3]) entry.base = wire[3];
  return [wire[0], entry];
}

/** @param {object} message @returns {Uint8Array} */
export function encodeMessage(message) {
  return encoder.encode(JSON.stringify(message));
}

/**
 * A peer's message: an object with a positive whole `e` (epoch) and a non-empty `from`.
 * @param {Uint8Array} data
 */
export function decodeMessage(data) {
  let message;
  try {
    message = JSON.parse(decoder.decode(data));
  } catch {
    throw new StoreError('bad_message', 'a message that is not JSON');
  }
  if (typeof message !== 'object' || message === null || !Number.isSafeInteger(message.e) ||
      message.e < 1 || typeof message.from !== 'string' || message.from === '') {
    throw new StoreError('bad_message', 'a message without its epoch or sender');
  }
  return message;
}

/**
 * Splits entries into lists whose encoded size stays near `budget` bytes, so that every
 * message fits the gateway's max_payload.
 * @param {Array<Array<unknown>>} wireEntries
 * @param {number} budget
 * @returns {Array<Array<Array<unknown>>>} at least one (possibly empty) list
 */
export function chunkEntries(wireEntries, budget) {
  const chunks = [[]];
  let size = 0;
  for (const wire of wireEntries) {
    const bytes = JSON.stringify(wire).length + 1;
    if (size + bytes > budget && chunks.at(-1).length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1).push(wire);
    size += bytes;
  }
  return chunks;
}
