// The Psycho Store page in headless Chromium: pages on two gateways bridged by a real
// nats-server edit the same keys at once and converge; a late page gets everything before its
// ready event; a page that was offline converges when back; compare-and-set conflicts are
// reported. Screenshot kept; no console errors allowed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../testkit/gateway.mjs';
import { startNats } from '../testkit/nats.mjs';
import { appUrl, launchBrowser, openApp, screenshot, startAppGateway, waitForBridge } from '../testkit/apps.mjs';

const ready = () => window.app?.ready === true && window.app.presence !== null;
// A page's contents: key, value and version of every entry, tombstones included.
const dump = () => JSON.stringify([...window.app.store.state.entries]
  .sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([k, e]) => [k, e.value ? new TextDecoder().decode(e.value) : null, e.version]));

async function converged(pages, what) {
  await waitFor(what, async () => {
    const dumps = await Promise.all(pages.map((p) => p.evaluate(dump)));
    return new Set(dumps).size === 1;
  }, 30_000);
  return JSON.parse(await pages[0].evaluate(dump));
}

/** `count` writes to keys k0..k19 from one page, yielding between batches as a person's edits would. */
function writeMany(page, name, count) {
  return page.evaluate(async ({ name, count }) => {
    for (let i = 0; i < count; ++i) {
      window.app.store.put(`k${i % 20}`, `${name} #${i}`);
      if (i % 25 === 24) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }, { name, count });
}

test('store pages on two bridged gateways converge, catch up late and offline, and report conflicts', async (t) => {
  const nats = await startNats(t);
  const [east, west] = await Promise.all([startAppGateway(t, nats.url), startAppGateway(t, nats.url)]);
  await waitForBridge(t, east, west);
  await waitForBridge(t, west, east);
  const browser = await launchBrowser(t);
  const query = (name) => ({ store: 'shared', name, presence: 500 });
  const a = await openApp(browser, appUrl(east, 'store', query('ann')), ready);
  const b = await openApp(browser, appUrl(east, 'store', query('bob')), ready);
  const c = await openApp(browser, appUrl(west, 'store', query('cat')), ready);
  const pages = [a.page, b.page, c.page];

  // 1,000 writes to the same twenty keys from three pages at once.
  await Promise.all([writeMany(a.page, 'ann', 334), writeMany(b.page, 'bob', 333), writeMany(c.page, 'cat', 333)]);
  const contents = await converged(pages, 'three pages to converge');
  assert.equal(contents.length, 20);
  // The table shows what the store holds.
  await a.page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 20);
  const shown = await a.page.$eval('#rows tr[data-key="k7"] input', (input) => input.value);
  assert.equal(shown, contents.find(([k]) => k === 'k7')[1]);

  // Everyone sees everyone.
  await waitFor('presence lists', async () => {
    const lists = await Promise.all(pages.map((p) => p.$$eval('#members .name', (els) => els.map((e) => e.textContent).join())));
    return lists.every((l) => l === 'ann,bob,cat');
  }, 10_000);

  // A fourth page joins late, on the other gateway: the whole state before its ready event.
  const d = await openApp(browser, appUrl(west, 'store', query('dan')), ready);
  pages.push(d.page);
  assert.equal(await d.page.evaluate(() => window.app.keysAtReady), 20, 'everything, at the ready event');
  assert.deepEqual(await converged(pages, 'the late page'), await a.page.evaluate(() => JSON.parse(
    JSON.stringify([...window.app.store.state.entries].sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([k, e]) => [k, e.value ? new TextDecoder().decode(e.value) : null, e.version])))));

  // Page cat goes offline and writes; the others write too; back online, all converge.
  await c.context.setOffline(true);
  await c.page.waitForFunction(() => window.app.conn.status !== 'connected');
  await c.page.waitForSelector('#status[data-state="offline"]');
  await c.page.evaluate(() => {
    for (let i = 0; i < 20; ++i) window.app.store.put(`offline-${i}`, 'written offline');
    window.app.store.put('k1', 'cat, offline');
    window.app.store.delete('k2');
  });
  await a.page.evaluate(() => { for (let i = 0; i < 20; ++i) window.app.store.put(`online-${i}`, 'written online'); });
  await c.context.setOffline(false);
  const after = await converged(pages, 'convergence after the offline page returns');
  const live = after.filter(([, v]) => v !== null);
  assert.equal(live.length, 20 - 1 + 20 + 20);
  assert.equal(after.find(([k]) => k === 'k1')[1], 'cat, offline', 'the latest write wins');

  // Compare-and-set: both from the same version while cat is offline, so neither hears the
  // other first. The loser learns of it by a conflict event; nothing is silently lost.
  await c.context.setOffline(true);
  await c.page.waitForFunction(() => window.app.conn.status !== 'connected');
  const base = await a.page.evaluate(() => window.app.store.version('k3'));
  await a.page.evaluate((v) => window.app.store.compareAndSet('k3', 'ann by cas', v), base);
  await c.page.evaluate((v) => window.app.store.compareAndSet('k3', 'cat by cas', v), base);
  await c.context.setOffline(false);
  await converged(pages, 'convergence after concurrent compare-and-set');
  const conflicts = await waitFor('the conflict to be reported', async () => {
    const counts = await Promise.all([a.page, c.page].map((p) => p.evaluate(() => window.app.conflicts.length)));
    return counts[0] + counts[1] === 1 ? counts : null;
  }, 15_000);
  const winner = await a.page.evaluate(() => new TextDecoder().decode(window.app.store.get('k3').value));
  assert.deepEqual(conflicts, winner === 'ann by cas' ? [0, 1] : [1, 0], 'the page whose write lost is told');

  // Through the page itself: an edit of a value someone else changed meanwhile is refused.
  const input = b.page.locator('#rows tr[data-key="k4"] input');
  await input.focus();
  await input.fill('bob edits');
  await a.page.evaluate(() => window.app.store.put('k4', 'ann got there first'));
  await b.page.waitForFunction(() => new TextDecoder().decode(window.app.store.get('k4').value) === 'ann got there first');
  await input.press('Enter');
  await b.page.waitForSelector('.notice[data-kind="warn"]');
  assert.match(await b.page.textContent('.notice[data-kind="warn"]'), /changed “k4” .* meanwhile/);
  await input.press('Enter'); // the second Enter overwrites, knowingly
  await converged(pages, 'the overwrite');
  assert.equal(await a.page.evaluate(() => new TextDecoder().decode(window.app.store.get('k4').value)), 'bob edits');

  // Adding a row with the keyboard.
  await a.page.focus('#new-key');
  await a.page.keyboard.type('typed-key');
  await a.page.keyboard.press('Tab');
  await a.page.keyboard.type('typed value');
  await a.page.keyboard.press('Enter');
  await d.page.waitForSelector('#rows tr[data-key="typed-key"]');

  await screenshot(a.page, 'store');
  for (const [name, { page }] of Object.entries({ a, b, c, d })) assert.deepEqual(page.errors, [], `console errors on page ${name}`);
});
