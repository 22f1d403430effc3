// The Psycho Store library in Node against the real gateway: replication, join by snapshot,
// watch, compare-and-set, anti-entropy, epochs and bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../testkit/client.mjs';
import { startGateway, waitFor } from '../testkit/gateway.mjs';
import { startRelay } from '../testkit/relay.mjs';
import { openStore, StoreError } from '../src/store.js';

const text = (entry) => (entry ? new TextDecoder().decode(entry.value) : null);
const fast = { snapshotTimeout: 300, antiEntropyInterval: 200 };

/** A store replica on its own connection; closed after the test. */
async function replica(t, url, name, options = {}) {
  const conn = await connect(t, url);
  const store = await openStore(conn, name, { ...fast, ...options });
  t.after(() => store.close());
  return store;
}

/** The same contents, key by key and version by version. */
function contents(store) {
  return JSON.stringify([...store.state.entries].sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, e]) => [k, e.value && [...e.value], e.version]));
}

function nextEvent(target, type, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${ms} ms`)), ms);
    target.addEventListener(type, (e) => { clearTimeout(timer); resolve(e.detail); }, { once: true });
  });
}

test('a write on one replica reaches the others, as bytes, and deletes too', async (t) => {
  const gateway = await startGateway(t);
  const a = await replica(t, gateway.url, 'shop');
  const b = await replica(t, gateway.url, 'shop');
  await Promise.all([a.ready, b.ready]);
  const changed = nextEvent(b, 'change');
  const version = a.put('apples', 'five');
  const change = await changed;
  assert.equal(change.key, 'apples');
  assert.equal(change.origin, 'remote');
  assert.deepEqual(change.version, version);
  assert.equal(text(b.get('apples')), 'five');
  a.put('raw', new Uint8Array([0, 255, 13, 10]));
  await waitFor('the bytes', () => b.get('raw'));
  assert.deepEqual([...b.get('raw').value], [0, 255, 13, 10]);
  assert.deepEqual(b.keys(), ['apples', 'raw']);
  const deleted = nextEvent(b, 'change');
  a.delete('apples');
  assert.equal((await deleted).op, 'delete');
  assert.equal(b.get('apples'), null);
  assert.deepEqual(b.keys(), ['raw']);
  assert.notEqual(b.version('apples'), null, 'a delete leaves a tombstone');
});

test('a late joiner gets everything by snapshot before its ready event; watch gives values, ready, changes', async (t) => {
  const gateway = await startGateway(t);
  const a = await replica(t, gateway.url, 'late');
  await a.ready;
  for (let i = 0; i < 300; ++i) a.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
  a.delete('k000');
  const conn = await connect(t, gateway.url);
  const { PsychoStore } = await import('../src/store.js');
  const late = new PsychoStore(conn, 'late', { ...fast, messageBytes: 4096 });
  t.after(() => late.close());
  let keysAtReady = -1;
  late.addEventListener('ready', () => { keysAtReady = late.keys().length; });
  await late.start();
  await late.ready;
  assert.equal(keysAtReady, 299, 'the whole state, in several parts, before ready');
  assert.equal(contents(late), contents(a));

  const seen = [];
  const watcher = late.watch('k29', { callback: (c) => seen.push(c) });
  assert.deepEqual(seen.map((c) => c.op), [...Array(10).fill('put'), 'ready']);
  assert.ok(seen.slice(0, 10).every((c) => c.initial));
  const more = nextEvent(late, 'change');
  a.put('k299', 'changed');
  await more;
  assert.equal(seen.at(-1).key, 'k299');
  assert.equal(text(seen.at(-1)), 'changed');
  watcher.stop();

  // As an async iterator.
  const iterator = late.watch('k00')[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value.key, 'k001');
});

test('concurrent writes to the same keys converge to identical contents', async (t) => {
  const gateway = await startGateway(t);
  const stores = await Promise.all([0, 1, 2].map(() => replica(t, gateway.url, 'race')));
  await Promise.all(stores.map((s) => s.ready));
  for (let i = 0; i < 200; ++i) {
    for (const [n, store] of stores.entries()) store.put(`key${i % 10}`, `from ${n} #${i}`);
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await waitFor('convergence', () => new Set(stores.map(contents)).size === 1, 10_000);
  assert.equal(stores[0].keys().length, 10);
});

test('compare-and-set: a stale version is refused; the loser of a concurrent race is told', async (t) => {
  const gateway = await startGateway(t);
  const a = await replica(t, gateway.url, 'cas');
  const b = await replica(t, gateway.url, 'cas');
  await Promise.all([a.ready, b.ready]);
  const v1 = a.compareAndSet('seat', 'ann', null);
  await waitFor('b to see the seat', () => b.get('seat'));
  assert.throws(() => b.compareAndSet('seat', 'bob', null), (e) => e instanceof StoreError &&
    e.kind === 'cas_conflict' && e.current.t === v1.t);
  const v2 = b.compareAndSet('seat', 'bob', v1);
  await waitFor('a to see bob', () => text(a.get('seat')) === 'bob');
  assert.deepEqual(a.version('seat'), v2);

  // Both write from the same version before either hears the other.
  const conflicts = [];
  for (const s of [a, b]) s.addEventListener('conflict', (e) => conflicts.push({ s, ...e.detail }));
  a.compareAndSet('seat', 'carol', v2);
  b.compareAndSet('seat', 'dave', v2);
  await waitFor('convergence', () => contents(a) === contents(b));
  await waitFor('one conflict', () => conflicts.length === 1);
  const winner = text(a.get('seat'));
  assert.equal(conflicts[0].s, winner === 'carol' ? b : a, 'the replica whose write lost hears it');
  assert.deepEqual(conflicts[0].winner, a.version('seat'));
});

test('anti-entropy repairs what a replica missed', async (t) => {
  const gateway = await startGateway(t);
  const a = await replica(t, gateway.url, 'heal');
  const b = await replica(t, gateway.url, 'heal');
  await Promise.all([a.ready, b.ready]);
  // Entries that were never published: only digests can reveal them.
  a.state.merge('only-a', { value: new Uint8Array([1]), version: a.clock.now() });
  b.state.merge('only-b', { value: new Uint8Array([2]), version: b.clock.now() });
  await waitFor('the digests to repair both', () => a.get('only-b') && b.get('only-a'), 10_000);
  assert.equal(contents(a), contents(b));
  assert.ok(a.stats.pulls + b.stats.pulls > 0);
});

test('a replica that was disconnected catches up when it is back', async (t) => {
  const gateway = await startGateway(t);
  const relay = await startRelay(t);
  relay.target = gateway.ports.websocket;
  const a = await replica(t, gateway.url, 'away', { antiEntropyInterval: 60_000 });
  const b = await replica(t, relay.url, 'away', { antiEntropyInterval: 60_000 });
  await Promise.all([a.ready, b.ready]);
  relay.target = null;
  const gone = waitFor('b to notice', () => b.conn.status !== 'connected');
  for (const socket of relay.sockets) socket.destroy();
  await gone;
  a.put('while-away', 'from a');
  b.put('offline', 'from b');
  relay.target = gateway.ports.websocket;
  await waitFor('both ways', () => b.get('while-away') && a.get('offline'), 15_000);
  assert.equal(contents(a), contents(b));
});

test('clear() starts a new epoch that every replica adopts', async (t) => {
  const gateway = await startGateway(t);
  const a = await replica(t, gateway.url, 'epoch');
  const b = await replica(t, gateway.url, 'epoch');
  await Promise.all([a.ready, b.ready]);
  a.put('x', '1');
  await waitFor('x', () => b.get('x'));
  const resync = nextEvent(b, 'resync');
  a.clear();
  assert.equal((await resync).epoch, 2);
  assert.deepEqual(b.keys(), []);
  a.put('y', '2');
  await waitFor('y in the new epoch', () => b.get('y'));
  assert.equal(b.epoch, 2);
});

test('bounds: sizes and keys are refused with clear errors; snapshots are rate limited', async (t) => {
  const gateway = await startGateway(t);
  const conn = await connect(t, gateway.url);
  await assert.rejects(openStore(conn, 'bad name'), (e) => e.kind === 'bad_option');
  await assert.rejects(openStore(conn, 'x', { nope: 1 }), /unknown option 'nope'/);
  const a = await replica(t, gateway.url, 'small', { maxValueBytes: 8, maxKeys: 2, snapshotRate: 1 });
  await a.ready;
  assert.throws(() => a.put('k', '123456789'), (e) => e.kind === 'value_too_large' && /9 bytes; the limit is 8/.test(e.message));
  assert.throws(() => a.put('', 'x'), (e) => e.kind === 'bad_key');
  a.put('one', '1');
  a.put('two', '2');
  assert.throws(() => a.put('three', '3'), (e) => e.kind === 'store_full' && /limit of 2 keys/.test(e.message));
  a.put('one', 'fine');

  const first = await replica(t, gateway.url, 'small');
  await first.ready;
  const second = new (await import('../src/store.js')).PsychoStore(await connect(t, gateway.url), 'small', fast);
  t.after(() => second.close());
  const refused = nextEvent(second, 'error', 5000);
  // `first` is ready too and answers with its own budget: stop it so only `a` answers.
  first.close();
  await second.start();
  assert.equal((await refused).kind, 'snapshot_rate_limited');
  await second.ready;
  assert.equal(text(second.get('one')), 'fine');
  assert.ok(a.stats.snapshotsRefused >= 1);
});

test('tombstones are forgotten after their time', async (t) => {
  const gateway = await startGateway(t);
  const a = await replica(t, gateway.url, 'tomb', { tombstoneTtl: 100, antiEntropyInterval: 50 });
  await a.ready;
  a.put('x', '1');
  a.delete('x');
  assert.ok(a.version('x'));
  await waitFor('the tombstone to go', () => a.version('x') === null);
  assert.equal(a.stats.tombstonesPurged, 1);
});

test('a write the gateway would refuse throws and leaves the store as it was', async (t) => {
  const gateway = await startGateway(t, { config: 'gateway:\n  max_payload: 1KiB\n' });
  const a = await replica(t, gateway.url, 'tiny');
  await a.ready;
  assert.throws(() => a.put('big', 'x'.repeat(2000)), (e) => e.kind === 'max_payload');
  assert.equal(a.get('big'), null);
  assert.equal(a.stats.updatesSent, 0);
  // Snapshot answers are cut to fit the smaller limit.
  for (let i = 0; i < 40; ++i) a.put(`k${i}`, 'y'.repeat(100));
  const b = await replica(t, gateway.url, 'tiny');
  await b.ready;
  assert.equal(b.keys().length, 40);
});

test('a connection closed under the store ends its background work without an error', async (t) => {
  const gateway = await startGateway(t);
  const conn = await connect(t, gateway.url);
  const store = await openStore(conn, 'early', fast);
  t.after(() => store.close());
  await store.ready;
  const errors = [];
  store.addEventListener('error', (e) => errors.push(e.detail));
  // Its owner closes the connection first; what the anti-entropy timer (or a peer's digest)
  // then starts finds it closing, then closed.
  const closing = conn.close();
  await store.background(() => store.publishDigest());
  await closing;
  await store.background(() => store.publishDigest());
  assert.deepEqual(errors, []);
  // Anything else still surfaces.
  await store.background(() => { throw new Error('boom'); });
  assert.equal(errors.length, 1);
});
