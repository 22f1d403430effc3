// Both apps peer to peer, in headless Chromium: each page runs a PolderCast node of its own
// (psycho.js connectOverlay, chosen by ?overlay=) linked through a different gateway of a
// two-gateway overlay. Music Room: notes cross both ways in order, presence agrees, a closed
// page leaves; the same between a page in the overlay and a page that is a gateway's client. Psycho Store: two pages write the same keys at once and converge; a late page
// has everything at its ready event. No console errors; screenshots kept.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../testkit/gateway.mjs';
import { appUrl, launchBrowser, openApp, repo, screenshot, waitForBridge } from '../testkit/apps.mjs';
import { startOverlayGateways } from '../testkit/overlay.mjs';
import { WEBRTC_ARGS } from '../testkit/page.mjs';
import { wasmPath, wasmUrl } from '../testkit/wasm.mjs';
import { playAcross, roomReady, roomUrls } from '../testkit/music.mjs';

/** The gateways serve the repository; the built module must be inside it to reach a page. */
function wasmRoute() {
  wasmUrl(); // says how to build it when it is missing
  const relative = path.relative(repo, wasmPath);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`${wasmPath} is outside ${repo}, which the gateways serve: build into ${repo}/build`);
  }
  return `/${relative.split(path.sep).join('/')}`;
}

/** Query parameters that make a page an overlay node linked through `gateway`. */
const asNode = (gateway) => ({ overlay: gateway.overlayUrl, wasm: wasmRoute(), cycle: 100 });

// One overlay of two gateways for the whole file (each test uses its own room or store).
let east;
let west;
const cleanups = [];
after(async () => { for (const cleanup of cleanups.reverse()) await cleanup(); });
before(async () => {
  const scope = { after: (cleanup) => cleanups.push(cleanup) };
  [east, west] = await startOverlayGateways(scope, 2, { extra: ['--websocket-static', repo] });
  await waitForBridge(scope, east, west);
  await waitForBridge(scope, west, east);
});

test('music room peer to peer: two pages as overlay nodes on two gateways play together', async (t) => {
  await playAcross(t, roomUrls(east, west, 'p2p', asNode), 'p2p', {
    args: WEBRTC_ARGS,
    beforeLeave: async (ann, bob) => {
      for (const page of [ann, bob]) {
        assert.equal(await page.$eval('#mode', (e) => e.dataset.mode), 'overlay');
        assert.equal(await page.evaluate(() => window.room.conn.constructor.name), 'OverlayConnection');
      }
      const peers = await bob.evaluate(() => window.room.conn.stats.peers);
      t.diagnostic(`p2p: bob's data channels ${JSON.stringify(peers)}`);
      await screenshot(bob, 'music-room-p2p');
    },
  });
});

test('music room, mixed: a page through a gateway of the overlay plays with a page in it', async (t) => {
  const onlyWest = (gateway) => (gateway === west ? asNode(gateway) : {});
  await playAcross(t, roomUrls(east, west, 'mixed', onlyWest), 'mixed', { args: WEBRTC_ARGS });
});

test('apps page: choosing peer to peer opens an app as an overlay node', async (t) => {
  const browser = await launchBrowser(t, ['--autoplay-policy=no-user-gesture-required', ...WEBRTC_ARGS]);
  const index = await openApp(browser, `http://127.0.0.1:${east.ports.websocket}/apps/`, () => document.readyState === 'complete');
  const { page } = index;
  assert.equal(await page.isDisabled('#overlay'), true, 'through the gateway unless chosen');
  await page.check('input[name="mode"][value="overlay"]');
  await page.fill('#overlay', east.overlayUrl);
  await page.fill('#room', 'chosen');
  await page.press('#room', 'Enter');
  await page.waitForURL(/music-room/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('overlay'), east.overlayUrl);
  assert.equal(url.searchParams.get('room'), 'chosen');
  // The module the page loads by default is the repository's build/wasm/poldercast.mjs.
  if (wasmRoute() === '/build/wasm/poldercast.mjs') {
    await page.waitForFunction(roomReady, null, { timeout: 20_000 });
    assert.equal(await page.$eval('#mode', (e) => e.dataset.mode), 'overlay');
  }
  assert.deepEqual(page.errors, [], 'console errors');
});

const storeReady = () => window.app?.ready === true && window.app.presence !== null;
const dump = () => JSON.stringify([...window.app.store.state.entries].sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([k, e]) => [k, e.value ? new TextDecoder().decode(e.value) : null, e.version]));

test('psycho store peer to peer: overlay nodes on two gateways converge; a late page catches up', async (t) => {
  const browser = await launchBrowser(t, WEBRTC_ARGS);
  const open = (gateway, name) => openApp(browser,
    appUrl(gateway, 'store', { store: 'p2p', name, presence: 500, ...asNode(gateway) }), storeReady);
  const a = await open(east, 'ann');
  const b = await open(west, 'bob');
  await waitFor('both presence lists', async () => {
    const lists = await Promise.all([a.page, b.page].map((p) => p.$$eval('#members .name', (els) => els.map((e) => e.textContent).join())));
    return lists.every((l) => l === 'ann,bob');
  }, 15_000);
  // 200 writes to the same ten keys from both pages at once.
  await Promise.all([[a, 'ann'], [b, 'bob']].map(([{ page }, name]) => page.evaluate((who) => {
    for (let i = 0; i < 100; ++i) window.app.store.put(`k${i % 10}`, `${who} #${i}`);
  }, name)));
  const converged = async (pages, what) => {
    await waitFor(what, async () => new Set(await Promise.all(pages.map((p) => p.evaluate(dump)))).size === 1, 30_000);
    return JSON.parse(await pages[0].evaluate(dump));
  };
  const contents = await converged([a.page, b.page], 'two overlay pages to converge');
  assert.equal(contents.length, 10);

  // A late page: its snapshot comes over the overlay, answered by whichever replica hears first.
  const c = await open(east, 'cat');
  assert.equal(await c.page.evaluate(() => window.app.keysAtReady), 10, 'everything, at the ready event');
  assert.deepEqual(await converged([a.page, b.page, c.page], 'the late page'), contents);
  await screenshot(c.page, 'store-p2p');
  for (const [name, { page }] of Object.entries({ a, b, c })) assert.deepEqual(page.errors, [], `console errors on page ${name}`);
});
