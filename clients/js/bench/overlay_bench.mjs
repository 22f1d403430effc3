// Page to page in headless Chromium, two ways side by side in one run: over a WebRTC data
// channel between two overlay nodes (connectOverlay, linked through one gateway that then
// carries nothing of it), and page -> gateway -> page (psycho.js's connect on the gateway's
// client WebSocket listener). For each: throughput (N messages of 16 B, published as fast as
// the path takes them, counted in at the other page) and one-way latency (M messages paced
// 10 per 5 ms, each carrying its send time on the clock both pages share:
// performance.timeOrigin + performance.now()). Usage: overlay_bench.mjs [N] [M]
import { waitFor } from '../testkit/gateway.mjs';
import { startOverlayGateways } from '../testkit/overlay.mjs';
import { openPage, WEBRTC_ARGS } from '../testkit/page.mjs';

const total = Number(process.argv[2] ?? 20_000);
const paced = Number(process.argv[3] ?? 2_000);
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

const [gateway] = await startOverlayGateways(t, 1);
const browser = await openPage({ pages: 2, args: WEBRTC_ARGS });
const [sender, receiver] = browser.pages;

// Opens the connections of one way in both pages (window.conn) and, for the overlay,
// waits until their data channel is open and the rings carry a probe.
async function setup(way) {
  const url = way === 'p2p' ? gateway.overlayUrl : gateway.url;
  for (const page of [sender, receiver]) {
    await page.evaluate(async ({ way, url }) => {
      await window.conn?.close();
      window.conn = way === 'p2p' ? await window.psycho.connectOverlay(url, { cycle: 100 })
        : await window.psycho.connect(url);
      window.heard = 0;
      window.delays = [];
      window.conn.subscribe(`bench.${way}`, { callback: (err, msg) => {
        window.heard += 1;
        if (msg.data.length === 8) {
          window.delays.push(performance.timeOrigin + performance.now() - new DataView(msg.data.buffer, msg.data.byteOffset).getFloat64(0));
        }
      } });
      if (way !== 'p2p') await window.conn.flush();
    }, { way, url });
  }
  await waitFor(`${way}: the receiver to hear probes`, async () => {
    await sender.evaluate((way) => window.conn.publish(`bench.${way}`, 'probe'), way);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return receiver.evaluate(() => window.heard > 0);
  }, 30_000);
  if (way === 'p2p') {
    await waitFor('the data channel', () => sender.evaluate(() => window.conn.stats.peers.open > 0), 30_000);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  await receiver.evaluate(() => { window.heard = 0; window.delays = []; });
}

async function throughput(way) {
  const started = await sender.evaluate(async ({ way, total }) => {
    const payload = new Uint8Array(16);
    const t0 = performance.timeOrigin + performance.now();
    for (let sent = 0; sent < total;) {
      for (let i = 0; i < 100 && sent < total; ++i, ++sent) window.conn.publish(`bench.${way}`, payload);
      if (sent % 1000 === 0) await window.conn.flush(); // bounds what is in flight
      else await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return t0;
  }, { way, total });
  await waitFor(`${way}: ${total} messages`, () => receiver.evaluate((n) => window.heard >= n, total), 120_000);
  const ended = await receiver.evaluate(() => performance.timeOrigin + performance.now());
  const heard = await receiver.evaluate(() => window.heard);
  return { rate: total / ((ended - started) / 1000), heard };
}

async function latency(way) {
  await receiver.evaluate(() => { window.heard = 0; window.delays = []; });
  await sender.evaluate(async ({ way, paced }) => {
    for (let sent = 0; sent < paced; sent += 10) {
      for (let i = 0; i < 10; ++i) {
        const stamp = new Uint8Array(8);
        new DataView(stamp.buffer).setFloat64(0, performance.timeOrigin + performance.now());
        window.conn.publish(`bench.${way}`, stamp);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }, { way, paced });
  await waitFor(`${way}: ${paced} timed messages`, () => receiver.evaluate((n) => window.delays.length >= n, paced), 60_000);
  const delays = (await receiver.evaluate(() => window.delays)).sort((a, b) => a - b);
  const at = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

try {
  const rows = [];
  for (const way of ['p2p', 'gateway']) {
    await setup(way);
    const tp = await throughput(way);
    const lat = await latency(way);
    rows.push({ way, ...tp, ...lat });
  }
  const label = { p2p: 'page -> page (data channel)', gateway: 'page -> gateway -> page' };
  for (const r of rows) {
    console.log(`${label[r.way].padEnd(28)} ${Math.round(r.rate).toLocaleString('en-US').padStart(8)} msgs/s` +
      `  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.heard} of ${total} heard)`);
  }
  if (browser.errors.length > 0) console.log(`console errors: ${browser.errors.join('; ')}`);
} finally {
  await browser.close();
  for (const fn of cleanups.reverse()) await fn();
}
