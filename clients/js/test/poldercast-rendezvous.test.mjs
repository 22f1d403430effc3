// The rendezvous channel (src/poldercast/rendezvous.js): every message another tab may post is
// checked before use, and what a page would not send is ignored and counted. Node 20 has
// BroadcastChannel, so the conversation runs here between objects as it does between tabs.
// And the bounds of what a page relays for the pages that joined through it (page_relay.js).
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import WebSocket from 'ws';
import { PageRelay } from '../src/poldercast/page_relay.js';
import { channelName, MAX_MESSAGE, parseRendezvous, Rendezvous } from '../src/poldercast/rendezvous.js';
import { connectOverlay, PsychoError } from '../src/psycho.js';
import { waitFor } from '../testkit/gateway.mjs';
import { wasmUrl } from '../testkit/wasm.mjs';

const N = '0123456789abcdef';
const S = 'web:1111111111111111@127.0.0.1:4250';
const P = `web:2222222222222222@${S}`;
const text = (m) => JSON.stringify({ v: 1, ...m });

test('rendezvous: the messages a page sends are taken', () => {
  assert.deepEqual(parseRendezvous(text({ t: 'seek', n: N })), { t: 'seek', n: N });
  assert.deepEqual(parseRendezvous(text({ t: 'here', n: N, relay: S })), { t: 'here', n: N, relay: S });
  assert.deepEqual(parseRendezvous(text({ t: 'join', to: S, from: P })), { t: 'join', to: S, from: P });
  const data = { t: 'offer', sdp: 'v=0' };
  assert.deepEqual(parseRendezvous(text({ t: 'signal', to: S, from: P, data })), { t: 'signal', to: S, from: P, data });
  // Fields nobody reads are dropped, not refused.
  assert.deepEqual(parseRendezvous(text({ t: 'seek', n: N, extra: 1 })), { t: 'seek', n: N });
});

test('rendezvous: each malformed message is refused', () => {
  const long = `web:${'a'.repeat(250)}@x`;
  const cases = {
    'not a string': { v: 1, t: 'seek', n: N },
    'too long': text({ t: 'seek', n: N, pad: 'x'.repeat(MAX_MESSAGE) }),
    'not JSON': '{"v":1,',
    'JSON null': 'null',
    'an array': '[1]',
    'a number': '7',
    'no version': JSON.stringify({ t: 'seek', n: N }),
    'another version': JSON.stringify({ v: 2, t: 'seek', n: N }),
    'unknown type': text({ t: 'hello', n: N }),
    'seek: short nonce': text({ t: 'seek', n: 'abc' }),
    'seek: upper-case nonce': text({ t: 'seek', n: N.toUpperCase() }),
    'seek: nonce a number': text({ t: 'seek', n: 12345 }),
    'here: no relay': text({ t: 'here', n: N }),
    'here: dialable relay': text({ t: 'here', n: N, relay: '127.0.0.1:4250' }),
    'here: relay past 255 bytes': text({ t: 'here', n: N, relay: long }),
    'here: relay without a name': text({ t: 'here', n: N, relay: 'web:@x' }),
    'join: from names another page': text({ t: 'join', to: S, from: 'web:2222222222222222@web:9@x' }),
    'join: from id not 16 hex digits': text({ t: 'join', to: S, from: `web:zz@${S}` }),
    'join: no to': text({ t: 'join', from: P }),
    'signal: no data': text({ t: 'signal', to: S, from: P }),
    'signal: data a string': text({ t: 'signal', to: S, from: P, data: 'offer' }),
    'signal: data an array': text({ t: 'signal', to: S, from: P, data: [] }),
    'signal: data without t': text({ t: 'signal', to: S, from: P, data: { sdp: 'v=0' } }),
    'signal: from dialable': text({ t: 'signal', to: S, from: '127.0.0.1:1', data: { t: 'call' } }),
  };
  for (const [name, raw] of Object.entries(cases)) assert.equal(parseRendezvous(raw), null, name);
});

/** A Rendezvous whose page is `self`, with room for `room` pages, recording what it is told. */
function member(name, self, room = 1) {
  const heard = { joins: [], signals: [] };
  const rv = new Rendezvous({
    name, BroadcastChannel, self: () => self,
    canRelay: () => (heard.joins.length < room ? self : ''),
    onJoin: (from) => {
      if (heard.joins.length >= room) return false;
      heard.joins.push(from);
      return true;
    },
    onSignal: (from, data) => heard.signals.push({ from, data }),
  });
  return { rv, heard };
}

test('rendezvous: a newcomer finds a member, joins it and signals it; the rest is ignored and counted', async (t) => {
  const name = `test-${process.pid}-${Date.now()}`;
  const s = member(name, S);
  const newcomer = member(name, '');
  const stranger = new BroadcastChannel(channelName(name));
  t.after(() => {
    s.rv.close();
    newcomer.rv.close();
    stranger.close();
  });

  // Garbage first: the member ignores it and answers nobody.
  for (const raw of ['', 'x'.repeat(MAX_MESSAGE + 1), '{', text({ t: 'seek', n: 'no' }), { v: 1 }, 42]) {
    stranger.postMessage(raw);
  }
  await waitFor('the garbage counted', async () => s.rv.stats.malformed === 6);
  assert.equal(s.rv.stats.answered, 0);

  assert.equal(await newcomer.rv.seek(5_000), S);
  newcomer.rv.join(S, P);
  newcomer.rv.signal(S, P, { t: 'call' });
  newcomer.rv.signal('web:3333333333333333@x', P, { t: 'call' }); // for another page: not ours
  await waitFor('the join and the signal', async () => s.heard.signals.length === 1);
  assert.deepEqual(s.heard.joins, [P]);
  assert.deepEqual(s.heard.signals, [{ from: P, data: { t: 'call' } }]);

  // Full: the member no longer answers, and a seek finds nobody within its time.
  assert.equal(await newcomer.rv.seek(200), '');
  assert.ok(s.rv.stats.refused >= 1);
  assert.equal(s.rv.stats.answered, 1);
});

test('rendezvous: a page answers at most 16 seeks a second', async (t) => {
  const name = `flood-${process.pid}-${Date.now()}`;
  const s = member(name, S, 1000);
  const flooder = new BroadcastChannel(channelName(name));
  t.after(() => {
    s.rv.close();
    flooder.close();
  });
  for (let i = 0; i < 100; ++i) flooder.postMessage(text({ t: 'seek', n: i.toString(16).padStart(16, '0') }));
  await waitFor('the flood heard', async () => s.rv.stats.received === 100);
  // The hundred may straddle a second: two seconds' worth at most.
  assert.ok(s.rv.stats.answered <= 32, `answered ${s.rv.stats.answered}`);
  assert.equal(s.rv.stats.answered + s.rv.stats.refused, 100);
});

test('rendezvous: the option is a short name', async () => {
  for (const rendezvous of ['a b', 'x'.repeat(65), 7, 'ü']) {
    await assert.rejects(connectOverlay('ws://127.0.0.1:9/', { rendezvous, webrtc: false }),
      (e) => e.kind === 'invalid_option', String(rendezvous));
  }
});

test('page relay: at most maxPages adopted, lapsing when their channel never opened', (t) => {
  let now = 1_000_000;
  t.mock.method(Date, 'now', () => now);
  const relay = new PageRelay({ maxPages: 2, bytesPerSecond: 100 });
  const linked = new Set();
  const isLinked = (a) => linked.has(a);
  assert.equal(relay.adopt('web:a@s', isLinked), true);
  assert.equal(relay.adopt('web:b@s', isLinked), true);
  assert.equal(relay.adopt('web:c@s', isLinked), false, 'full');
  assert.equal(relay.adopt('web:a@s', isLinked), true, 'adopted already');
  assert.deepEqual([relay.adopts('web:a@s'), relay.adopts('web:c@s')], [true, false]);
  assert.equal(relay.stats.pages, 2);
  // 15 s later: the one with a link stays, the one without lapses and makes room.
  linked.add('web:a@s');
  now += 15_001;
  assert.equal(relay.adopt('web:c@s', isLinked), true);
  assert.deepEqual([relay.adopts('web:a@s'), relay.adopts('web:b@s')], [true, false]);
  relay.forget('web:a@s');
  assert.equal(relay.stats.pages, 1);
});

test('page relay: at most bytesPerSecond passed on in a second', (t) => {
  let now = 5_000;
  t.mock.method(Date, 'now', () => now);
  const relay = new PageRelay({ maxPages: 1, bytesPerSecond: 100 });
  assert.equal(relay.charge(60), true);
  assert.equal(relay.charge(41), false);
  assert.equal(relay.charge(40), true);
  assert.equal(relay.charge(1), false);
  now += 1_000;
  assert.equal(relay.charge(100), true);
});

test('rendezvous: with no gateway and no page answering, connectOverlay fails within the seek\'s bound', async (t) => {
  // A listener that refuses every WebSocket upgrade: a gateway that is not there.
  const server = http.createServer((request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket) => socket.end('HTTP/1.1 404 Not Found\r\n\r\n'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const started = Date.now();
  await assert.rejects(connectOverlay(`ws://127.0.0.1:${server.address().port}/`, {
    WebSocket, wasm: wasmUrl(), webrtc: true, rendezvous: `none-${process.pid}`,
  }), (e) => e instanceof PsychoError);
  const took = Date.now() - started;
  assert.ok(took >= 1_900 && took < 6_000, `failed after ${took} ms`);
});

test('page relay: passes on only for its pages, only what speaks for its channel, and counts the rest', () => {
  const relay = new PageRelay({ maxPages: 1, bytesPerSecond: 1 << 20 });
  relay.adopt(P, () => true);
  const Q = 'web:3333333333333333@127.0.0.1:4251';
  const sent = [];
  const open = new Set([P, Q]);
  const send = (to, bytes) => (open.has(to) ? (sent.push(to), bytes.length !== 13) : undefined);
  const message = new Uint8Array(5);
  relay.pass(Q, { destination: P, message, sender: Q }, send); // for its page
  relay.pass(P, { destination: Q, message, sender: P }, send); // from its page
  relay.pass(Q, null, send); // did not decode
  relay.pass(Q, { destination: P, message, sender: 'web:4444444444444444@x' }, send); // spoofed
  relay.pass(Q, { destination: 'web:5555555555555555@x', message, sender: Q }, send); // not its page
  relay.pass(P, { destination: 'web:5555555555555555@x', message, sender: P }, send); // no channel there
  relay.pass(Q, { destination: P, message: new Uint8Array(13), sender: Q }, send); // buffer full
  assert.deepEqual(sent, [P, Q, P]);
  const { forwarded, forwardedBytes, malformed, refused, noRoute, bufferDrops, overBudget } = relay.stats;
  assert.deepEqual({ forwarded, forwardedBytes, malformed, refused, noRoute, bufferDrops, overBudget },
    { forwarded: 2, forwardedBytes: 10, malformed: 2, refused: 1, noRoute: 1, bufferDrops: 1, overBudget: 0 });
});
