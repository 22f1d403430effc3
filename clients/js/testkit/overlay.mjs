// Gateways joined in a PolderCast overlay that browsers may link to (poldercast.websocket),
// for the browser-node tests: every listener binds port 0 and is read from the ports file.
// The overlay is plaintext: a gateway takes browser links on no other (docs/poldercast.md,
// "Browser peers and admission").
import WebSocket from 'ws';
import { connectOverlay } from '../src/psycho.js';
import { Gateway, waitFor } from './gateway.mjs';
import { wasmUrl } from './wasm.mjs';

/** The `poldercast:` section of a test gateway; `more` is added to it as it is. */
export function overlayConfig(dir, seeds, cycle, more = '') {
  return `poldercast:
  listen: 127.0.0.1:0
  websocket: 127.0.0.1:0
  admission: {plaintext: true}
  cycle: ${cycle}
  state_dir: ${dir}/state
  seeds: [${seeds.join(', ')}]
${more}`;
}

/**
 * Starts `count` gateways, each seeded with the first; `t.after` stops them. `more`: lines
 * added to their `poldercast:` section (indented by two spaces); `extra`: more command-line
 * arguments.
 * @returns {Promise<Gateway[]>} each with `overlayUrl` (browser links) and `overlayAddress`
 */
export async function startOverlayGateways(t, count, { cycle = '100ms', more = '', extra = [] } = {}) {
  const gateways = [];
  for (let i = 0; i < count; ++i) {
    const seeds = i === 0 ? [] : [gateways[0].overlayAddress];
    const gateway = new Gateway({ extra });
    gateway.options.config = overlayConfig(gateway.dir, seeds, cycle, more);
    await gateway.start();
    t.after(() => gateway.stop());
    gateway.overlayAddress = `127.0.0.1:${gateway.ports.poldercast}`;
    gateway.overlayUrl = `ws://127.0.0.1:${gateway.ports['poldercast.websocket']}/`;
    gateways.push(gateway);
  }
  return gateways;
}

/** connectOverlay() under Node (ws, the built module); `t.after` closes it. */
export async function joinOverlay(t, url, options = {}) {
  const conn = await connectOverlay(url, { WebSocket, wasm: wasmUrl(), cycle: 100, ...options });
  t.after(() => conn.close());
  return conn;
}

/** One sample of the gateway's /metrics, 0 when absent. */
export async function metric(gateway, name) {
  const text = await gateway.admin('/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** A dropped_total sample of the poldercast adapter. */
export function dropped(gateway, reason) {
  return metric(gateway, `psycho_adapter_dropped_total{adapter="poldercast",reason="${reason}"}`);
}

/**
 * Calls `probe` every 100 ms until `heard()` is true (the overlay has converged for what the
 * probes exercise), then lets the last probes in flight arrive.
 */
export async function converge(what, probe, heard, ms = 20_000) {
  await waitFor(what, async () => {
    if (heard()) return true;
    probe();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return heard();
  }, ms);
  await new Promise((resolve) => setTimeout(resolve, 300));
}
