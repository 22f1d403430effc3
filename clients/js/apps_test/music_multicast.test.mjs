// The Music Room across a multicast group, in headless Chromium: ann's page on one gateway,
// bob's on another, the gateways joined by nothing but a UDP multicast group (see
// music_fabrics.test.mjs for NATS and PolderCast, and what is checked). It sends to a group,
// so it runs only in a network namespace of its own: ctest's js_apps_multicast starts it
// through `unshare --net` with lo up and a multicast route on it, which sets
// PSYCHO_MULTICAST_NETNS (tests/CMakeLists.txt). Run any other way, it is skipped.
import { test } from 'node:test';
import { repo, startAppGateway, waitForBridge } from '../testkit/apps.mjs';
import { playAcross, roomUrls } from '../testkit/music.mjs';

// The group's port is shared by every gateway on it, so it cannot be "port 0": it is fixed,
// which is safe only because the namespace holds nothing but this test.
const MULTICAST = `multicast:
  group: 239.255.42.42:4245
  interface: 127.0.0.1
  announce_interval: 100ms
  peer_timeout: 2s
`;

test('music room: two gateways joined by multicast', { skip: process.env.PSYCHO_MULTICAST_NETNS !== '1' &&
    'sends to a multicast group: only in a network namespace of its own (ctest js_apps_multicast)' }, async (t) => {
  const [east, west] = await Promise.all([0, 1].map(() => startAppGateway(t, undefined, MULTICAST)));
  await waitForBridge(t, east, west);
  await waitForBridge(t, west, east);
  await playAcross(t, roomUrls(east, west, 'multicast'), 'multicast');
});
