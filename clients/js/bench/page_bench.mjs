// Publish throughput of psycho.js inside headless Chromium, against the real gateway: the
// same page publishes N 16-byte messages one per event-loop turn, then P per turn (batched by
// the client into one WebSocket message per turn), and a second connection in the page counts
// them in. Prints messages/s side by side and the ratio. Usage: page_bench.mjs [N] [P]
import { Gateway } from '../testkit/gateway.mjs';
import { openPage } from '../testkit/page.mjs';

const total = Number(process.argv[2] ?? 20_000);
const perTurn = Number(process.argv[3] ?? 100);

const gateway = await new Gateway().start();
const browser = await openPage();
try {
  const results = await browser.page.evaluate(async ({ url, total, perTurn }) => {
    const { connect } = window.psycho;
    // A macrotask without the 4 ms clamp of nested timers: one "turn" of the event loop.
    const channel = new MessageChannel();
    const nextTurn = () => new Promise((resolve) => {
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(null);
    });
    const payload = new Uint8Array(16);
    async function run(mode, batch) {
      const pub = await connect(url);
      const sub = await connect(url);
      let received = 0;
      let resolveAll;
      const all = new Promise((resolve) => { resolveAll = resolve; });
      sub.subscribe(`bench.${mode}`, { callback: () => { if (++received === total) resolveAll(); } });
      await sub.flush();
      const started = performance.now();
      for (let sent = 0; sent < total;) {
        for (let i = 0; i < batch && sent < total; ++i, ++sent) pub.publish(`bench.${mode}`, payload);
        await nextTurn();
        if (sent % 10_000 === 0) await pub.flush(); // bounds what is in flight
      }
      await all;
      const seconds = (performance.now() - started) / 1000;
      const out = { mode, perTurn: batch, messages: total, seconds, rate: total / seconds,
        frames: pub.stats.framesSent, dropped: pub.stats.droppedPublishes };
      await pub.close();
      await sub.close();
      return out;
    }
    return [await run('single', 1), await run('batched', perTurn)];
  }, { url: gateway.url, total, perTurn });
  for (const r of results) {
    console.log(`${r.mode.padEnd(8)} ${String(r.perTurn).padStart(5)} per turn: ${Math.round(r.rate).toLocaleString('en-US').padStart(9)} msgs/s ` +
      `(${r.messages} in ${r.seconds.toFixed(2)} s, ${r.frames} WebSocket messages, ${r.dropped} dropped)`);
  }
  console.log(`batched / single: ${(results[1].rate / results[0].rate).toFixed(1)}x`);
  if (browser.errors.length > 0) console.log(`console errors: ${browser.errors.join('; ')}`);
} finally {
  await browser.close();
  await gateway.stop();
}
