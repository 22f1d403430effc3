// Type declarations of presence.js, written by hand next to the JavaScript.
import type { Connection, OverlayConnection } from './psycho.js';

export interface Member {
  readonly id: string;
  readonly name: string;
  /** `#rrggbb` */
  readonly colour: string;
  readonly self: boolean;
  readonly lastSeen: number;
}

export interface PresenceOptions {
  id?: string;
  name?: string;
  colour?: string;
  /** Milliseconds between announcements (50 to 60000, default 2000). */
  interval?: number;
  /** Silence for this many of a member's intervals drops it (default 3). */
  expiryFactor?: number;
  maxMembers?: number;
}

/** Events: `join`, `update`, `leave` (detail: Member, plus `reason` for leave), `change`. */
export class Presence extends EventTarget {
  constructor(conn: Connection | OverlayConnection, subject: string, options?: PresenceOptions);
  readonly id: string;
  readonly subject: string;
  readonly stats: { announcements: number; received: number; ignored: number; expired: number };
  start(): Promise<void>;
  members(): Member[];
  update(profile: { name?: string; colour?: string }): void;
  close(): void;
}

export function joinPresence(conn: Connection | OverlayConnection, subject: string, options?: PresenceOptions): Promise<Presence>;
