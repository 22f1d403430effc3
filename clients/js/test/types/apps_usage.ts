// Compiled by types.test.mjs with `tsc --noEmit --strict`: every export of the store,
// presence and clock modules used the way the README shows, through a gateway connection
// or as an overlay node (both are accepted).
import type { Connection, OverlayConnection } from 'psycho-client';
import {
  compareVersions,
  openStore,
  PsychoStore,
  STORE_DEFAULTS,
  StoreError,
  Watcher,
  type Change,
  type StoreErrorKind,
  type StoreOptions,
  type StoreStats,
  type Version,
} from 'psycho-client/store';
import { joinPresence, Presence, type Member, type PresenceOptions } from 'psycho-client/presence';
import { ClockSync, monotonicNow, startClockSync, type ClockSyncOptions } from 'psycho-client/clock';

export async function useStore(nc: Connection | OverlayConnection): Promise<string[]> {
  const options: StoreOptions = { maxKeys: STORE_DEFAULTS.maxKeys, tombstoneTtl: 60_000, replica: 'r1' };
  const store: PsychoStore = await openStore(nc, 'shop', options);
  await store.ready;
  const version: Version = store.put('apples', 'five');
  store.put('raw', new Uint8Array([1, 2]));
  const entry = store.get('apples');
  const bytes: Uint8Array | undefined = entry?.value;
  try {
    store.compareAndSet('apples', null, store.version('apples'));
  } catch (e) {
    if (e instanceof StoreError) {
      const kind: StoreErrorKind = e.kind;
      const current: Version | null | undefined = e.current;
      console.log(kind, current, bytes);
    }
  }
  store.addEventListener('conflict', () => store.delete('apples'));
  const watcher: Watcher = store.watch('a', { callback: (change: Change) => console.log(change.op, change.key) });
  for await (const change of store.watch('b')) if (change.op === 'ready') break;
  watcher.stop();
  const stats: StoreStats = store.stats;
  const order: number = compareVersions(version, store.version('raw'));
  const manual = new PsychoStore(nc, 'other');
  await manual.start();
  manual.clear();
  manual.close();
  store.close();
  return [...store.keys('a'), String(order), String(stats.applied), store.replica, String(store.epoch), String(store.isReady)];
}

export async function usePresence(nc: OverlayConnection): Promise<string[]> {
  const options: PresenceOptions = { name: 'ann', colour: '#ff0000', interval: 2000, expiryFactor: 3 };
  const presence: Presence = await joinPresence(nc, 'room.presence', options);
  presence.update({ name: 'anne' });
  const members: Member[] = presence.members();
  const other = new Presence(nc, 'room.presence', { id: 'x' });
  await other.start();
  other.close();
  presence.close();
  return members.map((m) => `${m.id} ${m.name} ${m.colour} ${m.self} ${m.lastSeen} ${presence.stats.expired}`);
}

export async function useClock(nc: Connection): Promise<number> {
  const options: ClockSyncOptions = { id: 'me', samples: 5, timeout: 1000, now: monotonicNow };
  const sync: ClockSync = await startClockSync(nc, 'room.clock', options);
  const { offset, rtt } = await sync.measure('peer');
  const local = sync.toLocal('peer', monotonicNow());
  sync.forget('peer');
  const manual = new ClockSync(nc, 'room.clock', { id: 'other' });
  await manual.start();
  manual.close();
  sync.close();
  return offset + rtt + local + sync.offsets.size;
}
