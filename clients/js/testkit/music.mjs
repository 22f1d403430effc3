// Two Music Room pages playing to each other, for the browser tests: on one gateway, on two
// gateways joined by a fabric (NATS, multicast, PolderCast), or as nodes of the overlay
// itself. Each page stamps a note with its own clock (timeOrigin + now): pages of one
// machine share that timeline, so a note's delay is the listener's time minus the player's.
import assert from 'node:assert/strict';
import { waitFor } from './gateway.mjs';
import { appUrl, launchBrowser, openApp } from './apps.mjs';

/** Presence announcements every 300 ms, so a closed page is forgotten within a second. */
export const PRESENCE_MS = 300;
export const EXPIRY_MS = 3 * PRESENCE_MS;

/** The page is up: connected, and its presence joined. */
export const roomReady = () => document.querySelector('#status')?.dataset.state === 'online' && window.room?.presence;

/** The names in a page's presence list, comma separated, in the page's order. */
export const memberNames = (page) => page.$$eval('#members .name', (els) => els.map((e) => e.textContent).join());

/** Query parameters of a Music Room page in room `room`. */
export const roomQuery = (room, name, colour, more = {}) => ({ room, name, colour, presence: PRESENCE_MS, ...more });

/**
 * Opens two pages (`urls[0]` for ann, `urls[1]` for bob) and waits until each lists both and
 * has measured the other's clock.
 * @returns {Promise<{ann: any, bob: any}>} openApp results
 */
export async function openPair(browser, urls, ms = 10_000) {
  const ann = await openApp(browser, urls[0], roomReady);
  const bob = await openApp(browser, urls[1], roomReady);
  await waitFor('both presence lists to hold both', async () =>
    (await memberNames(ann.page)) === 'ann,bob' && (await memberNames(bob.page)) === 'ann,bob', ms);
  const [annId, bobId] = await Promise.all([ann.page, bob.page].map((p) => p.evaluate(() => window.room.id)));
  await bob.page.waitForFunction((id) => window.room.clock.offsets.has(id), annId, { timeout: ms });
  await ann.page.waitForFunction((id) => window.room.clock.offsets.has(id), bobId, { timeout: ms });
  return { ann, bob };
}

/**
 * One note first, as a person tries the keyboard: its path through both pages (and, on a
 * fabric, the subscriptions it finds on the way) is set up before the melody is timed.
 * Played until heard, since a fabric may still be settling who subscribes to what.
 */
export async function warmUp(from, to, ms = 10_000) {
  await waitFor('a first note to cross', async () => {
    await from.keyboard.press('l');
    try {
      await to.waitForFunction(() => window.room.noteLog.length >= 2, null, { timeout: 500 });
      return true;
    } catch {
      return false;
    }
  }, ms);
  // Late copies of the tries may still be under way: wait until the log stops growing.
  let count = -1;
  await waitFor('the first notes to settle', async () => {
    const now = await to.evaluate(() => window.room.noteLog.length);
    if (now === count) return true;
    count = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return false;
  }, ms);
}

/**
 * Plays eight notes (on and off) on `from`'s computer keyboard and waits until `to` has
 * scheduled all sixteen events; both pages' logs are emptied first. `delayMs` is the page's
 * fixed delay, for assertOnTimeline.
 * @returns {Promise<{played: any[], heard: any[], delays: number[], transits: number[], delayMs: number}>}
 */
export async function playMelody(from, to, ms = 10_000) {
  await to.evaluate(() => { window.room.noteLog.length = 0; });
  await from.evaluate(() => { window.room.played.length = 0; });
  for (const key of ['a', 's', 'd', 'f', 'g', 'h', 'j', 'k']) {
    await from.keyboard.down(key);
    await from.keyboard.up(key);
  }
  const played = await from.evaluate(() => window.room.played);
  assert.equal(played.length, 16);
  await to.waitForFunction((n) => window.room.noteLog.length >= n, played.length, { timeout: ms });
  const { heard, delayMs } = await to.evaluate(() => ({ heard: window.room.noteLog, delayMs: window.room.delayMs }));
  const delays = heard.map((note, i) => note.scheduledAt - (played[i]?.t ?? NaN));
  const transits = heard.map((note, i) => note.receivedAt - (played[i]?.t ?? NaN));
  return { played, heard, delays, transits, delayMs };
}

/**
 * The listener's promise, whatever the machine's speed: a note sounds at its slot (the moment
 * it was played plus the fixed delay, on the listener's clock) or, when it arrives after its
 * slot, at once and counted late; never before its slot, never before an earlier note of the
 * same player (`heldTo`, the page's target for that one, logged with the note). Pages of one
 * machine share a timeline, so the listener's estimate of the player's clock (logged with
 * each note) may be off by no more than half the round trip it was measured with (Cristian's
 * bound), plus 2 ms for two processes' clock stamps. (On one machine the true offset is 0, so
 * an offset applied with the wrong sign would pass unseen; tests across machines would see
 * it.) How long a note took to arrive is the machine's business, not the page's: it is
 * reported (assertInOrder's message, the test's diagnostics), bounded only by the
 * single-gateway test (withinBound), and measured in bench/.
 */
export function assertOnTimeline({ played, heard, delayMs }, what) {
  for (const [i, note] of heard.entries()) {
    assert.ok(note.clock, `${what}: note ${i} placed without a measured clock`);
    const slack = note.clock.rtt / 2 + 2;
    assert.ok(Math.abs(note.clock.offset) <= slack,
      `${what}: clock offset ${note.clock.offset.toFixed(1)} ms between pages of one machine (rtt ${note.clock.rtt.toFixed(1)} ms)`);
    const slot = played[i].t + delayMs;
    // Where the page may place it at the latest: its slot, an earlier note's target, or now.
    const latest = Math.max(note.receivedAt, slot + slack, note.heldTo ?? -Infinity);
    const where = `${what}: note ${i} played at 0, slot ${delayMs} ms, arrived at ${(note.receivedAt - played[i].t).toFixed(1)} ms, ` +
      `scheduled at ${(note.scheduledAt - played[i].t).toFixed(1)} ms (slack ${slack.toFixed(1)} ms)`;
    assert.ok(note.scheduledAt >= slot - slack, `${where}: scheduled before its slot`);
    assert.ok(note.scheduledAt <= latest, `${where}: held past its slot`);
    if (note.late) assert.ok(note.receivedAt >= slot - slack, `${where}: counted late on time`);
    else assert.ok(note.receivedAt <= latest, `${where}: late but not counted`);
  }
}

/** Whether every note of a melody was scheduled within `ms` of being played. */
export const withinBound = ({ delays }, ms) => delays.every((d) => d >= 0 && d <= ms);

/** Every note arrived once, in the order played, and was scheduled in that order. */
export function assertInOrder({ played, heard, delays, transits }, what) {
  const measured = `scheduled after ${delays.map((d) => d.toFixed(1)).join(', ')} ms; ` +
    `arrived after ${transits.map((d) => d.toFixed(1)).join(', ')} ms`;
  assert.deepEqual(heard.map((n) => [n.seq, n.n, n.on]), played.map((n) => [n.seq, n.n, n.on]),
    `${what}: every note, in order (${measured})`);
  for (let i = 1; i < heard.length; ++i) {
    assert.ok(heard[i].scheduledAt >= heard[i - 1].scheduledAt, `${what}: note ${i} scheduled in order (${measured})`);
    assert.ok(heard[i].audioTime >= heard[i - 1].audioTime, `${what}: note ${i} in order on the AudioContext (${measured})`);
  }
  return measured;
}

/**
 * The pages of ann (served by `east`) and bob (by `west`) in room `room`; `more(gateway)`
 * adds query parameters for the page that gateway serves.
 */
export function roomUrls(east, west, room, more = () => ({})) {
  return [appUrl(east, 'music-room', roomQuery(room, 'ann', '#e03131', more(east))),
    appUrl(west, 'music-room', roomQuery(room, 'bob', '#1971c2', more(west)))];
}

/**
 * Ann's and bob's pages (`urls`, from roomUrls) in room `room`: the melody both ways, then
 * ann leaves (after `beforeLeave(annPage, bobPage)`). `t.diagnostic` records the measured
 * delays.
 * @returns {Promise<void>}
 */
export async function playAcross(t, urls, room, { args = [], beforeLeave = async () => {} } = {}) {
  const browser = await launchBrowser(t, ['--autoplay-policy=no-user-gesture-required', ...args]);
  const { ann, bob } = await openPair(browser, urls);
  for (const [from, to, what] of [[ann, bob, 'ann to bob'], [bob, ann, 'bob to ann']]) {
    await warmUp(from.page, to.page);
    const melody = await playMelody(from.page, to.page);
    const measured = assertInOrder(melody, `${room}, ${what}`);
    assertOnTimeline(melody, `${room}, ${what}`);
    t.diagnostic(`${room}, ${what}: ${measured}`);
  }
  assert.equal(await memberNames(ann.page), await memberNames(bob.page), 'presence lists agree');
  for (const [name, { page }] of Object.entries({ ann, bob })) assert.deepEqual(page.errors, [], `console errors on ${name}'s page`);
  await beforeLeave(ann.page, bob.page);

  const closedAt = Date.now();
  await ann.context.close();
  await bob.page.waitForFunction(() => document.querySelectorAll('#members li').length === 1, null, { timeout: EXPIRY_MS + 2000 });
  t.diagnostic(`${room}: ann gone from bob's list after ${Date.now() - closedAt} ms`);
  assert.equal(await memberNames(bob.page), 'bob');
  assert.deepEqual(bob.page.errors, [], "console errors on bob's page");
}
