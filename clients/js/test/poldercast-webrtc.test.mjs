// Pages of one headless Chromium link to one another with WebRTC data channels whose offers,
// answers and ICE candidates travel through the overlay (no signalling server, no STUN or
// TURN on loopback). Once linked they keep delivering to one another, exactly once, with
// every gateway stopped, and a page reloaded then rejoins through a surviving page (found over
// the rendezvous BroadcastChannel) and links directly to every other; a 1 MiB publication
// crosses a data channel in fragments; a page that sends malformed frames is cut off and
// counted; a closed tab is noticed by its peers, and the page that joined through it keeps
// delivering over its own channels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../testkit/gateway.mjs';
import { converge, startOverlayGateways } from '../testkit/overlay.mjs';
import { openPage, WEBRTC_ARGS } from '../testkit/page.mjs';

function join(page, url, subjects, options = {}) {
  return page.evaluate(async ({ url, subjects, options }) => {
    const conn = await window.psycho.connectOverlay(url, { cycle: 100, ...options });
    window.conn = conn;
    window.got = {};
    window.big = [];
    for (const subject of subjects) {
      conn.subscribe(subject, {
        callback: (err, msg) => {
          if (subject === 'p2p.big') {
            let sum = 0;
            for (const b of msg.data) sum = (sum + b) % 65521;
            window.big.push({ length: msg.data.length, sum });
            return;
          }
          const key = msg.string();
          window.got[key] = (window.got[key] ?? 0) + 1;
        },
      });
    }
    return conn.address;
  }, { url, subjects, options });
}

const got = (page) => page.evaluate(() => window.got);
const peerStats = (page) => page.evaluate(() => window.conn.stats.peers);
const publishAll = (page, prefix, n) => page.evaluate(({ prefix, n }) => {
  for (let i = 0; i < n; ++i) window.conn.publish('p2p.x', `${prefix} ${i}`);
}, { prefix, n });

/** Every page hears every other page's `n` publications tagged `tag`, each exactly once. */
async function allOnce(pages, tag, n) {
  const want = (who) => pages.flatMap((_, j) => (j === who ? [] : Array.from({ length: n }, (__, i) => `${tag}${j} ${i}`)));
  await waitFor(`every ${tag} publication at every page`, async () => {
    for (let i = 0; i < pages.length; ++i) {
      const counts = await got(pages[i]);
      if (!want(i).every((k) => counts[k] >= 1)) return false;
    }
    return true;
  }, 20_000);
  for (let i = 0; i < pages.length; ++i) {
    const counts = await got(pages[i]);
    for (const k of want(i)) assert.equal(counts[k], 1, `page ${i}: "${k}" once`);
    assert.equal(counts[`${tag}${i} 0`], undefined, `page ${i} does not hear itself`);
  }
}

/** Every page hears every other's probes tagged `tag`, then has a data channel to each. */
async function linkAll(pages, tag) {
  let heard = [];
  await converge(`every page to hear every other (${tag})`, async () => {
    for (const [i, page] of pages.entries()) await page.evaluate(([i, tag]) => window.conn.publish('p2p.x', `${tag}${i}`), [i, tag]);
    heard = await Promise.all(pages.map(got));
  }, () => heard.every((h, i) => pages.every((_, j) => j === i || h[`${tag}${j}`] > 0)));
  // At least one to each other page: a reloaded page's old channels may take a while to be
  // seen closed by the others on a busy machine.
  await waitFor(`data channels between every pair of pages (${tag})`, async () =>
    (await Promise.all(pages.map(peerStats))).every((s) => s.open >= pages.length - 1), 40_000);
}

test('in Chromium: pages link over data channels signalled through the overlay and outlive the gateways', async (t) => {
  const gateways = await startOverlayGateways(t, 2);
  const browser = await openPage({ pages: 4, args: WEBRTC_ARGS });
  t.after(() => browser.close());
  const pages = browser.pages;
  const addresses = [];
  for (const [i, page] of pages.entries()) {
    // The rendezvous channel is on by default in a page: nothing asks for it here.
    addresses.push(await join(page, gateways[i % 2].overlayUrl, ['p2p.x', ...(i === 2 ? ['p2p.big'] : [])]));
  }

  // Each page talks to the others through the gateways first; data channels follow.
  await linkAll(pages, 'probe');

  for (const [i, page] of pages.entries()) await publishAll(page, `a${i}`, 30);
  await allOnce(pages, 'a', 30);

  // The people-to-people proof: no gateway left, the pages go on over their channels.
  for (const g of gateways) await g.kill('SIGKILL');
  await waitFor('every page to see its gateway gone', async () =>
    (await Promise.all(pages.map((p) => p.evaluate(() => window.conn.status)))).every((s) => s !== 'connected'));
  for (const [i, page] of pages.entries()) await publishAll(page, `b${i}`, 30);
  await allOnce(pages, 'b', 30);

  // 1 MiB from page 0 to page 2, in 16 KiB fragments over their channel.
  const sent = await pages[0].evaluate(() => {
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; ++i) data[i] = (i * 7 + 3) & 0xff;
    window.conn.publish('p2p.big', data);
    let sum = 0;
    for (const b of data) sum = (sum + b) % 65521;
    return { length: data.length, sum };
  });
  await waitFor('the 1 MiB publication', async () => (await pages[2].evaluate(() => window.big.length)) > 0, 20_000);
  assert.deepEqual(await pages[2].evaluate(() => window.big), [sent]);

  // A page reloads (all its state gone) with every gateway still down: the same call finds
  // no gateway, and joins through a surviving page found on the rendezvous channel. That
  // page relays for it until it has channels of its own to every other page.
  const started = Date.now();
  await pages[1].reload();
  await pages[1].waitForFunction(() => document.title === 'ready', null, { timeout: 10_000 });
  addresses[1] = await join(pages[1], gateways[1].overlayUrl, ['p2p.x']);
  const via = addresses[1].slice(addresses[1].indexOf('@') + 1);
  const host = addresses.indexOf(via);
  assert.ok(host >= 0 && host !== 1, `${addresses[1]} joined through a surviving page`);
  await linkAll(pages, 'again');
  for (const [j, page] of pages.entries()) {
    if (j === 1) continue;
    assert.ok(await page.evaluate((a) => window.conn.peers.links.get(a)?.open === true, addresses[1]),
      `page ${j} has its own channel to the rejoined page`);
  }
  for (const page of pages) await page.evaluate(() => { window.got = {}; });
  for (const [i, page] of pages.entries()) await publishAll(page, `r${i}`, 30);
  await allOnce(pages, 'r', 30);
  const relayed = await pages[host].evaluate(() => window.conn.stats.relay);
  assert.ok(relayed.forwarded > 0, 'the page joined through passed messages on for it');
  assert.equal(relayed.malformed + relayed.refused, 0, JSON.stringify(relayed));
  t.diagnostic(`reload to rejoined and linked to every page: ${Date.now() - started} ms; relayed ${JSON.stringify(relayed)}`);

  // What the relaying page refuses to pass on: an envelope whose message speaks for another
  // page than the channel's (malformed), and one neither from nor for a page it relays for.
  const [k, other] = [0, 2, 3].filter((i) => i !== host);
  await pages[k].evaluate(([host, rejoined, other]) => {
    const { module, peers } = window.conn;
    const id = (a) => a.slice(4, 20);
    const spoofed = module.encodeSignal(id(other), other, new TextEncoder().encode('{"t":"call"}'));
    peers.send(host, module.encodeRelay(rejoined, spoofed));
    const own = module.encodeSignal(id(window.conn.address), window.conn.address, new TextEncoder().encode('{"t":"call"}'));
    peers.send(host, module.encodeRelay(other, own));
  }, [addresses[host], addresses[1], addresses[other]]);
  await waitFor('the relaying page to refuse both', async () => {
    const r = await pages[host].evaluate(() => window.conn.stats.relay);
    return r.malformed === 1 && r.refused === 1;
  });

  // The page the rejoined one came through turns hostile: it sends another page a frame no
  // node sends, and that page cuts the link and counts it.
  const target = k;
  const before = await peerStats(pages[target]);
  await pages[host].evaluate((to) => window.conn.peers.links.get(to).channel.send(new Uint8Array([7, 1, 2])), addresses[target]);
  await waitFor('the malformed frame counted', async () => (await peerStats(pages[target])).malformed > before.malformed);
  assert.equal(await pages[target].evaluate((from) => window.conn.peers.links.has(from), addresses[host]), false);

  // Then its tab closes without a word: the others route around it at once (their nodes
  // find it silent, as a crashed gateway), and drop its channels once its connection is
  // gone. The rejoined page loses the page it joined through, but keeps its node and
  // address while it has channels of its own: it goes on delivering both ways.
  await pages[host].close();
  const live = pages.filter((_, i) => i !== host);
  for (const [i, page] of live.entries()) await publishAll(page, `c${i}`, 20);
  await allOnce(live, 'c', 20);
  for (const [i, page] of pages.entries()) {
    if (i === host || i === target) continue;
    await waitFor('the closed tab\'s channel dropped', async () =>
      !(await page.evaluate((gone) => window.conn.peers.links.has(gone), addresses[host])), 30_000);
  }
  assert.equal(await pages[1].evaluate(() => window.conn.address), addresses[1], 'the rejoined page kept its node');
  const created = await Promise.all(live.map((p) => p.evaluate(() => window.conn.stats.peers.created)));
  for (const n of created) assert.ok(n <= 10, `RTCPeerConnections created: ${n}`);
  assert.deepEqual(browser.errors.filter((e) => !e.includes('WebSocket')), [], 'no console errors');
});

test('in Chromium: a page keeps within its RTCPeerConnection budget as peers come and go, the relay carrying the rest', async (t) => {
  const [gateway] = await startOverlayGateways(t, 1);
  const browser = await openPage({ pages: 4, args: WEBRTC_ARGS });
  t.after(() => browser.close());
  const [frugal, ...others] = browser.pages;
  await frugal.evaluate(async (url) => {
    window.conn = await window.psycho.connectOverlay(url, { cycle: 100, maxPeerConnections: 2 });
    window.got = {};
    window.conn.subscribe('p2p.x', { callback: (err, msg) => {
      window.got[msg.string()] = (window.got[msg.string()] ?? 0) + 1;
    } });
  }, gateway.overlayUrl);
  const heardFrom = async (page, tag) => {
    let heard = false;
    await converge(`the frugal page to hear ${tag}`, async () => {
      await page.evaluate((tag) => window.conn.publish('p2p.x', tag), tag);
      heard = await frugal.evaluate((tag) => window.got[tag] > 0, tag);
    }, () => heard);
  };
  for (const [i, page] of others.entries()) {
    await join(page, gateway.overlayUrl, ['p2p.x']);
    await heardFrom(page, `hello${i}`);
  }
  // Peers come and go, 200 times: each newcomer is a new node the frugal page may want a
  // link to. Every one joins the overlay for real (its node gossips with a peer and is in
  // the subject's ring) and publishes; every 20th must be heard by the frugal page.
  const comer = others[2];
  const started = Date.now();
  for (let round = 0; round < 200; ++round) {
    await comer.evaluate(() => window.conn.close());
    await join(comer, gateway.overlayUrl, ['p2p.x'], { maxPeerConnections: 12 });
    await comer.waitForFunction(() => window.conn.overlay().vicinity > 0 && window.conn.overlay().rings > 0,
      null, { timeout: 10_000, polling: 10 });
    if (round % 20 === 19) await heardFrom(comer, `round${round}`);
    else await comer.evaluate((tag) => window.conn.publish('p2p.x', tag), `round${round}`);
  }
  t.diagnostic(`200 joins and leaves: ${Date.now() - started} ms`);
  const stats = await frugal.evaluate(() => window.conn.stats.peers);
  assert.ok(stats.createdInPage <= 2, `created ${stats.createdInPage}`);
  assert.ok(stats.refusedBudget > 0, 'links were refused for the budget');
  // What the budget refused, the relay carried: every publication still arrives once.
  for (const [i, page] of others.entries()) await publishAll(page, `z${i}`, 10);
  await waitFor('every publication at the frugal page', async () => {
    const c = await got(frugal);
    return others.every((_, i) => Array.from({ length: 10 }, (__, k) => c[`z${i} ${k}`] === 1).every(Boolean));
  }, 20_000);
  // Two hundred and one nodes in one tab, each wanting links to three peers: the tab's budget holds.
  const comerCreated = await comer.evaluate(() => window.conn.stats.peers.createdInPage);
  assert.ok(comerCreated <= 12, `the coming and going page created ${comerCreated}`);
});
