import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, nextStatus, take } from '../testkit/client.mjs';
import { Gateway, startGateway, waitFor } from '../testkit/gateway.mjs';
import { startRelay } from '../testkit/relay.mjs';

const quick = { reconnectDelay: 20, reconnectDelayMax: 100 };

/** A second gateway for after the first was killed; `t.after` stops it. */
async function restart(t) {
  const gateway = await new Gateway().start();
  t.after(() => gateway.stop());
  return gateway;
}

test('after the gateway is killed and another started, the client reconnects, resubscribes and sends what it published meanwhile', async (t) => {
  const first = await startGateway(t);
  const relay = await startRelay(t);
  relay.target = first.ports.websocket;
  const client = await connect(t, relay.url, quick);
  const statuses = [];
  client.addEventListener('status', (e) => statuses.push(e.detail.status));
  const incoming = client.subscribe('r.in');
  await client.flush();

  const disconnected = nextStatus(client, 'disconnected');
  await first.kill();
  assert.equal((await disconnected).error.kind, 'disconnected');
  relay.target = null; // nothing to reach while no gateway runs
  for (let i = 0; i < 10; ++i) client.publish('r.out', String(i));

  const second = await restart(t);
  const other = await connect(t, second.url);
  const outgoing = other.subscribe('r.out');
  await other.flush();
  const connected = nextStatus(client, 'connected');
  relay.target = second.ports.websocket;
  await connected;
  assert.deepEqual(await take(outgoing, 10), Array.from({ length: 10 }, (_, i) => String(i)));
  await client.flush();
  other.publish('r.in', 'again');
  assert.deepEqual(await take(incoming, 1), ['again']);
  assert.equal(client.stats.reconnects, 1);
  assert.deepEqual(statuses.slice(0, 2), ['disconnected', 'reconnecting']);
  assert.equal(statuses.at(-1), 'connected');
  assert.ok(relay.accepted >= 2);
});

test('publishes beyond maxPendingBytes while disconnected are dropped and counted', async (t) => {
  const first = await startGateway(t);
  const relay = await startRelay(t);
  relay.target = first.ports.websocket;
  const client = await connect(t, relay.url, { ...quick, maxPendingBytes: 2000 });
  const disconnected = nextStatus(client, 'disconnected');
  await first.kill();
  await disconnected;
  relay.target = null;
  const payload = 'x'.repeat(100);
  for (let i = 0; i < 100; ++i) client.publish('bounded', payload);
  const kept = client.stats.outMsgs;
  assert.ok(kept > 0 && kept < 100, `kept ${kept}`);
  assert.equal(client.stats.droppedPublishes, 100 - kept);
  assert.equal(client.stats.droppedBytes, (100 - kept) * 100);

  const second = await restart(t);
  const other = await connect(t, second.url);
  const sub = other.subscribe('bounded');
  await other.flush();
  relay.target = second.ports.websocket;
  const got = await take(sub, kept);
  assert.equal(got.length, kept, 'every kept publish arrives');
});

test('a stopped (stale) server is detected by unanswered PINGs and the client reconnects once it runs again', async (t) => {
  const gateway = await startGateway(t);
  const client = await connect(t, gateway.url, { ...quick, pingInterval: 100, maxPingsOut: 2 });
  const disconnected = nextStatus(client, 'disconnected');
  gateway.child.kill('SIGSTOP');
  t.after(() => gateway.child.kill('SIGCONT'));
  const { error } = await disconnected;
  assert.equal(error.kind, 'stale_connection');
  const connected = nextStatus(client, 'connected');
  gateway.child.kill('SIGCONT');
  await connected;
  await client.flush();
});

test("the server's PINGs are answered, so an idle client is not stale", async (t) => {
  // Generous for a loaded machine: three unanswered PINGs 250 ms apart before the server gives up.
  const gateway = await startGateway(t, { config: 'gateway:\n  ping_interval: 250ms\n  max_pings_out: 3\n' });
  const client = await connect(t, gateway.url);
  const errors = [];
  client.addEventListener('error', (e) => errors.push(e.detail));
  // Six of the server's ping intervals with nothing else to do.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(client.status, 'connected');
  assert.deepEqual(errors, []);
  assert.equal(JSON.parse(await gateway.admin('/varz')).stale_connections, 0);
});

test('offline drops the connection and holds reconnecting until online', async (t) => {
  const gateway = await startGateway(t);
  const network = new EventTarget();
  const client = await connect(t, gateway.url, { ...quick, networkEvents: network });
  const disconnected = nextStatus(client, 'disconnected');
  network.dispatchEvent(new Event('offline'));
  assert.match((await disconnected).error.message, /offline/);
  await new Promise((resolve) => setTimeout(resolve, 300)); // many reconnect delays
  assert.equal(client.status, 'disconnected', 'no attempt while offline');
  const connected = nextStatus(client, 'connected');
  network.dispatchEvent(new Event('online'));
  await connected;
});

test('maxReconnectAttempts closes the connection with the last error', async (t) => {
  const gateway = await startGateway(t);
  const client = await connect(t, gateway.url, { ...quick, maxReconnectAttempts: 3 });
  const closed = nextStatus(client, 'closed');
  await gateway.kill();
  const { error } = await closed;
  assert.equal(error.kind, 'connect_failed');
  assert.equal(await client.closed(), error);
});

test('backoff grows from reconnectDelay to reconnectDelayMax, jittered in the upper half', async () => {
  const { Backoff } = await import('../src/backoff.js');
  const low = new Backoff(250, 10_000, () => 0);
  const high = new Backoff(250, 10_000, () => 0.999999);
  const lows = Array.from({ length: 8 }, () => low.next());
  const highs = Array.from({ length: 8 }, () => high.next());
  assert.deepEqual(lows, [125, 250, 500, 1000, 2000, 4000, 5000, 5000]);
  assert.deepEqual(highs, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  low.reset();
  assert.equal(low.next(), 125);
});

test('a client that cannot reach the gateway at first fails, or waits with waitOnFirstConnect', async (t) => {
  const relay = await startRelay(t); // refuses until it has a target
  await assert.rejects(connect(t, relay.url), { kind: 'connect_failed' });
  const gateway = await startGateway(t);
  const pending = connect(t, relay.url, { ...quick, waitOnFirstConnect: true });
  await waitFor('a few refused attempts', () => relay.accepted >= 3);
  relay.target = gateway.ports.websocket;
  const client = await pending;
  assert.equal(client.status, 'connected');
});
