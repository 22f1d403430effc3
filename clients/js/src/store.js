// Psycho Store: a key/value store replicated over subjects only. Store NAME lives on
// `store.NAME.>`; every replica is equal. Each key is a last-writer-wins register ordered by
// (hybrid logical clock, replica id); deletes are tombstones kept for `tombstoneTtl`. A
// replica subscribes first, then asks for a snapshot (any replica answers, answers merge),
// then reports its initial data complete (`ready`). Anti-entropy compares digests of key
// ranges and pulls what differs; an epoch number tells a replica when to drop its state and
// resync rather than merge it (after `clear()`, or after being away longer than tombstones
// live). docs/apps.md explains the design.
//
// Subjects: `.u` updates, `.snap` snapshot requests, `.digest` anti-entropy digests,
// `.pull.<replica>` requests for key ranges from one replica; each replica subscribes to
// these four exact subjects, so a store works on every fabric and as overlay nodes.
import { HybridClock, compareVersions } from './hlc.js';
import { collect } from './store_collect.js';
import { chunkEntries, decodeEntry, decodeMessage, encodeEntry, encodeMessage } from './store_codec.js';
import { PsychoError } from './errors.js';
import { StoreError } from './store_error.js';
import { storeOptions } from './store_options.js';
import { BUCKETS, StoreState } from './store_state.js';
import { Watcher } from './store_watcher.js';

/** @typedef {import('./hlc.js').Version} Version */

/** Whether `e` is the client's refusal to use a connection that is closed or closing. */
const connectionClosed = (e) => e instanceof PsychoError && e.kind === 'connection_closed';
/** @typedef {import('./store_state.js').Entry} Entry */

const encoder = new TextEncoder();
const MAX_TRACKED_CAS = 1000;

/** A store replica. Make one with `openStore`. Events: `ready`, `change`, `conflict`, `resync`, `error`. */
export class PsychoStore extends EventTarget {
  /**
   * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
   * @param {string} name
   * @param {Record<string, unknown>} [options]
   */
  constructor(conn, name, options = {}) {
    super();
    this.options = storeOptions(name, options);
    this.conn = conn;
    this.name = name;
    this.prefix = `store.${name}`;
    this.replica = this.options.replica;
    this.clock = new HybridClock(this.replica);
    this.state = new StoreState(this.options);
    this.epoch = 1;
    this.isReady = false;
    this.closed = false;
    /** @type {Set<Watcher>} */
    this.watchers = new Set();
    /** @type {Map<string, Version>} this replica's compare-and-set writes not yet built on */
    this.casWrites = new Map();
    this.answerTokens = this.options.snapshotRate;
    this.answerRefill = Date.now();
    this.stats = {
      updatesSent: 0, updatesReceived: 0, applied: 0, stale: 0, dropped: 0, skewed: 0,
      badMessages: 0, snapshotsServed: 0, snapshotsRefused: 0, pulls: 0, repairsSent: 0,
      conflicts: 0, resyncs: 0, tombstonesPurged: 0,
    };
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
    this.onStatus = (event) => this.statusChanged(event.detail);
  }

  /** Subscribes, then joins (snapshot). @returns {Promise<void>} once subscribed */
  async start() {
    // Four exact subjects rather than `store.NAME.>`: a wildcard joins no PolderCast ring, so
    // through a PolderCast gateway or as an overlay node (connectOverlay) it would hear nothing.
    const callback = (err, msg) => this.onMessage(err, msg);
    this.subs = ['u', 'snap', 'digest', `pull.${this.replica}`]
      .map((kind) => this.conn.subscribe(`${this.prefix}.${kind}`, { callback }));
    this.conn.addEventListener('status', this.onStatus);
    // The subscription must be in place before the snapshot is asked for: an update made
    // between the two then arrives by the subscription, never falls in a gap.
    await this.conn.flush();
    this.join();
    this.scheduleAntiEntropy();
  }

  // ---------------------------------------------------------------- the API

  /**
   * The key's value and version, or null when it has none (never written, or deleted).
   * @param {string} key
   * @returns {{value: Uint8Array, version: Version} | null}
   */
  get(key) {
    const entry = this.state.get(key);
    return entry && entry.value ? { value: entry.value, version: entry.version } : null;
  }

  /**
   * The key's version, deleted or not (what compare-and-set compares), or null.
   * @param {string} key
   * @returns {Version | null}
   */
  version(key) {
    return this.state.get(key)?.version ?? null;
  }

  /** @param {string} [prefix] @returns {string[]} the live keys under `prefix`, sorted */
  keys(prefix = '') {
    const out = [];
    for (const [key, entry] of this.state.entries) if (entry.value && key.startsWith(prefix)) out.push(key);
    return out.sort();
  }

  /**
   * Writes `value` (bytes, or text as UTF-8). Throws StoreError on a broken bound.
   * @param {string} key
   * @param {Uint8Array | string} value
   * @returns {Version} the write's version
   */
  put(key, value) {
    return this.write(key, toBytes(value), false);
  }

  /** Deletes `key` (a tombstone). @param {string} key @returns {Version} */
  delete(key) {
    return this.write(key, null, false);
  }

  /**
   * Writes only if the key's version is still `expected` (null: the key has no value).
   * Throws StoreError `cas_conflict` (with `current`) when it is not. A concurrent write on
   * another replica that wins over this one later is reported by a `conflict` event.
   * @param {string} key
   * @param {Uint8Array | string | null} value null deletes
   * @param {Version | null} expected
   * @returns {Version}
   */
  compareAndSet(key, value, expected) {
    this.checkOpen();
    const current = this.state.get(key);
    const currentVersion = current && current.value ? current.version : null;
    const matches = expected === null ? currentVersion === null : compareVersions(current?.version, expected) === 0;
    if (!matches) {
      throw new StoreError('cas_conflict', `'${key}' is no longer at the expected version`,
        { key, current: current?.version ?? null });
    }
    return this.write(key, value === null ? null : toBytes(value), true);
  }

  /**
   * Watches keys under `prefix`: current values, a `ready` record, then changes.
   * @param {string} [prefix]
   * @param {{callback?: (change: import('./store_watcher.js').Change) => void, maxPending?: number}} [options]
   * @returns {Watcher}
   */
  watch(prefix = '', options = {}) {
    this.checkOpen();
    const watcher = new Watcher(prefix, { ...options, onStop: (w) => this.watchers.delete(w) });
    this.watchers.add(watcher);
    for (const key of this.keys(prefix)) {
      const { value, version } = this.state.get(key);
      watcher.push({ op: 'put', key, value, version, initial: true, origin: 'remote' });
    }
    if (this.isReady) watcher.push({ op: 'ready' });
    return watcher;
  }

  /** Empties the store everywhere: a new epoch that every replica adopts. */
  clear() {
    this.checkOpen();
    this.adoptEpoch(this.epoch + 1, false);
    this.publish('u', { entries: [], reset: true });
  }

  /** Stops replicating (the connection stays the caller's). */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.antiEntropyTimer);
    for (const sub of this.subs ?? []) sub.unsubscribe();
    this.conn.removeEventListener('status', this.onStatus);
    for (const watcher of [...this.watchers]) watcher.stop();
  }

  // ---------------------------------------------------------------- local writes

  checkOpen() {
    if (this.closed) throw new StoreError('closed', 'the store is closed');
  }

  write(key, value, cas) {
    this.checkOpen();
    this.state.checkWrite(key, value);
    const base = this.state.get(key)?.version;
    const entry = { value, version: this.clock.now() };
    if (base) entry.base = base;
    // Published before it is applied: a write the client refuses (above the gateway's
    // max_payload, say) throws here and changes nothing.
    this.publish('u', { entries: [encodeEntry([key, entry])] });
    this.stats.updatesSent += 1;
    this.state.merge(key, entry);
    if (cas) this.trackCas(key, entry.version);
    else this.casWrites.delete(key);
    this.changed(key, entry, 'local');
    return entry.version;
  }

  // Bytes of entries per message: `messageBytes`, and half the gateway's max_payload at most
  // (a NATS bridge may have lowered it), leaving room for JSON and multi-byte keys.
  messageBudget() {
    const max = this.conn.info?.max_payload;
    return Number.isFinite(max) ? Math.min(this.options.messageBytes, Math.floor(max / 2)) : this.options.messageBytes;
  }

  trackCas(key, version) {
    this.casWrites.delete(key);
    this.casWrites.set(key, version);
    if (this.casWrites.size > MAX_TRACKED_CAS) this.casWrites.delete(this.casWrites.keys().next().value);
  }

  publish(kind, body, options) {
    this.conn.publish(`${this.prefix}.${kind}`, encodeMessage({ e: this.epoch, from: this.replica, ...body }), options);
  }

  // ---------------------------------------------------------------- remote entries

  /**
   * Merges entries from a peer; reports changes and compare-and-set writes of ours that lost.
   * @param {Array<[string, Entry]>} entries
   */
  mergeRemote(entries) {
    const horizon = Date.now() + this.options.maxClockSkew;
    for (const [key, entry] of entries) {
      if (entry.version.t > horizon) {
        // A clock far ahead would win every later write: refused, and said so.
        this.stats.skewed += 1;
        this.report(new StoreError('bad_message', `a write to '${key}' from a clock more than ${this.options.maxClockSkew} ms ahead was dropped`, { key }));
        continue;
      }
      this.clock.observe(entry.version);
      const outcome = this.state.merge(key, entry);
      if (outcome === 'stale') { this.stats.stale += 1; continue; }
      if (outcome === 'full') {
        this.stats.dropped += 1;
        this.report(new StoreError('store_full', `a write to '${key}' from another replica was dropped: ${this.state.overLimit(key, entry) ?? 'value too large'}`, { key }));
        continue;
      }
      this.stats.applied += 1;
      this.checkCasLost(key, entry);
      this.changed(key, entry, 'remote');
    }
  }

  checkCasLost(key, entry) {
    const mine = this.casWrites.get(key);
    if (!mine) return;
    this.casWrites.delete(key);
    if (entry.base && compareVersions(entry.base, mine) === 0) return; // written on top of ours
    this.stats.conflicts += 1;
    this.dispatchEvent(new CustomEvent('conflict', { detail: { key, lost: mine, winner: entry.version } }));
  }

  changed(key, entry, origin) {
    const change = { op: entry.value ? 'put' : 'delete', key, value: entry.value, version: entry.version, origin };
    for (const watcher of this.watchers) if (watcher.matches(key)) watcher.push(change);
    this.dispatchEvent(new CustomEvent('change', { detail: change }));
  }

  report(error) {
    this.dispatchEvent(new CustomEvent('error', { detail: error }));
  }

  onMessage(err, msg) {
    if (err || this.closed) return;
    const kind = msg.subject.slice(this.prefix.length + 1);
    if (kind !== 'u' && kind !== 'snap' && kind !== 'digest' && kind !== `pull.${this.replica}`) return;
    let message;
    try {
      message = decodeMessage(msg.data);
      if (message.from === this.replica) return;
      if (message.e > this.epoch) this.adoptEpoch(message.e, true);
      if (message.e < this.epoch) {
        this.answerOldEpoch(kind);
        return;
      }
      if (kind === 'u') {
        this.stats.updatesReceived += 1;
        if (!Array.isArray(message.entries)) throw new StoreError('bad_message', 'an update without entries');
        this.mergeRemote(message.entries.map(decodeEntry));
      } else if (kind === 'snap') {
        this.answerSnapshot(msg);
      } else if (kind === 'digest') {
        this.background(() => this.compareDigest(message));
      } else {
        this.answerPull(msg, message);
      }
    } catch (e) {
      if (connectionClosed(e)) return;
      this.stats.badMessages += 1;
      this.report(e instanceof StoreError ? e : new StoreError('bad_message', String(e)));
    }
  }

  /**
   * Runs replication work nobody waits for (a timer's, or an answer's). Its owner may close
   * the connection before the store: then there is nothing left to replicate, which ends the
   * work without an error. Any other failure is reported as the store's `error` event.
   * @param {() => unknown} work
   */
  async background(work) {
    try {
      await work();
    } catch (e) {
      if (!connectionClosed(e)) this.report(e instanceof StoreError ? e : new StoreError('bad_message', String(e)));
    }
  }

  // ---------------------------------------------------------------- epochs and resyncs

  /**
   * Moves to `epoch`, dropping everything but this replica's own writes made since `keepSince`.
   * @param {number} epoch
   * @param {boolean} rejoin ask for the new epoch's snapshot
   * @param {number} [keepSince] wall-clock ms; own writes at or after it survive
   */
  adoptEpoch(epoch, rejoin, keepSince = Infinity) {
    const kept = [...this.state.entries].filter(([, e]) => e.version.r === this.replica && e.version.t >= keepSince);
    const keptKeys = new Set(kept.map(([key]) => key));
    for (const [key, entry] of this.state.entries) {
      if (!keptKeys.has(key) && entry.value) this.changed(key, { value: null, version: entry.version }, 'remote');
    }
    this.state.clear();
    for (const [key, entry] of kept) this.state.merge(key, entry);
    this.epoch = epoch;
    this.casWrites.clear();
    this.stats.resyncs += 1;
    this.dispatchEvent(new CustomEvent('resync', { detail: { epoch, kept: kept.length } }));
    if (rejoin) this.join(kept);
  }

  // A peer still in an older epoch hears our digest, sees the newer epoch and resyncs.
  // At most once a second, however many old messages arrive.
  answerOldEpoch(kind) {
    if (kind !== 'digest' && kind !== 'u') return;
    const now = Date.now();
    if (now - (this.lastEpochNotice ?? 0) < 1000) return;
    this.lastEpochNotice = now;
    this.publishDigest();
  }

  statusChanged({ status }) {
    if (this.closed) return;
    if (status === 'disconnected' && this.disconnectedAt === undefined) this.disconnectedAt = Date.now();
    if (status !== 'connected' || this.disconnectedAt === undefined) return;
    const since = this.disconnectedAt;
    this.disconnectedAt = undefined;
    if (Date.now() - since > this.options.tombstoneTtl) {
      // Peers may have forgotten deletes made while we were away: our old entries could
      // resurrect them. Keep only what we wrote since, and take the rest from a snapshot.
      this.adoptEpoch(this.epoch, true, since);
    } else {
      this.join();
    }
  }

  // ---------------------------------------------------------------- join: the snapshot

  /** @param {Array<[string, Entry]>} [republish] own writes to send once the snapshot is in */
  async join(republish = []) {
    const epoch = this.epoch;
    let result;
    for (let attempt = 0; ; ++attempt) {
      result = await collect(this.conn, `${this.prefix}.snap`, { e: epoch, from: this.replica }, {
        timeout: this.options.snapshotTimeout,
        epoch: () => this.epoch,
        onEntries: (entries) => this.mergeRemote(entries),
        onComplete: () => this.markReady(),
        onBadMessage: () => { this.stats.badMessages += 1; },
      });
      if (this.closed || this.epoch !== epoch) return;
      if (result.complete > 0 || result.refused === 0 || attempt === 4) break;
      this.report(new StoreError('snapshot_rate_limited',
        `every replica that answered refused a snapshot for now; retrying in ${result.retryAfter} ms`));
      await new Promise((resolve) => setTimeout(resolve, Math.max(100, result.retryAfter)));
    }
    if (republish.length > 0) {
      for (const chunk of chunkEntries(republish.map(encodeEntry), this.messageBudget())) {
        this.publish('u', { entries: chunk });
      }
    }
    this.markReady();
  }

  markReady() {
    if (this.isReady) return;
    this.isReady = true;
    for (const watcher of this.watchers) watcher.push({ op: 'ready' });
    this.resolveReady();
    this.dispatchEvent(new CustomEvent('ready', { detail: { keys: this.keys().length } }));
  }

  takeAnswerToken() {
    const now = Date.now();
    const rate = this.options.snapshotRate;
    this.answerTokens = Math.min(rate, this.answerTokens + ((now - this.answerRefill) / 1000) * rate);
    this.answerRefill = now;
    if (this.answerTokens < 1) return false;
    this.answerTokens -= 1;
    return true;
  }

  answerSnapshot(msg) {
    if (!msg.reply || !this.isReady) return; // a replica still joining has nothing whole to give
    if (!this.takeAnswerToken()) {
      this.stats.snapshotsRefused += 1;
      const retryAfter = Math.ceil(1000 / this.options.snapshotRate);
      this.conn.publish(msg.reply, encodeMessage({ e: this.epoch, from: this.replica, error: 'rate_limited', retryAfter }));
      return;
    }
    this.stats.snapshotsServed += 1;
    this.sendEntries(msg.reply, [...this.state.entries]);
  }

  sendEntries(reply, entries) {
    const chunks = chunkEntries(entries.map(encodeEntry), this.messageBudget());
    chunks.forEach((chunk, part) => {
      this.conn.publish(reply, encodeMessage({ e: this.epoch, from: this.replica, part, parts: chunks.length, entries: chunk }));
    });
  }

  // ---------------------------------------------------------------- anti-entropy

  scheduleAntiEntropy() {
    if (this.closed) return;
    // Jittered, so that replicas started together do not all send their digests at once.
    const delay = this.options.antiEntropyInterval * (0.75 + Math.random() / 2);
    this.antiEntropyTimer = setTimeout(() => {
      this.stats.tombstonesPurged += this.state.purgeTombstones(Date.now() - this.options.tombstoneTtl);
      if (this.isReady && this.conn.status === 'connected') this.background(() => this.publishDigest());
      this.scheduleAntiEntropy();
    }, delay);
  }

  publishDigest() {
    this.publish('digest', { d: this.state.digest() });
  }

  /** Pulls the key ranges whose digests differ from the sender's, then sends back what is newer here. */
  async compareDigest(message) {
    if (!this.isReady || !Array.isArray(message.d) || message.d.length !== BUCKETS) return;
    const mine = this.state.digest();
    const differing = [];
    for (let i = 0; i < BUCKETS; ++i) {
      const theirs = message.d[i];
      if (!Array.isArray(theirs) || theirs[0] !== mine[i][0] || theirs[1] !== mine[i][1]) differing.push(i);
    }
    if (differing.length === 0) return;
    this.stats.pulls += 1;
    /** @type {Map<string, Version>} what the peer holds in those ranges */
    const theirs = new Map();
    const epoch = this.epoch;
    await collect(this.conn, `${this.prefix}.pull.${message.from}`, { e: epoch, from: this.replica, buckets: differing }, {
      timeout: this.options.snapshotTimeout,
      epoch: () => this.epoch,
      onEntries: (entries) => {
        for (const [key, entry] of entries) theirs.set(key, entry.version);
        this.mergeRemote(entries);
      },
      onBadMessage: () => { this.stats.badMessages += 1; },
    });
    if (this.closed || this.epoch !== epoch) return;
    const newer = this.state.entriesIn(differing)
      .filter(([key, entry]) => compareVersions(entry.version, theirs.get(key)) > 0);
    for (const chunk of chunkEntries(newer.map(encodeEntry), this.messageBudget())) {
      if (chunk.length === 0) continue;
      this.publish('u', { entries: chunk });
      this.stats.repairsSent += chunk.length;
    }
  }

  answerPull(msg, message) {
    if (!msg.reply || !Array.isArray(message.buckets)) return;
    const buckets = message.buckets.filter((b) => Number.isSafeInteger(b) && b >= 0 && b < BUCKETS);
    this.sendEntries(msg.reply, this.state.entriesIn(buckets));
  }
}

/** @param {Uint8Array | string} value @returns {Uint8Array} */
function toBytes(value) {
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new StoreError('bad_option', 'a value is a Uint8Array or a string');
}

/**
 * Opens replica of store `name` on a connection: subscribes, then joins. Await
 * `store.ready` (or listen for `ready`) for the initial data.
 * @param {import('./connection.js').Connection | import('./poldercast/overlay.js').OverlayConnection} conn
 * @param {string} name
 * @param {Record<string, unknown>} [options] see STORE_DEFAULTS, and `replica` (an id)
 * @returns {Promise<PsychoStore>}
 */
export async function openStore(conn, name, options = {}) {
  const store = new PsychoStore(conn, name, options);
  await store.start();
  return store;
}

export { StoreError } from './store_error.js';
export { compareVersions } from './hlc.js';
export { STORE_DEFAULTS } from './store_options.js';
export { Watcher } from './store_watcher.js';
