// Serves clients/js to a real headless Chromium (Debian's, driven by playwright-core) from a
// node http server on port 0, and opens a page that has imported psycho.js as `window.psycho`.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { wasmPath } from './wasm.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = `<!doctype html><meta charset="utf-8"><title>psycho.js</title><link rel="icon" href="data:,">
<script type="module">
  import * as psycho from '/src/psycho.js';
  window.psycho = psycho;
  document.title = 'ready';
</script>`;
const TYPES = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8' };
// The built PolderCast module is served where the browser node looks for it by default.
const WASM_ROUTE = '/src/poldercast/poldercast.mjs';

/**
 * @returns {Promise<http.Server>} serving / (the page), /src/* (the module's files) and the
 * PolderCast node built by scripts/build (build/wasm/poldercast.mjs) beside its loader
 */
export async function serveClient() {
  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': TYPES['.html'] }).end(PAGE);
      return;
    }
    const file = url.pathname === WASM_ROUTE ? wasmPath : path.join(root, path.normalize(url.pathname));
    if (url.pathname !== WASM_ROUTE &&
        (!url.pathname.startsWith('/src/') || !file.startsWith(path.join(root, 'src')))) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'text/plain' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// What WebRTC between pages on loopback needs, with no STUN or TURN server.
export const WEBRTC_ARGS = ['--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns'];

/**
 * Launches Chromium and opens `pages` pages (each its own tab); collects console errors and
 * page errors in `errors`. `page` is the first.
 * @param {{pages?: number, args?: string[]}} [options]
 * @returns {Promise<{browser: import('playwright-core').Browser, context: any, page: any, pages: any[], errors: string[], open: () => Promise<any>, close: () => Promise<void>}>}
 */
export async function openPage({ pages: count = 1, args = [] } = {}) {
  const server = await serveClient();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', ...args],
  });
  const context = await browser.newContext();
  const errors = [];
  const open = async () => {
    const page = await context.newPage();
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.title === 'ready', null, { timeout: 10_000 });
    return page;
  };
  const pages = [];
  for (let i = 0; i < count; ++i) pages.push(await open());
  return {
    browser, context, page: pages[0], pages, errors, open,
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
