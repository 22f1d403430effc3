// The apps (apps/) in headless Chromium, served by the gateway itself: each gateway runs with
// --websocket-static at the repository root, so a page loaded from it connects back to it.
// Every page's console errors and uncaught exceptions are collected; screenshots go to the
// build's artifacts directory ($PSYCHO_ARTIFACTS_DIR, default build/artifacts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { connect } from './client.mjs';
import { startGateway, waitFor } from './gateway.mjs';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const artifacts = process.env.PSYCHO_ARTIFACTS_DIR ?? path.join(repo, 'build/artifacts');

/**
 * A gateway serving the repository's files, optionally bridged to NATS, optionally with a
 * configuration file's text (`config`); `t.after` stops it.
 */
export function startAppGateway(t, natsUrl, config) {
  const extra = ['--websocket-static', repo];
  if (natsUrl) extra.push('--nats', natsUrl);
  return startGateway(t, { extra, config });
}

/** The http URL of an app page on `gateway`, with query parameters. */
export function appUrl(gateway, page, query = {}) {
  return `http://127.0.0.1:${gateway.ports.websocket}/apps/${page}/?${new URLSearchParams(query)}`;
}

/**
 * Waits until a message published on `from` reaches a subscriber on `to`: the fabric between
 * them (NATS, multicast, PolderCast) carries traffic. Publishes again on each try, since interest may not have crossed yet.
 */
export async function waitForBridge(t, from, to) {
  const [sender, receiver] = await Promise.all([connect(t, from.url), connect(t, to.url)]);
  let arrived = false;
  receiver.subscribe('bridge.probe', { callback: () => { arrived = true; } });
  await receiver.flush();
  await waitFor('the fabric between two gateways to carry a message', async () => {
    sender.publish('bridge.probe', 'x');
    await sender.flush();
    return arrived;
  }, 15_000);
}

/**
 * Launches Debian's Chromium; `t.after` closes it. Every page is treated as the window a
 * person is looking at: Chromium would otherwise lower the priority of pages it thinks are
 * hidden, and their timers, which on a busy machine delays what they receive by far more
 * than the network does.
 */
export async function launchBrowser(t, args = []) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows', ...args],
  });
  t.after(() => browser.close());
  return browser;
}

/**
 * Opens `url` in a context of its own (so it can go offline alone) and waits for `ready`
 * (a page function) to be true. `page.errors` collects console errors and page errors.
 */
export async function openApp(browser, url, ready) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 20_000 });
  return { context, page };
}

/** Saves a screenshot of `page` as artifacts/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
