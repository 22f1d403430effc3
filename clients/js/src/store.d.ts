// Type declarations of the Psycho Store (store.js), written by hand next to the JavaScript.
import type { Connection, OverlayConnection } from './psycho.js';

/** A write's version: hybrid logical clock (`t` ms, `c` counter) and the writing replica `r`. */
export interface Version {
  readonly t: number;
  readonly c: number;
  readonly r: string;
}

/** Orders versions: negative when `a` is older; `null` is older than any version. */
export function compareVersions(a: Version | null | undefined, b: Version | null | undefined): number;

export type StoreErrorKind =
  | 'bad_option' | 'bad_key' | 'key_too_long' | 'value_too_large' | 'store_full'
  | 'cas_conflict' | 'closed' | 'snapshot_rate_limited' | 'bad_message' | 'watcher_overflow';

export class StoreError extends Error {
  readonly name: 'StoreError';
  readonly kind: StoreErrorKind;
  readonly key?: string;
  /** For `cas_conflict`: the key's version now (null: no value). */
  readonly current?: Version | null;
}

export interface StoreOptions {
  /** This replica's id (1 to 64 of A-Z a-z 0-9 _ -); random by default. */
  replica?: string;
  maxKeys?: number;
  maxKeyBytes?: number;
  maxValueBytes?: number;
  maxStoreBytes?: number;
  /** Milliseconds a delete's tombstone is kept. */
  tombstoneTtl?: number;
  /** Milliseconds between anti-entropy digests (jittered ±25%). */
  antiEntropyInterval?: number;
  /** Milliseconds a join waits for snapshot answers. */
  snapshotTimeout?: number;
  /** Snapshots this replica serves per second. */
  snapshotRate?: number;
  /** Writes from clocks further ahead than this (ms) are dropped. */
  maxClockSkew?: number;
  /** Target size of one message of entries. */
  messageBytes?: number;
}

export const STORE_DEFAULTS: Readonly<Required<Omit<StoreOptions, 'replica'>>>;

export interface Change {
  op: 'put' | 'delete' | 'ready';
  key?: string;
  value?: Uint8Array | null;
  version?: Version;
  initial?: boolean;
  origin?: 'local' | 'remote';
}

export class Watcher implements AsyncIterable<Change> {
  readonly prefix: string;
  /** Ends the watch. */
  stop(): void;
  [Symbol.asyncIterator](): AsyncIterator<Change>;
}

export interface StoreStats {
  updatesSent: number; updatesReceived: number; applied: number; stale: number; dropped: number;
  skewed: number; badMessages: number; snapshotsServed: number; snapshotsRefused: number;
  pulls: number; repairsSent: number; conflicts: number; resyncs: number; tombstonesPurged: number;
}

/**
 * A replica of store NAME on subjects `store.NAME.>`. Events: `ready` (initial data complete),
 * `change` (a Change), `conflict` ({key, lost, winner}), `resync` ({epoch, kept}), `error` (a StoreError).
 */
export class PsychoStore extends EventTarget {
  constructor(conn: Connection | OverlayConnection, name: string, options?: StoreOptions);
  readonly name: string;
  readonly replica: string;
  readonly epoch: number;
  readonly isReady: boolean;
  /** Resolves once the initial data is complete. */
  readonly ready: Promise<void>;
  readonly stats: StoreStats;
  start(): Promise<void>;
  get(key: string): { value: Uint8Array; version: Version } | null;
  version(key: string): Version | null;
  keys(prefix?: string): string[];
  put(key: string, value: Uint8Array | string): Version;
  delete(key: string): Version;
  compareAndSet(key: string, value: Uint8Array | string | null, expected: Version | null): Version;
  watch(prefix?: string, options?: { callback?: (change: Change) => void; maxPending?: number }): Watcher;
  clear(): void;
  close(): void;
}

/** Opens a replica: subscribes, then joins by snapshot (await `store.ready`). */
export function openStore(conn: Connection | OverlayConnection, name: string, options?: StoreOptions): Promise<PsychoStore>;
