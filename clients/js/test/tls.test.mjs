// wss://: the client over the gateway's TLS WebSocket listener, with a certificate made for
// this test (a self-signed one the client is told to trust) and one it does not trust.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WebSocket, connect, take } from '../testkit/client.mjs';
import { startGateway } from '../testkit/gateway.mjs';
import { PsychoError, connect as psychoConnect } from '../src/psycho.js';

/** A gateway whose listeners speak TLS with a fresh self-signed certificate for 127.0.0.1. */
async function startTlsGateway(t) {
  const dir = mkdtempSync(path.join(tmpdir(), 'psycho-js-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
  const config = `gateway:\n  tls:\n    cert_file: ${cert}\n    key_file: ${key}\n`;
  const gateway = await startGateway(t, { config });
  return { ca: readFileSync(cert), url: `wss://127.0.0.1:${gateway.ports.websocket}/` };
}

test('wss: publish and subscribe over a TLS WebSocket', async (t) => {
  const { ca, url } = await startTlsGateway(t);
  // ws takes TLS options per socket; the client constructs `new WebSocket(url)`.
  class TrustingWebSocket extends WebSocket {
    constructor(address, protocols) { super(address, protocols, { ca }); }
  }
  const a = await connect(t, url, { WebSocket: TrustingWebSocket });
  const b = await connect(t, url, { WebSocket: TrustingWebSocket });
  const sub = b.subscribe('secure.>');
  await b.flush();
  a.publish('secure.hello', 'over tls');
  assert.deepEqual(await take(sub, 1), ['over tls']);
  const reply = b.subscribe('time', { callback: (_, msg) => msg.respond('now') });
  await b.flush();
  assert.equal((await a.request('time', '', { timeout: 5000 })).string(), 'now');
  reply.unsubscribe();
});

test('wss: a certificate the client does not trust fails the first connect with connect_failed', async (t) => {
  const { url } = await startTlsGateway(t);
  await assert.rejects(psychoConnect(url, { WebSocket, timeout: 5000 }), (err) => {
    assert.ok(err instanceof PsychoError);
    assert.equal(err.kind, 'connect_failed');
    return true;
  });
});
