// The errors of the Psycho Store: one class whose `kind` names what went wrong, as
// PsychoError does for the client, so callers branch on a stable string.

/**
 * A store failure. `kind` is one of: `bad_option`, `bad_key`, `key_too_long`,
 * `value_too_large`, `store_full`, `cas_conflict` (with `current`, the key's version now),
 * `closed`, `snapshot_rate_limited`, `bad_message` (a peer sent something malformed).
 */
export class StoreError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   * @param {{current?: import('./hlc.js').Version | null, key?: string}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message);
    this.name = 'StoreError';
    this.kind = kind;
    if ('key' in details) this.key = details.key;
    if ('current' in details) this.current = details.current;
  }
}
