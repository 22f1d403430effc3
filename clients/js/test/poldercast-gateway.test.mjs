// Browser nodes (the wasm node of connectOverlay, here under Node with ws) linked to real
// gateways through poldercast.websocket: they publish and subscribe through the overlay
// with gateway clients, each publication arriving exactly once, and a gateway never dials
// them; a link that sends malformed or foreign messages is cut and counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../testkit/client.mjs';
import { waitFor } from '../testkit/gateway.mjs';
import { converge, dropped, joinOverlay, metric, startOverlayGateways } from '../testkit/overlay.mjs';
import { loadPolderCast } from '../src/poldercast/wasm.js';
import { wasmUrl } from '../testkit/wasm.mjs';
import { RELAY_HEAD } from '../src/poldercast/addresses.js';

/** Counts each payload a subscription hears (probes apart). */
function counter(conn, subject) {
  const got = new Map();
  let probes = 0;
  conn.subscribe(subject, {
    callback: (err, msg) => {
      const text = msg.string();
      if (text === 'probe') probes += 1;
      else got.set(text, (got.get(text) ?? 0) + 1);
    },
  });
  return { got, probed: () => probes > 0 };
}

test('overlay nodes linked to gateways and gateway clients hear each publication exactly once', async (t) => {
  const [g1, g2] = await startOverlayGateways(t, 2);
  const n1 = await joinOverlay(t, g1.overlayUrl);
  const n2 = await joinOverlay(t, g2.overlayUrl);
  const client = await connect(t, g2.url);
  assert.match(n1.address, /^web:[0-9a-f]{16}@127\.0\.0\.1:\d+$/);
  assert.ok(n1.address.endsWith(`@${g1.overlayAddress}`));

  const at = { n1: counter(n1, 'room.news'), n2: counter(n2, 'room.news'), client: counter(client, 'room.news') };
  await client.flush();
  await converge('the ring of room.news', () => n1.publish('room.news', 'probe'),
    () => at.n2.probed() && at.client.probed());
  await converge('a gateway client to reach page subscribers', () => client.publish('room.news', 'probe'),
    () => at.n1.probed() && at.n2.probed());

  for (let i = 0; i < 50; ++i) n1.publish('room.news', `n1 ${i}`);
  for (let i = 0; i < 50; ++i) client.publish('room.news', `client ${i}`);
  // n2 subscribes to nothing else: a page with no subscription publishes all the same.
  const quiet = await joinOverlay(t, g1.overlayUrl);
  await converge('a page that subscribes to nothing', () => quiet.publish('room.news', 'probe'), () => true);
  for (let i = 0; i < 20; ++i) quiet.publish('room.news', `quiet ${i}`);

  const expect = (who, prefix, n) => {
    for (let i = 0; i < n; ++i) assert.equal(at[who].got.get(`${prefix} ${i}`), 1, `${who}: "${prefix} ${i}" once`);
  };
  await waitFor('every publication at every subscriber', () =>
    at.n2.got.size === 120 && at.client.got.size === 70 && at.n1.got.size === 70, 15_000);
  expect('n2', 'n1', 50); expect('client', 'n1', 50);
  expect('n1', 'client', 50); expect('n2', 'client', 50);
  for (const who of ['n1', 'n2', 'client']) expect(who, 'quiet', 20);
  assert.equal(at.n1.got.get('n1 0'), undefined, 'no echo to the publisher');

  // Request/reply: a page asks a gateway client, and a gateway client asks a page.
  client.subscribe('svc.upper', { callback: (err, msg) => msg.respond(msg.string().toUpperCase()) });
  n2.subscribe('svc.lower', { callback: (err, msg) => msg.respond(msg.string().toLowerCase()) });
  await client.flush();
  let reply = null;
  await converge('a request from a page', async () => {
    reply = await n1.request('svc.upper', 'hi', { timeout: 300 }).then((m) => m.string(), () => null);
  }, () => reply === 'HI');
  reply = null;
  await converge('a request to a page', async () => {
    reply = await client.request('svc.lower', 'HO', { timeout: 300 }).then((m) => m.string(), () => null);
  }, () => reply === 'ho');

  // Nobody ever dialled a page: an attempt would have been a bad address for TCP.
  for (const g of [g1, g2]) assert.equal(await dropped(g, 'link_bad_address'), 0);
  assert.ok(await metric(g1, 'psycho_poldercast_browser_links{adapter="poldercast"}') >= 2);
  assert.ok(await metric(g2, 'psycho_poldercast_relayed_total{adapter="poldercast"}') > 0);
});

test('a page whose link drops without a word is noticed by its gateway at once', async (t) => {
  const [g1] = await startOverlayGateways(t, 1, { cycle: '10s' });
  const page = await joinOverlay(t, g1.overlayUrl, { reconnect: false });
  page.subscribe('x');
  const address = page.address;
  await waitFor('the page in the gateway\'s views', async () =>
    (await g1.admin('/varz')).includes(address));
  page.link.ws.terminate(); // no LEAVE, no close frame: as a crashed tab
  await page.closed();
  assert.equal(page.address, '');
  await waitFor('the page gone from the gateway\'s views', async () =>
    !(await g1.admin('/varz')).includes(address));
  await waitFor('its link closed', async () =>
    await metric(g1, 'psycho_poldercast_browser_links{adapter="poldercast"}') === 0);
});

/** Opens a raw link to the gateway and waits for its hello. */
async function rawLink(url) {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const hello = await new Promise((resolve, reject) => {
    ws.once('message', (data, binary) => resolve(binary ? null : JSON.parse(String(data))));
    ws.once('error', reject);
  });
  const closed = new Promise((resolve) => ws.once('close', resolve));
  return { ws, hello, closed };
}

/** A real wire message (a Cyclon request) from a node at `address`, built by the wasm node. */
async function wireMessage(address, seed) {
  const module = await loadPolderCast(wasmUrl());
  let bytes = null;
  const node = new module.Node({ id: '00000000000000aa', address, seed: 1 },
    { send: (to, b) => { bytes = b; return true; }, backlog: () => 0 }, () => {});
  node.setSeeds([seed]);
  node.tick(1);
  node.delete();
  return bytes;
}

test('a link that sends malformed frames or speaks for another node is cut and counted', async (t) => {
  const [g1] = await startOverlayGateways(t, 1);
  const link = await rawLink(g1.overlayUrl);
  assert.deepEqual(link.hello, { poldercast: 1, relay: g1.overlayAddress });
  link.ws.send(new Uint8Array([0x50, 0x43, 1, 1, 0xff]));
  await link.closed;
  assert.equal(await dropped(g1, 'browser_malformed'), 1);

  const text = await rawLink(g1.overlayUrl);
  text.ws.send('not binary');
  await text.closed;
  assert.equal(await dropped(g1, 'browser_malformed'), 2);

  // A well-formed message whose sender is a dialable address, or another relay's page.
  for (const [i, address] of ['127.0.0.1:1', 'web:1@127.0.0.1:1'].entries()) {
    const foreign = await rawLink(g1.overlayUrl);
    foreign.ws.send(await wireMessage(address, g1.overlayAddress));
    await foreign.closed;
    assert.equal(await dropped(g1, 'browser_foreign_sender'), i + 1);
  }

  // A page's own message binds the link; the same link may not then speak for another.
  const own = await rawLink(g1.overlayUrl);
  own.ws.send(await wireMessage(`web:2@${g1.overlayAddress}`, g1.overlayAddress));
  const answered = await new Promise((resolve) => own.ws.once('message', (data, binary) => resolve(binary)));
  assert.equal(answered, true, 'the gateway answers over the same link');
  own.ws.send(await wireMessage(`web:3@${g1.overlayAddress}`, g1.overlayAddress));
  await own.closed;
  assert.equal(await dropped(g1, 'browser_foreign_sender'), 3);
  // The gateway is still up and serving links.
  const page = await (await import('../testkit/overlay.mjs')).joinOverlay(t, g1.overlayUrl);
  assert.equal(page.status, 'connected');
});

/** A relay envelope (relay.hpp) asking the gateway to pass `message` on to `destination`. */
function relayEnvelope(destination, message) {
  const to = new TextEncoder().encode(destination);
  const out = new Uint8Array(4 + 1 + to.length + 4 + message.length);
  out.set(RELAY_HEAD, 0);
  out[4] = to.length;
  out.set(to, 5);
  new DataView(out.buffer).setUint32(5 + to.length, message.length);
  out.set(message, 9 + to.length);
  return out;
}

test('what a browser link still had queued when it closed is counted', async (t) => {
  const [g1] = await startOverlayGateways(t, 1);
  const relay = g1.overlayAddress;
  // A page linked as web:2 that stops reading.
  const stalled = await rawLink(g1.overlayUrl);
  stalled.ws.send(await wireMessage(`web:2@${relay}`, relay));
  await new Promise((resolve) => stalled.ws.once('message', resolve));  // bound: answered
  stalled.ws._socket.pause();
  // Another page has the gateway pass messages on to it until its queue is full.
  const sender = await rawLink(g1.overlayUrl);
  const envelope = relayEnvelope(`web:2@${relay}`, await wireMessage(`web:3@${relay}`, relay));
  for (let round = 0; round < 100 && await dropped(g1, 'browser_queue_full') === 0; ++round) {
    for (let i = 0; i < 5000; ++i) sender.ws.send(envelope);
    await new Promise((resolve) => sender.ws.send(envelope, resolve));
  }
  assert.ok(await dropped(g1, 'browser_queue_full') > 0, 'the stalled link backed up');
  assert.equal(await dropped(g1, 'browser_link_closed'), 0);
  // The page comes back over a new link, which takes its address over: the old link closes
  // with its queue.
  const again = await rawLink(g1.overlayUrl);
  again.ws.send(await wireMessage(`web:2@${relay}`, relay));
  await waitFor('the old link\'s queue counted', async () => await dropped(g1, 'browser_link_closed') > 0);
  stalled.ws.terminate();
  sender.ws.close();
  again.ws.close();
});

test('browser links from one IP address are bounded by websocket_max_per_address', async (t) => {
  const [g1] = await startOverlayGateways(t, 1, { more: '  websocket_max_per_address: 2\n' });
  const first = await rawLink(g1.overlayUrl);
  const second = await rawLink(g1.overlayUrl);
  // A third from the same address is closed before its WebSocket handshake: no hello.
  const third = new WebSocket(g1.overlayUrl);
  let greeted = false;
  third.on('message', () => { greeted = true; });
  third.on('error', () => {}); // the refusal surfaces as an error, then the close
  await new Promise((resolve) => third.once('close', resolve));
  assert.equal(greeted, false);
  assert.equal(await dropped(g1, 'browser_address_limit'), 1);

  // A link that ends frees its slot for the next.
  first.ws.close();
  await first.closed;
  await waitFor('the closed link released', async () =>
    await metric(g1, 'psycho_poldercast_browser_links{adapter="poldercast"}') === 1);
  const again = await rawLink(g1.overlayUrl);
  assert.deepEqual(again.hello, { poldercast: 1, relay: g1.overlayAddress });
  again.ws.close();
  second.ws.close();
});

/** Resolves when `link` closes; fails after `ms`. */
function closedWithin(link, ms = 10_000) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the link still open after ${ms} ms`)), ms);
  });
  return Promise.race([link.closed, late]).finally(() => clearTimeout(timer));
}

test('a page that floods its gateway with requests is cut off and refused for a while', async (t) => {
  const [g1] = await startOverlayGateways(t, 1);
  const flood = await rawLink(g1.overlayUrl);
  // One node (its link is bound to the node id of its first message), asking for far more
  // than its share of a cycle: the gateway's node throttles it, then cuts it off.
  const request = await wireMessage(`web:flood@${g1.overlayAddress}`, g1.overlayAddress);
  for (let i = 0; i < 300; ++i) flood.ws.send(request);
  await closedWithin(flood);
  assert.ok(await metric(g1, 'psycho_poldercast_peers_cut_total{adapter="poldercast"}') >= 1);
  assert.equal(await dropped(g1, 'browser_banned'), 1);
  // The same node again, on a new link and under another address: refused at once.
  const again = await rawLink(g1.overlayUrl);
  again.ws.send(await wireMessage(`web:again@${g1.overlayAddress}`, g1.overlayAddress));
  await closedWithin(again);
  assert.equal(await dropped(g1, 'browser_banned'), 2);
  // Everyone else is welcome as before.
  const page = await (await import('../testkit/overlay.mjs')).joinOverlay(t, g1.overlayUrl);
  assert.equal(page.status, 'connected');
});
