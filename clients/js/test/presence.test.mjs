// Presence and clock offsets in Node against the real gateway.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../testkit/client.mjs';
import { startGateway, waitFor } from '../testkit/gateway.mjs';
import { joinPresence } from '../src/presence.js';
import { monotonicNow, startClockSync } from '../src/clock.js';

const names = (p) => p.members().map((m) => m.name).join(',');

test('members see each other, updates, a leave, and silence expire', async (t) => {
  const gateway = await startGateway(t);
  const conns = await Promise.all([0, 1, 2].map(() => connect(t, gateway.url)));
  const ann = await joinPresence(conns[0], 'room.presence', { name: 'ann', colour: '#ff0000', interval: 100 });
  t.after(() => ann.close());
  const bob = await joinPresence(conns[1], 'room.presence', { name: 'bob', colour: '#00ff00', interval: 100 });
  t.after(() => bob.close());
  // The newcomer asks; the others answer at once rather than at their next interval.
  await waitFor('bob to see ann', () => names(bob) === 'ann,bob', 1000);
  await waitFor('ann to see bob', () => names(ann) === 'ann,bob', 1000);
  assert.deepEqual(ann.members().find((m) => m.name === 'bob').colour, '#00ff00');

  bob.update({ name: 'bobby' });
  await waitFor('the new name', () => names(ann) === 'ann,bobby');

  const left = new Promise((resolve) => ann.addEventListener('leave', (e) => resolve(e.detail), { once: true }));
  bob.close();
  assert.equal((await left).reason, 'left');

  const cat = await joinPresence(conns[2], 'room.presence', { name: 'cat', colour: '#0000ff', interval: 100 });
  await waitFor('cat', () => names(ann) === 'ann,cat');
  const expired = new Promise((resolve) => ann.addEventListener('leave', (e) => resolve(e.detail), { once: true }));
  const silentAt = Date.now();
  clearInterval(cat.timer); // falls silent without a goodbye, as a crashed page does
  cat.closed = true;
  const detail = await expired;
  assert.equal(detail.reason, 'expired');
  // Three intervals, plus room for a busy machine's late timer.
  assert.ok(Date.now() - silentAt <= 100 * 3 + 1000, 'within three intervals');
  assert.equal(names(ann), 'ann');
});

test('presence refuses a bad profile and ignores malformed announcements', async (t) => {
  const gateway = await startGateway(t);
  const conn = await connect(t, gateway.url);
  await assert.rejects(joinPresence(conn, 'p', { colour: 'red' }), /colour/);
  const p = await joinPresence(conn, 'p', { name: 'me' });
  t.after(() => p.close());
  const other = await connect(t, gateway.url);
  other.publish('p', 'not json');
  other.publish('p', JSON.stringify({ id: 'x', name: 'x', colour: 'blue' }));
  await other.flush();
  await waitFor('both seen', () => p.stats.ignored === 2);
  assert.equal(p.members().length, 1);
});

test('clock sync estimates a peer clock offset within the round trip', async (t) => {
  const gateway = await startGateway(t);
  const [c1, c2] = await Promise.all([connect(t, gateway.url), connect(t, gateway.url)]);
  const ahead = await startClockSync(c1, 'room.clock', { id: 'ahead', now: () => monotonicNow() + 5000 });
  const here = await startClockSync(c2, 'room.clock', { id: 'here' });
  t.after(() => { ahead.close(); here.close(); });
  const { offset, rtt } = await here.measure('ahead');
  assert.ok(Math.abs(offset - 5000) <= rtt / 2 + 1, `offset ${offset} (rtt ${rtt})`);
  assert.ok(Math.abs(here.toLocal('ahead', monotonicNow() + 5000) - monotonicNow()) <= rtt / 2 + 2);
});

test('clock sync skips a round trip that fails, and rejects only when none succeeds', async (t) => {
  const gateway = await startGateway(t);
  const [c1, c2] = await Promise.all([connect(t, gateway.url), connect(t, gateway.url)]);
  const here = await startClockSync(c2, 'room.clock', { id: 'here', samples: 3, timeout: 200 });
  t.after(() => here.close());
  await assert.rejects(here.measure('nobody'));
  // Answers only the second question of each measurement, as if the first were lost.
  let asked = 0;
  const sub = c1.subscribe('room.clock.flaky', {
    callback: (err, msg) => {
      if (!err && msg.reply && ++asked % 3 === 2) msg.respond(JSON.stringify({ t: monotonicNow() }));
    },
  });
  t.after(() => sub.unsubscribe());
  await c1.flush();
  const { rtt } = await here.measure('flaky');
  assert.equal(asked, 3);
  assert.ok(rtt >= 0);
});
