// The Music Room page in headless Chromium: two pages in one room; notes played with the
// computer keyboard in one are scheduled in the other in order, each at its slot (played +
// the fixed delay) or at once when it arrives later, and within 100 ms of being played;
// presence lists agree; a closed page leaves the other's list within the expiry.
// Screenshot kept; no console errors allowed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchBrowser, openApp, screenshot, startAppGateway } from '../testkit/apps.mjs';
import {
  EXPIRY_MS, assertInOrder, assertOnTimeline, memberNames as names, openPair, playMelody, roomUrls, warmUp, withinBound,
} from '../testkit/music.mjs';

test('music room: notes cross in time and in order; presence agrees and forgets a closed page', async (t) => {
  const gateway = await startAppGateway(t);
  // Sound without a click: the test has no person to click.
  const browser = await launchBrowser(t, ['--autoplay-policy=no-user-gesture-required']);
  // The page scripts/run's log points at leads to both apps.
  const index = await openApp(browser, `http://127.0.0.1:${gateway.ports.websocket}/apps/`, () => document.readyState === 'complete');
  await index.page.fill('#room', 'hall');
  await index.page.press('#room', 'Enter');
  await index.page.waitForFunction(() => window.room?.presence && document.title === 'hall · Music Room');
  assert.deepEqual(index.page.errors, [], 'console errors on the apps page');
  await index.context.close();

  const { ann, bob } = await openPair(browser, roomUrls(gateway, gateway, 'jam'), 5000);
  assert.equal(await bob.page.evaluate(() => window.room.audio.state), 'running');

  await warmUp(ann.page, bob.page);
  // A melody on ann's computer keyboard: each key down and up is a note on and off. Every
  // take keeps order and the page's timeline rule; on loopback the notes are scheduled within
  // 100 ms of being played (40 ms slot plus transit). A take with a note past the bound is
  // played again, up to three takes, and one must meet it: the host and the browser's own
  // processes stall both CPUs for 100-250 ms now and then (docs/apps.md), which no code here
  // can prevent. A change that made notes late in every take still fails; one that made them
  // late now and then would pass here, and shows in the printed transits and in bench/.
  // Three takes and the warm-up stay under the page's 60 notes a second from one player.
  const takes = [];
  let inTime = false;
  for (let take = 1; take <= 3 && !inTime; ++take) {
    const melody = await playMelody(ann.page, bob.page);
    const measured = assertInOrder(melody, `ann to bob, take ${take}`);
    assertOnTimeline(melody, `ann to bob, take ${take}`);
    t.diagnostic(`ann to bob, take ${take}: ${measured}`);
    takes.push(`take ${take}: ${measured}`);
    inTime = withinBound(melody, 100);
  }
  assert.ok(inTime, `no take scheduled every note within 100 ms:\n${takes.join('\n')}`);
  await bob.page.waitForFunction(() => document.querySelector('#feed li')?.textContent === 'ann: C5');

  // The on-screen keyboard, by pointer and by keyboard focus.
  await bob.page.click('#piano [data-midi="64"]');
  await bob.page.focus('#piano [data-midi="67"]');
  await bob.page.keyboard.press('Space');
  await ann.page.waitForFunction(() => window.room.noteLog.filter((n) => n.on).length === 2, null, { timeout: 5000 });
  assert.deepEqual(await ann.page.evaluate(() => window.room.noteLog.filter((n) => n.on).map((n) => n.n)), [64, 67]);

  await screenshot(bob.page, 'music-room');
  for (const [name, { page }] of Object.entries({ ann, bob })) assert.deepEqual(page.errors, [], `console errors on ${name}'s page`);

  // Ann closes her page: gone from bob's list within the expiry.
  const closedAt = Date.now();
  await ann.context.close();
  await bob.page.waitForFunction(() => document.querySelectorAll('#members li').length === 1, null, { timeout: EXPIRY_MS + 1000 });
  assert.ok(Date.now() - closedAt <= EXPIRY_MS + 1000, `gone after ${Date.now() - closedAt} ms`);
  assert.equal(await names(bob.page), 'bob');
  assert.deepEqual(bob.page.errors, [], "console errors on bob's page");
});
