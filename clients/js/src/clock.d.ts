// Type declarations of clock.js, written by hand next to the JavaScript.
import type { Connection, OverlayConnection } from './psycho.js';

/** `performance.timeOrigin + performance.now()`: monotonic milliseconds. */
export function monotonicNow(): number;

export interface ClockSyncOptions {
  id: string;
  now?: () => number;
  /** Round trips per measurement; the shortest wins (default 5). */
  samples?: number;
  timeout?: number;
}

export class ClockSync {
  constructor(conn: Connection | OverlayConnection, prefix: string, options: ClockSyncOptions);
  readonly offsets: Map<string, { offset: number; rtt: number }>;
  start(): Promise<void>;
  /** Skips round trips that fail; rejects with the last error when none succeeds. */
  measure(peer: string): Promise<{ offset: number; rtt: number }>;
  toLocal(peer: string, theirTime: number): number;
  forget(peer: string): void;
  close(): void;
}

export function startClockSync(conn: Connection | OverlayConnection, prefix: string, options: ClockSyncOptions): Promise<ClockSync>;
