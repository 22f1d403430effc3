// The Psycho Store's options, their defaults and their checks.
import { randomId } from './random_id.js';
import { StoreError } from './store_error.js';

/** @type {Readonly<Record<string, number>>} */
export const STORE_DEFAULTS = Object.freeze({
  maxKeys: 10_000,
  maxKeyBytes: 1024,
  maxValueBytes: 64 * 1024,
  maxStoreBytes: 16 * 1024 * 1024,
  tombstoneTtl: 10 * 60_000,
  antiEntropyInterval: 5_000,
  snapshotTimeout: 2_000,
  snapshotRate: 5,
  maxClockSkew: 60_000,
  messageBytes: 256 * 1024,
});

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks a store's name and options; throws StoreError `bad_option`.
 * @param {string} name
 * @param {Record<string, unknown>} options
 * @returns {typeof STORE_DEFAULTS & {replica: string}}
 */
export function storeOptions(name, options) {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new StoreError('bad_option', `a store name is 1 to 64 of A-Z a-z 0-9 _ -, not ${JSON.stringify(name)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'replica' && !(key in STORE_DEFAULTS)) throw new StoreError('bad_option', `unknown option '${key}'`);
  }
  const resolved = { ...STORE_DEFAULTS, ...options };
  for (const key of Object.keys(STORE_DEFAULTS)) {
    if (!Number.isFinite(resolved[key]) || resolved[key] <= 0) {
      throw new StoreError('bad_option', `'${key}' must be a positive number, not ${resolved[key]}`);
    }
  }
  if (resolved.replica === undefined) resolved.replica = randomId();
  if (typeof resolved.replica !== 'string' || !NAME.test(resolved.replica)) {
    throw new StoreError('bad_option', "'replica' is 1 to 64 of A-Z a-z 0-9 _ -");
  }
  return resolved;
}
