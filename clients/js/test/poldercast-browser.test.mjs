// The browser node in real headless Chromium: pages load the wasm node (the gateways' own
// protocol code) and join the overlay through real gateways; pages and a gateway-side
// Psycho client publish and subscribe through it, and each hears each publication once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../testkit/client.mjs';
import { waitFor } from '../testkit/gateway.mjs';
import { converge, dropped, startOverlayGateways } from '../testkit/overlay.mjs';
import { openPage, WEBRTC_ARGS } from '../testkit/page.mjs';

/** Joins the overlay from `page` through `url`; counts what `subjects` deliver in window.got. */
function join(page, url, subjects) {
  return page.evaluate(async ({ url, subjects }) => {
    const conn = await window.psycho.connectOverlay(url, { cycle: 100, name: 'page' });
    window.conn = conn;
    window.got = {};
    for (const subject of subjects) {
      conn.subscribe(subject, {
        callback: (err, msg) => {
          const key = `${subject} ${msg.string()}`;
          window.got[key] = (window.got[key] ?? 0) + 1;
        },
      });
    }
    return conn.address;
  }, { url, subjects });
}

const counts = (page) => page.evaluate(() => window.got);
const publish = (page, subject, texts) => page.evaluate(({ subject, texts }) => {
  for (const text of texts) window.conn.publish(subject, text);
}, { subject, texts });

test('in Chromium: pages and a gateway client share subjects through the overlay, each publication once', async (t) => {
  const [g1, g2] = await startOverlayGateways(t, 2);
  const browser = await openPage({ pages: 3 });
  t.after(() => browser.close());
  const [p0, p1, p2] = browser.pages;
  const address = await join(p0, g1.overlayUrl, ['chat.a', 'chat.b']);
  assert.match(address, /^web:[0-9a-f]{16}@127\.0\.0\.1:\d+$/);
  await join(p1, g1.overlayUrl, []); // subscribes to nothing, publishes
  await join(p2, g2.overlayUrl, ['chat.a']);
  const client = await connect(t, g2.url);
  const fromClient = {};
  client.subscribe('chat.a', { callback: (err, msg) => { fromClient[msg.string()] = (fromClient[msg.string()] ?? 0) + 1; } });
  client.subscribe('chat.b', { callback: (err, msg) => { fromClient[`b ${msg.string()}`] = (fromClient[`b ${msg.string()}`] ?? 0) + 1; } });
  await client.flush();

  let heard = {};
  await converge('the rings of chat.a and chat.b', async () => {
    await publish(p1, 'chat.a', ['probe']);
    await publish(p1, 'chat.b', ['probe']);
    client.publish('chat.a', 'probe');
    heard = { p0: await counts(p0), p2: await counts(p2) };
  }, () => heard.p0?.['chat.a probe'] > 0 && heard.p0?.['chat.b probe'] > 0 && heard.p2?.['chat.a probe'] > 0 &&
    fromClient.probe > 0 && fromClient['b probe'] > 0);
  const before = { p0: await counts(p0), p2: await counts(p2) };

  const texts = (who, n) => Array.from({ length: n }, (_, i) => `${who} ${i}`);
  await publish(p0, 'chat.a', texts('p0', 40));
  await publish(p1, 'chat.a', texts('p1', 40));
  await publish(p1, 'chat.b', texts('p1b', 40));
  for (const text of texts('client', 40)) client.publish('chat.a', text);

  const want = (got, keys) => keys.every((k) => got[k] === 1);
  const ofA = [...texts('p1', 40), ...texts('client', 40)];
  await waitFor('every publication at every subscriber', async () =>
    want(await counts(p0), [...ofA.map((k) => `chat.a ${k}`), ...texts('p1b', 40).map((k) => `chat.b ${k}`)]) &&
    want(await counts(p2), [...ofA, ...texts('p0', 40)].map((k) => `chat.a ${k}`)) &&
    want(fromClient, [...texts('p0', 40), ...texts('p1', 40)]) &&
    want(fromClient, texts('p1b', 40).map((k) => `b ${k}`)), 20_000);

  // Exactly once, and nothing else: every count is 1, and nothing came back to its publisher.
  const after = { p0: await counts(p0), p2: await counts(p2) };
  for (const who of ['p0', 'p2']) {
    for (const [key, n] of Object.entries(after[who])) {
      if (!key.endsWith(' probe')) assert.equal(n, 1, `${who}: ${key}`);
    }
    assert.equal(Object.keys(after[who]).length - Object.keys(before[who]).length,
      120, `${who}: the expected publications only`);
  }
  assert.equal(after.p0['chat.a p0 0'], undefined, 'no echo to the publishing page');
  for (const [key, n] of Object.entries(fromClient)) {
    if (!key.endsWith('probe')) assert.equal(n, 1, `client: ${key}`);
  }

  // A request from a page to a gateway client, answered through the overlay.
  client.subscribe('svc.echo', { callback: (err, msg) => msg.respond(`echo ${msg.string()}`) });
  await client.flush();
  const reply = await p1.evaluate(async () => {
    for (let i = 0; i < 50; ++i) {
      try {
        return (await window.conn.request('svc.echo', 'hi', { timeout: 300 })).string();
      } catch {
        // the responder's ring is still forming
      }
    }
    return null;
  });
  assert.equal(reply, 'echo hi');
  for (const g of [g1, g2]) assert.equal(await dropped(g, 'link_bad_address'), 0, 'nobody dialled a page');
  for (const page of browser.pages) await page.evaluate(() => window.conn.close());
  assert.deepEqual(browser.errors, [], 'no console errors');
});

test('in Chromium: 3 gateways and 8 pages, each publication at each subscriber exactly once', async (t) => {
  const subjects = ['s.0', 's.1', 's.2', 's.3'];
  const gateways = await startOverlayGateways(t, 3);
  const browser = await openPage({ pages: 8, args: WEBRTC_ARGS });
  t.after(() => browser.close());
  const pages = browser.pages;
  // Page i subscribes to two subjects of the set; the last page to none (it only publishes).
  const interests = pages.map((_, i) => (i === 7 ? [] : [subjects[i % 4], subjects[(i + 1) % 4]]));
  for (const [i, page] of pages.entries()) await join(page, gateways[i % 3].overlayUrl, interests[i]);
  const client = await connect(t, gateways[2].url);
  const clientGot = {};
  for (const subject of ['s.0', 's.2']) {
    client.subscribe(subject, { callback: (err, msg) => {
      const key = `${subject} ${msg.string()}`;
      clientGot[key] = (clientGot[key] ?? 0) + 1;
    } });
  }
  await client.flush();
  const subscribers = [...interests.map((subs, i) => ({ subs, counts: () => counts(pages[i]) })),
    { subs: ['s.0', 's.2'], counts: async () => clientGot }];
  // Each publisher publishes `texts` on every subject of the set, in one call.
  const publishers = [...pages.map((page) => (texts) => page.evaluate(({ subjects, texts }) => {
    for (const subject of subjects) for (const text of texts) window.conn.publish(subject, text);
  }, { subjects, texts })),
  async (texts) => { for (const subject of subjects) for (const x of texts) client.publish(subject, x); }];

  // Converged once every subscriber has heard a probe from every publisher on its subjects.
  let snapshot = [];
  await converge('every subscriber to hear every publisher', async () => {
    await Promise.all(publishers.map((pub, p) => pub([`probe${p}`])));
    snapshot = await Promise.all(subscribers.map((s) => s.counts()));
  }, () => snapshot.length > 0 && subscribers.every((s, i) => s.subs.every((subject) =>
    publishers.every((_, p) => p === i || snapshot[i][`${subject} probe${p}`] > 0))), 60_000);

  await Promise.all(publishers.map((pub, p) => pub(Array.from({ length: 5 }, (_, k) => `m${p}.${k}`))));
  const expected = (i) => subscribers[i].subs.flatMap((subject) => publishers.flatMap((_, p) =>
    (p === i ? [] : Array.from({ length: 5 }, (__, k) => `${subject} m${p}.${k}`))));
  await waitFor('every publication at every subscriber', async () => {
    for (const [i, s] of subscribers.entries()) {
      const c = await s.counts();
      if (!expected(i).every((k) => c[k] >= 1)) return false;
    }
    return true;
  }, 30_000);
  for (const [i, s] of subscribers.entries()) {
    const c = await s.counts();
    for (const k of expected(i)) assert.equal(c[k], 1, `subscriber ${i}: "${k}" once`);
    const stray = Object.keys(c).filter((k) => !k.includes('probe') && !expected(i).includes(k));
    assert.deepEqual(stray, [], `subscriber ${i}: nothing else`);
  }
  assert.deepEqual(browser.errors.filter((e) => !e.includes('WebSocket')), [], 'no console errors');
});
