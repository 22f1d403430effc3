// A hybrid logical clock: wall-clock milliseconds plus a counter, so that versions follow
// real time when clocks agree and still order every write after what its writer had seen
// when they do not. A version is (time, counter, replica); the replica id breaks ties, so two
// replicas never make equal versions.

/**
 * @typedef {{t: number, c: number, r: string}} Version
 * `t` wall-clock milliseconds, `c` a counter within that millisecond, `r` the replica id.
 */

/**
 * Orders two versions: negative when `a` is older, positive when newer, 0 when equal.
 * `null` (no version: a key never written) is older than every version.
 * @param {Version | null | undefined} a
 * @param {Version | null | undefined} b
 * @returns {number}
 */
export function compareVersions(a, b) {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  if (a.c !== b.c) return a.c < b.c ? -1 : 1;
  if (a.r === b.r) return 0;
  return a.r < b.r ? -1 : 1;
}

/**
 * Whether `v` is a well-formed version (remote input is checked before it is trusted).
 * @param {unknown} v
 * @returns {v is Version}
 */
export function isVersion(v) {
  return typeof v === 'object' && v !== null && Number.isSafeInteger(v.t) && v.t >= 0 &&
    Number.isSafeInteger(v.c) && v.c >= 0 && typeof v.r === 'string' && v.r.length > 0 &&
    v.r.length <= 64;
}

/** The clock of one replica. */
export class HybridClock {
  /**
   * @param {string} replica this replica's id, the tie-breaker of its versions
   * @param {() => number} [wall] milliseconds since the epoch (tests pass their own)
   */
  constructor(replica, wall = Date.now) {
    this.replica = replica;
    this.wall = wall;
    this.last = { t: 0, c: 0 };
  }

  /** A version newer than every version this clock has made or seen. @returns {Version} */
  now() {
    const wall = this.wall();
    if (wall > this.last.t) this.last = { t: wall, c: 0 };
    else this.last = { t: this.last.t, c: this.last.c + 1 };
    return { ...this.last, r: this.replica };
  }

  /**
   * Takes in a version seen from another replica, so that later local versions follow it.
   * @param {Version} seen
   */
  observe(seen) {
    if (seen.t > this.last.t || (seen.t === this.last.t && seen.c > this.last.c)) {
      this.last = { t: seen.t, c: seen.c };
    }
  }
}
