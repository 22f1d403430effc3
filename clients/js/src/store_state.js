// The contents of one store replica, with no I/O: a last-writer-wins register per key
// (tombstones for deletes), the size bounds, and the digests anti-entropy compares. The
// replica (store.js) moves these entries over subjects.
import { compareVersions } from './hlc.js';
import { StoreError } from './store_error.js';

/** @typedef {import('./hlc.js').Version} Version */
/**
 * @typedef {object} Entry
 * @property {Uint8Array | null} value the bytes, or null for a tombstone (a delete)
 * @property {Version} version
 */

/** Anti-entropy splits the key space in this many ranges (of a hash of the key). */
export const BUCKETS = 16;

const encoder = new TextEncoder();

/** FNV-1a over a string's UTF-8 bytes: small, fast, and the same in every browser. */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** @param {string} key @returns {number} the key's range, 0 .. BUCKETS-1 */
export function bucketOf(key) {
  return fnv1a(key) % BUCKETS;
}

function entrySize(key, entry) {
  return encoder.encode(key).length + (entry.value ? entry.value.length : 0);
}

/** One replica's entries and byte count, within its limits. */
export class StoreState {
  /**
   * @param {{maxKeys: number, maxValueBytes: number, maxStoreBytes: number, maxKeyBytes: number}} limits
   */
  constructor(limits) {
    this.limits = limits;
    /** @type {Map<string, Entry>} */
    this.entries = new Map();
    this.bytes = 0;
  }

  /** @param {string} key @returns {Entry | undefined} */
  get(key) {
    return this.entries.get(key);
  }

  /**
   * Throws the StoreError a local write of `value` (null: a delete) to `key` would meet.
   * @param {string} key
   * @param {Uint8Array | null} value
   */
  checkWrite(key, value) {
    if (typeof key !== 'string' || key.length === 0) {
      throw new StoreError('bad_key', 'a key is a non-empty string', { key });
    }
    const keyBytes = encoder.encode(key).length;
    if (keyBytes > this.limits.maxKeyBytes) {
      throw new StoreError('key_too_long', `key of ${keyBytes} bytes; the limit is ${this.limits.maxKeyBytes}`, { key });
    }
    if (value && value.length > this.limits.maxValueBytes) {
      throw new StoreError('value_too_large',
        `value of ${value.length} bytes; the limit is ${this.limits.maxValueBytes}`, { key });
    }
    const reason = this.overLimit(key, { value, version: { t: 0, c: 0, r: '-' } });
    if (reason) throw new StoreError('store_full', reason, { key });
  }

  /** Why storing `entry` under `key` would break a bound, or null. */
  overLimit(key, entry) {
    const old = this.entries.get(key);
    if (!old && this.entries.size >= this.limits.maxKeys) {
      return `the store holds its limit of ${this.limits.maxKeys} keys (deleted keys count until their tombstones expire)`;
    }
    const bytes = this.bytes - (old ? entrySize(key, old) : 0) + entrySize(key, entry);
    if (bytes > this.limits.maxStoreBytes) {
      return `the store would hold ${bytes} bytes; the limit is ${this.limits.maxStoreBytes}`;
    }
    return null;
  }

  /**
   * Keeps `entry` if it is newer than what the key holds. Merging is idempotent and
   * commutative: any order of the same entries leaves the same contents.
   * @param {string} key
   * @param {Entry} entry
   * @returns {'applied' | 'stale' | 'full'}
   */
  merge(key, entry) {
    const old = this.entries.get(key);
    if (old && compareVersions(entry.version, old.version) <= 0) return 'stale';
    if (entry.value && entry.value.length > this.limits.maxValueBytes) return 'full';
    if (this.overLimit(key, entry)) return 'full';
    if (old) this.bytes -= entrySize(key, old);
    this.entries.set(key, entry);
    this.bytes += entrySize(key, entry);
    return 'applied';
  }

  /**
   * Forgets tombstones whose delete is older than `horizon` (wall-clock milliseconds).
   * @param {number} horizon
   * @returns {number} how many were forgotten
   */
  purgeTombstones(horizon) {
    let purged = 0;
    for (const [key, entry] of this.entries) {
      if (entry.value === null && entry.version.t < horizon) {
        this.entries.delete(key);
        this.bytes -= entrySize(key, entry);
        purged += 1;
      }
    }
    return purged;
  }

  /** Drops everything (a resync). */
  clear() {
    this.entries.clear();
    this.bytes = 0;
  }

  /**
   * One digest per key range: how many entries it holds and a sum of hashes of each key
   * with its version, so that two replicas with the same contents have equal digests
   * whatever order their writes came in.
   * @returns {Array<[number, number]>}
   */
  digest() {
    const out = Array.from({ length: BUCKETS }, () => [0, 0]);
    for (const [key, { version }] of this.entries) {
      const d = out[bucketOf(key)];
      d[0] += 1;
      d[1] = (d[1] + fnv1a(`${key}\u0000${version.t}.${version.c}.${version.r}`)) >>> 0;
    }
    return out;
  }

  /**
   * The entries in the given key ranges.
   * @param {Iterable<number>} buckets
   * @returns {Array<[string, Entry]>}
   */
  entriesIn(buckets) {
    const wanted = new Set(buckets);
    return [...this.entries].filter(([key]) => wanted.has(bucketOf(key)));
  }
}
