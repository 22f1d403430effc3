// Every error the gateway can send reaches the application as a PsychoError of its own kind,
// and none leaves anything hanging.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { serverError } from '../src/errors.js';
import { WebSocket, connect, nextStatus } from '../testkit/client.mjs';
import { startGateway, waitFor } from '../testkit/gateway.mjs';

// "s3cret", hashed by `psycho-gateway passwd --cost 4`.
const HASH = '$2b$04$AIRe/KGTpPb7a8km/gEF3u0e9jdGArsKlCfu3FhVHIzqSyKTjcvCO';
const authConfig = `gateway:
  auth:
    token: tok3n
    users:
      - user: alice
        password: "${HASH}"
        max_payload: 100
        permissions:
          publish: {allow: ["orders.>", "_INBOX.>"]}
          subscribe: {allow: ["orders.>", "_INBOX.>"]}
`;

/** The next error event of `connection`. */
function nextError(connection) {
  return new Promise((resolve) => {
    connection.addEventListener('error', (e) => resolve(e.detail), { once: true });
  });
}

test('every -ERR text of the gateway maps to its own kind', () => {
  const source = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)),
    '../../../gateway/protocol/errors.cpp'), 'utf8');
  const texts = [...source.matchAll(/return "([A-Z][^"]+)";/g)].map((m) => m[1])
    .filter((text) => text !== 'Unknown Error' && text !== 'Permissions Violation');
  assert.ok(texts.length >= 13, `found ${texts.length} texts`);
  const kinds = texts.map((text) => serverError(text).kind);
  assert.ok(!kinds.includes('server_error'), `unmapped: ${texts.filter((_, i) => kinds[i] === 'server_error')}`);
  assert.equal(new Set(kinds).size, kinds.length, 'one kind each');
  const p = serverError('Permissions Violation for Subscription to "a.b"');
  assert.deepEqual([p.kind, p.direction, p.subject, p.fatal], ['permissions_violation', 'subscribe', 'a.b', false]);
  assert.equal(serverError('Slow Consumer').fatal, true);
  assert.equal(serverError('Something New').kind, 'server_error');
});

test('token and user/password authentication: right credentials connect, wrong ones fail', async (t) => {
  const gateway = await startGateway(t, { config: authConfig });
  await connect(t, gateway.url, { token: 'tok3n' });
  await connect(t, gateway.url, { user: 'alice', password: 's3cret' });
  for (const wrong of [{ token: 'nope' }, { user: 'alice', password: 'wrong' }, {}]) {
    await assert.rejects(connect(t, gateway.url, wrong), (e) => {
      assert.equal(e.kind, 'authorization_violation');
      assert.equal(e.serverText, 'Authorization Violation');
      return true;
    });
  }
});

test('permissions violations: a refused subscription ends with the error, a refused request fails at once', async (t) => {
  const gateway = await startGateway(t, { config: authConfig });
  const alice = await connect(t, gateway.url, { user: 'alice', password: 's3cret' });
  const refused = alice.subscribe('secret.stuff');
  const iterator = refused[Symbol.asyncIterator]();
  await assert.rejects(iterator.next(), { kind: 'permissions_violation', direction: 'subscribe', subject: 'secret.stuff' });
  const started = Date.now();
  await assert.rejects(alice.request('secret.svc', 'x', { timeout: 5000 }), { kind: 'permissions_violation', direction: 'publish' });
  assert.ok(Date.now() - started < 4000, 'not a timeout');
  assert.equal(alice.status, 'connected', 'the connection stays open');
  await alice.flush();
});

test('a publish above the user\'s own max_payload: the server closes, the client says why and reconnects', async (t) => {
  const gateway = await startGateway(t, { config: authConfig });
  const alice = await connect(t, gateway.url, { user: 'alice', password: 's3cret', reconnectDelay: 20 });
  const disconnected = nextStatus(alice, 'disconnected');
  alice.publish('orders.big', 'x'.repeat(200)); // within INFO's max_payload, above alice's
  assert.equal((await disconnected).error.kind, 'max_payload');
  await nextStatus(alice, 'connected');
});

test('Maximum Subscriptions Exceeded and Publish Rate Exceeded are reported; the connection stays', async (t) => {
  const gateway = await startGateway(t, {
    config: 'gateway:\n  max_subscriptions: 2\n  publish_rate: {messages: 5}\n',
  });
  const client = await connect(t, gateway.url);
  client.subscribe('one');
  client.subscribe('two');
  const maxSubs = nextError(client);
  client.subscribe('three');
  assert.equal((await maxSubs).kind, 'max_subscriptions');
  const rate = nextError(client);
  for (let i = 0; i < 50; ++i) client.publish('fast', 'x');
  assert.equal((await rate).kind, 'rate_limited');
  await client.flush();
  assert.equal(client.status, 'connected');
  assert.ok(client.stats.serverErrors >= 2);
});

test('a connection past max_connections fails connect() (closed before the upgrade, so no -ERR)', async (t) => {
  const gateway = await startGateway(t, { config: 'gateway:\n  max_connections: 1\n' });
  await connect(t, gateway.url);
  await assert.rejects(connect(t, gateway.url), { kind: 'connect_failed' });
});

test('Maximum Control Line Exceeded closes; the client reports it and reconnects', async (t) => {
  const gateway = await startGateway(t);
  const client = await connect(t, gateway.url, { reconnectDelay: 20 });
  const disconnected = nextStatus(client, 'disconnected');
  client.publish(`long.${'x'.repeat(5000)}`, 'x');
  assert.equal((await disconnected).error.kind, 'control_line_too_long');
  await nextStatus(client, 'connected');
});

test('Slow Consumer and Stale Connection: a client that stops reading is cut off, says why, and comes back', async (t) => {
  const gateway = await startGateway(t, {
    config: 'gateway:\n  max_pending: 64KiB\n  max_payload: 16KiB\n  ping_interval: 100ms\n  max_pings_out: 1\n',
  });
  let socket;
  class PausableWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      socket = this;
    }
  }
  const slow = await connect(t, gateway.url, { WebSocket: PausableWebSocket, reconnectDelay: 20 });
  slow.subscribe('flood');
  await slow.flush();
  socket.pause(); // stop reading: the gateway's queue for this client fills
  const publisher = await connect(t, gateway.url);
  const payload = new Uint8Array(8 * 1024);
  const varz = async () => JSON.parse(await gateway.admin('/varz'));
  await waitFor('the gateway to cut the reader off', async () => {
    for (let i = 0; i < 16; ++i) publisher.publish('flood', payload);
    const v = await varz();
    return v.slow_consumers + v.stale_connections > 0;
  });
  const disconnected = nextStatus(slow, 'disconnected');
  socket.resume();
  const { error } = await disconnected;
  assert.ok(['slow_consumer', 'stale_connection', 'disconnected'].includes(error.kind), error.kind);
  await nextStatus(slow, 'connected');
});

test('a malformed frame from a server is refused with protocol_error, never a hang', async (t) => {
  const frames = [
    'INFO {}\nMSG a b c d e\n', // too many arguments
    'MSG a 1\nx\n', // no INFO first
    'INFO {}\nMSG a 2\nabc\n', // body longer than announced
    'INFO not json\n',
  ];
  for (const frame of frames) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (ws) => ws.send(Buffer.from(frame)));
    const url = `ws://127.0.0.1:${server.address().port}/`;
    await assert.rejects(connect(t, url, { reconnect: false }), (e) => {
      assert.equal(e.kind, 'protocol_error', `${JSON.stringify(frame)}: ${e.message}`);
      return true;
    });
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});
