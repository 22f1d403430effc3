import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { connect } from '../testkit/client.mjs';
import { startGateway, waitFor } from '../testkit/gateway.mjs';

test('request/reply: each request gets its own answer through one inbox subscription', async (t) => {
  const gateway = await startGateway(t);
  const service = await connect(t, gateway.url);
  service.subscribe('svc.double', { callback: (err, msg) => msg.respond(String(2 * Number(msg.string()))) });
  await service.flush();
  const client = await connect(t, gateway.url);
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => client.request('svc.double', String(i))));
  assert.deepEqual(answers.map((m) => m.string()), Array.from({ length: 50 }, (_, i) => String(2 * i)));
  const varz = JSON.parse(await gateway.admin('/varz'));
  assert.equal(varz.subscriptions, 2, "the service's and the client's one inbox");
});

test('a request nobody can take fails at once with kind no_responders', async (t) => {
  const gateway = await startGateway(t);
  const client = await connect(t, gateway.url);
  const started = Date.now();
  await assert.rejects(client.request('nobody.home', 'x', { timeout: 5000 }), { kind: 'no_responders' });
  assert.ok(Date.now() - started < 2000, 'not a timeout');
});

test('a request a subscriber takes and does not answer fails with kind timeout, in its own time', async (t) => {
  const gateway = await startGateway(t);
  const silent = await connect(t, gateway.url);
  silent.subscribe('nobody.home', { callback: () => {} });
  await silent.flush();
  const client = await connect(t, gateway.url);
  const started = Date.now();
  await assert.rejects(client.request('nobody.home', 'x', { timeout: 200 }), (e) => {
    assert.equal(e.name, 'PsychoError');
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /nobody\.home/);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
});

test('a "no responders" status (as a bridged NATS sends it) fails the request at once', async (t) => {
  const gateway = await startGateway(t);
  // A raw TCP client answers with the bare 503 header block NATS uses for "no responders".
  const raw = net.connect(gateway.tcpPort, '127.0.0.1');
  t.after(() => raw.destroy());
  let input = '';
  raw.on('data', (chunk) => {
    input += chunk;
    const m = /MSG svc\.none (\S+) \d+\r?\n/.exec(input);
    if (m) {
      input = '';
      raw.write(`HPUB ${m[1]} 16 16\r\nNATS/1.0 503\r\n\r\n\r\n`);
    }
  });
  raw.write('CONNECT {"verbose":false}\r\nSUB svc.none\r\nPING\r\n');
  await waitFor('the raw subscriber', () => input.includes('PONG'));
  const client = await connect(t, gateway.url);
  await assert.rejects(client.request('svc.none', 'x', { timeout: 5000 }), { kind: 'no_responders' });
});

test('a request pending when the connection closes fails with connection_closed', async (t) => {
  const gateway = await startGateway(t);
  // Without noResponders the gateway does not answer for the missing responder either.
  const client = await connect(t, gateway.url, { noResponders: false });
  const pending = client.request('never', 'x', { timeout: 10_000 });
  await client.close();
  await assert.rejects(pending, { kind: 'connection_closed' });
});
