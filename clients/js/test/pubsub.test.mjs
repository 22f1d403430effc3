import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket, connect, take } from '../testkit/client.mjs';
import { startGateway } from '../testkit/gateway.mjs';

test('a message goes from one connection to another, with its reply subject', async (t) => {
  const gateway = await startGateway(t);
  const a = await connect(t, gateway.url, { name: 'a' });
  const b = await connect(t, gateway.url);
  assert.equal(a.status, 'connected');
  assert.equal(a.info.server_name, 'psycho-gateway');
  const sub = b.subscribe('greet.joe');
  await b.flush();
  a.publish('greet.joe', 'hello', { reply: 'back.here' });
  const [msg] = await Promise.all([sub[Symbol.asyncIterator]().next()]);
  assert.equal(msg.value.subject, 'greet.joe');
  assert.equal(msg.value.reply, 'back.here');
  assert.equal(msg.value.string(), 'hello');
});

test('wildcards: * is one token, > the rest; a message matching two patterns reaches both', async (t) => {
  const gateway = await startGateway(t);
  const pub = await connect(t, gateway.url);
  const sub = await connect(t, gateway.url);
  const star = sub.subscribe('a.*');
  const tail = sub.subscribe('a.>');
  await sub.flush();
  for (const subject of ['a.b', 'a.b.c', 'x.y', 'a']) pub.publish(subject, subject);
  assert.deepEqual(await take(tail, 2), ['a.b', 'a.b.c']);
  assert.deepEqual(await take(star, 1), ['a.b']);
});

test('queue groups: each message reaches one member', async (t) => {
  const gateway = await startGateway(t);
  const pub = await connect(t, gateway.url);
  const members = await Promise.all([1, 2, 3].map(() => connect(t, gateway.url)));
  const counts = [0, 0, 0];
  const all = new Promise((resolve) => {
    members.forEach((m, i) => m.subscribe('jobs', {
      queue: 'workers',
      callback: (err, msg) => {
        assert.equal(err, null);
        counts[i] += 1;
        if (counts.reduce((x, y) => x + y) === 300) resolve(msg);
      },
    }));
  });
  await Promise.all(members.map((m) => m.flush()));
  for (let i = 0; i < 300; ++i) pub.publish('jobs', String(i));
  await all;
  await Promise.all(members.map((m) => m.flush()));
  assert.equal(counts.reduce((x, y) => x + y), 300, 'each message once');
  assert.ok(counts.every((c) => c > 0), `every member got some: ${counts}`);
});

test('payloads: binary bytes arrive intact and text is counted in UTF-8 bytes', async (t) => {
  const gateway = await startGateway(t);
  const a = await connect(t, gateway.url);
  const sub = a.subscribe('bytes.>');
  await a.flush();
  const b = await connect(t, gateway.url);
  const binary = new Uint8Array(256).map((_, i) => i); // includes CR, LF, NUL
  const text = 'héllo wörld ✓ 😀 日本語\r\nMSG x 1\r\n';
  b.publish('bytes.bin', binary);
  b.publish('bytes.text', text);
  b.publish('bytes.empty');
  const it = sub[Symbol.asyncIterator]();
  assert.deepEqual((await it.next()).value.data, binary);
  const got = (await it.next()).value;
  assert.equal(got.string(), text);
  assert.equal(got.data.length, new TextEncoder().encode(text).length);
  assert.ok(got.data.length > text.length, 'more bytes than UTF-16 units');
  assert.equal((await it.next()).value.data.length, 0);
});

test('headers go out with HPUB and come back decoded', async (t) => {
  const gateway = await startGateway(t);
  const a = await connect(t, gateway.url);
  const sub = a.subscribe('h');
  await a.flush();
  const b = await connect(t, gateway.url);
  b.publish('h', 'body', { headers: { 'X-One': '1', 'X-Many': ['a', 'b'] } });
  const msg = (await sub[Symbol.asyncIterator]().next()).value;
  assert.equal(msg.string(), 'body');
  assert.equal(msg.headers.get('x-one'), '1');
  assert.deepEqual(msg.headers.getAll('X-Many'), ['a', 'b']);
});

test('unsubscribe stops delivery, max ends a subscription after that many messages', async (t) => {
  const gateway = await startGateway(t);
  const a = await connect(t, gateway.url);
  const b = await connect(t, gateway.url);
  const gone = a.subscribe('u');
  const three = a.subscribe('u', { max: 3 });
  const kept = a.subscribe('u.>');
  await a.flush();
  gone.unsubscribe();
  await a.flush();
  for (let i = 0; i < 5; ++i) b.publish('u', String(i));
  b.publish('u.end', 'end');
  assert.deepEqual(await take(kept, 1), ['end']);
  const received = [];
  for await (const msg of three) received.push(msg.string());
  assert.deepEqual(received, ['0', '1', '2']);
  assert.equal(gone.received, 0);
  assert.ok(three.isClosed);
});

test('the publishes of one event-loop turn leave in one WebSocket message', async (t) => {
  const gateway = await startGateway(t);
  let sends = 0;
  class CountingWebSocket extends WebSocket {
    send(data, ...rest) {
      sends += 1;
      return super.send(data, ...rest);
    }
  }
  const a = await connect(t, gateway.url, { WebSocket: CountingWebSocket });
  const sub = a.subscribe('batch');
  const b = await connect(t, gateway.url, { WebSocket: CountingWebSocket });
  await a.flush();
  const before = sends;
  for (let i = 0; i < 1000; ++i) b.publish('batch', String(i));
  await new Promise((resolve) => setTimeout(resolve, 0)); // the turn ends, the batch leaves
  assert.equal(sends - before, 1, 'one send() for 1000 publishes');
  assert.equal(b.stats.framesSent, 2, 'the handshake, then the batch');
  const got = await take(sub, 1000);
  assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => String(i)));
});

test('bad subjects and payloads fail at the call', async (t) => {
  const gateway = await startGateway(t);
  const a = await connect(t, gateway.url);
  assert.throws(() => a.publish('a.*', 'x'), { kind: 'bad_subject' });
  assert.throws(() => a.publish('a..b', 'x'), { kind: 'bad_subject' });
  assert.throws(() => a.publish('a b', 'x'), { kind: 'bad_subject' });
  assert.throws(() => a.subscribe('a.>.b'), { kind: 'bad_subject' });
  assert.throws(() => a.subscribe('a', { queue: 'q q' }), { kind: 'bad_subject' });
  assert.throws(() => a.publish('a', 42), { kind: 'bad_payload' });
  assert.throws(() => a.publish('a', 'x', { headers: { 'Bad Name': '1' } }), { kind: 'bad_payload' });
  const big = new Uint8Array(a.info.max_payload + 1);
  assert.throws(() => a.publish('a', big), { kind: 'max_payload' });
  await a.close();
  assert.throws(() => a.publish('a', 'x'), { kind: 'connection_closed' });
});
