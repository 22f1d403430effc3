// psycho.js in a real headless Chromium against the real gateway.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, take } from '../testkit/client.mjs';
import { startGateway } from '../testkit/gateway.mjs';
import { openPage } from '../testkit/page.mjs';

test('in Chromium: publish/subscribe, request/reply and a Node client on the same gateway', async (t) => {
  const gateway = await startGateway(t);
  const browser = await openPage();
  t.after(() => browser.close());
  const node = await connect(t, gateway.url);
  node.subscribe('svc.upper', { callback: (err, msg) => msg.respond(msg.string().toUpperCase()) });
  const fromPage = node.subscribe('page.out');
  await node.flush();

  const result = await browser.page.evaluate(async (url) => {
    const { connect, PsychoError } = window.psycho;
    const nc = await connect(url, { name: 'page' });
    window.nc = nc;
    const sub = nc.subscribe('page.*');
    await nc.flush();
    const other = await connect(url);
    for (let i = 0; i < 100; ++i) other.publish(`page.${i % 2 ? 'odd' : 'even'}`, `héllo ${i} ✓`);
    const got = [];
    for await (const msg of sub) {
      got.push(msg.string());
      if (got.length === 100) break;
    }
    const reply = await nc.request('svc.upper', 'wörld');
    let nobody = null;
    try {
      await nc.request('nobody', 'x', { timeout: 100 });
    } catch (e) {
      nobody = e instanceof PsychoError ? e.kind : String(e);
    }
    nc.publish('page.out', new Uint8Array([0, 13, 10, 255]));
    await other.close();
    return { first: got[0], count: got.length, reply: reply.string(), nobody, frames: other.stats.framesSent };
  }, gateway.url);

  assert.equal(result.count, 100);
  assert.equal(result.first, 'héllo 0 ✓');
  assert.equal(result.reply, 'WÖRLD');
  assert.equal(result.nobody, 'no_responders');
  assert.equal(result.frames, 2, 'the handshake, then 100 publishes in one message');
  const [bytes] = await Promise.all([(async () => {
    for await (const msg of fromPage) return [...msg.data];
    return null;
  })()]);
  assert.deepEqual(bytes, [0, 13, 10, 255]);

  // The browser's offline/online events drop and restore the connection.
  const statuses = await browser.page.evaluate(() => {
    const seen = [];
    window.nc.addEventListener('status', (e) => seen.push(e.detail.status));
    window.dispatchEvent(new Event('offline'));
    return new Promise((resolve) => {
      window.nc.addEventListener('status', (e) => { if (e.detail.status === 'connected') resolve(seen); });
      window.dispatchEvent(new Event('online'));
    });
  });
  assert.equal(statuses[0], 'disconnected');
  assert.equal(statuses.at(-1), 'connected');
  await browser.page.evaluate(() => window.nc.close());
  assert.deepEqual(browser.errors, [], 'no console errors');
});
