// The Music Room across gateway fabrics, in headless Chromium: ann's page on one gateway,
// bob's on another, the two gateways joined by a real nats-server, by a PolderCast overlay
// of their own, or (music_multicast.test.mjs) by a multicast group. Each plays a melody to
// the other: every note arrives, in order, and is scheduled in order; presence lists agree;
// a closed page leaves the other's list. How long notes took is measured and printed (and
// said in any failure), not bounded: the 100 ms check belongs to one gateway on loopback
// (music_room.test.mjs), where nothing but the machine sits between the pages.
import { test } from 'node:test';
import { repo, startAppGateway, waitForBridge } from '../testkit/apps.mjs';
import { startNats } from '../testkit/nats.mjs';
import { startOverlayGateways } from '../testkit/overlay.mjs';
import { playAcross, roomUrls } from '../testkit/music.mjs';

test('music room: two gateways bridged by NATS', async (t) => {
  const nats = await startNats(t);
  const [east, west] = await Promise.all([startAppGateway(t, nats.url), startAppGateway(t, nats.url)]);
  await waitForBridge(t, east, west);
  await waitForBridge(t, west, east);
  await playAcross(t, roomUrls(east, west, 'nats'), 'nats');
});

test('music room: two gateways joined by PolderCast', async (t) => {
  const [east, west] = await startOverlayGateways(t, 2, { extra: ['--websocket-static', repo] });
  await waitForBridge(t, east, west);
  await waitForBridge(t, west, east);
  await playAcross(t, roomUrls(east, west, 'poldercast'), 'poldercast');
});
