// The Psycho Store page: a live table of one store's keys that anyone can edit, and who is
// online. Everything goes through the store library (store.NAME.>) and presence on
// store.NAME.presence; `window.app` exposes both for the browser tests.
import { PsychoStore } from '../../clients/js/src/store.js';
import { joinPresence } from '../../clients/js/src/presence.js';
import {
  bindProfileForm, connectShown, fatal, notice, overlayCycle, overlayUrl, params, profile, renderMembers, showState,
} from '../shared/session.js';

const storeName = params.get('store') ?? 'demo';
const presenceInterval = Number(params.get('presence') ?? 2000);
const decoder = new TextDecoder();
/** @type {Map<string, {name: string, colour: string}>} who each replica id belongs to */
const writers = new Map();
/** @type {Map<string, HTMLTableRowElement>} */
const rows = new Map();
const dirty = new Set();
let renderQueued = false;

async function main() {
  document.getElementById('store-name').textContent = storeName;
  document.title = `${storeName} · Psycho Store`;
  const me = profile();
  const conn = await connectShown(`store page ${me.name}`);
  // As an overlay node, the snapshot request of a newcomer waits until the overlay finds it
  // another replica (its walks give up after three gossip cycles): it is given that long
  // before the page takes itself for the first.
  const store = new PsychoStore(conn, storeName,
    overlayUrl() ? { snapshotTimeout: Math.max(2000, 3 * overlayCycle()) } : {});
  const id = store.replica; // presence uses the same id, so writers can be named
  const app = { conn, store, presence: null, conflicts: [], errors: [], ready: false, keysAtReady: -1 };
  window.app = app;
  // Listeners first, then start: the ready event cannot fire before anyone listens.
  store.addEventListener('ready', () => {
    app.ready = true;
    app.keysAtReady = store.keys().length;
    if (conn.status === 'connected') showState('online', 'online');
    notice(`Joined: ${store.keys().length} keys`);
  });
  store.addEventListener('conflict', (e) => {
    const { key, winner } = e.detail;
    app.conflicts.push(e.detail);
    notice(`Your edit of “${key}” lost to a concurrent edit by ${writerName(winner.r)}.`, 'warn');
  });
  store.addEventListener('error', (e) => {
    app.errors.push(e.detail.kind);
    notice(e.detail.message, 'error');
  });
  store.watch('', { callback: (change) => { if (change.key) queueRender(store, change.key); } });
  conn.addEventListener('status', (e) => {
    if (e.detail.status === 'connected' && !store.isReady) showState('joining', 'joining…');
  });
  showState('joining', 'joining…');
  await store.start();
  const presence = await joinPresence(conn, `store.${storeName}.presence`, { id, ...me, interval: presenceInterval });
  app.presence = presence;
  window.addEventListener('pagehide', () => presence.close());

  const people = () => {
    for (const m of presence.members()) writers.set(m.id, { name: m.name, colour: m.colour });
    renderMembers(presence.members());
  };
  presence.addEventListener('change', people);
  people();
  bindProfileForm(presence);
  bindAddForm(store);
  document.getElementById('filter').addEventListener('input', () => renderAll(store));
}

function writerName(replica) {
  return writers.get(replica)?.name ?? `replica ${replica.slice(0, 6)}`;
}

function queueRender(store, key) {
  dirty.add(key);
  if (renderQueued) return;
  renderQueued = true;
  // One render per burst of changes (a thousand writes cost one pass over the table).
  queueMicrotask(() => {
    renderQueued = false;
    for (const k of dirty) renderRow(store, k);
    dirty.clear();
    summarise(store);
  });
}

function renderAll(store) {
  for (const key of new Set([...rows.keys(), ...store.keys()])) renderRow(store, key);
  summarise(store);
}

function summarise(store) {
  const count = store.keys().length;
  document.getElementById('summary').textContent = `· ${count} key${count === 1 ? '' : 's'}`;
  document.getElementById('empty').hidden = count > 0;
}

function renderRow(store, key) {
  const entry = store.get(key);
  const filter = document.getElementById('filter').value;
  let row = rows.get(key);
  if (!entry || !key.startsWith(filter)) {
    row?.remove();
    rows.delete(key);
    return;
  }
  if (!row) {
    row = makeRow(store, key);
    rows.set(key, row);
    const body = document.getElementById('rows');
    const after = [...rows.keys()].filter((k) => k > key && rows.get(k).isConnected).sort()[0];
    body.insertBefore(row, after ? rows.get(after) : null);
  }
  const input = row.querySelector('input');
  const text = decoder.decode(entry.value);
  if (document.activeElement === input) {
    if (input.dataset.seen !== text) row.title = `Changed by ${writerName(entry.version.r)} while you edit: “${text}”`;
  } else {
    input.value = text;
    input.dataset.version = JSON.stringify(entry.version);
  }
  input.dataset.seen = text;
  const who = writers.get(entry.version.r);
  const cell = row.querySelector('.who');
  cell.replaceChildren();
  const dot = document.createElement('span');
  dot.className = 'dot';
  dot.style.background = who?.colour ?? '#999';
  cell.append(dot, writerName(entry.version.r));
  row.classList.remove('flash');
  void row.offsetWidth; // restarts the highlight
  row.classList.add('flash');
}

function makeRow(store, key) {
  const row = document.createElement('tr');
  row.dataset.key = key;
  row.innerHTML = '<td class="key"></td><td class="value"><input type="text"></td><td class="who"></td><td class="actions"><button type="button">Delete</button></td>';
  row.querySelector('.key').textContent = key;
  const input = row.querySelector('input');
  input.setAttribute('aria-label', `Value of ${key}`);
  input.addEventListener('focus', () => { row.title = ''; });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') commitEdit(store, key, input);
    if (event.key === 'Escape') {
      input.dataset.version = JSON.stringify(store.version(key));
      input.blur();
      renderRow(store, key);
    }
  });
  const button = row.querySelector('button');
  button.setAttribute('aria-label', `Delete ${key}`);
  button.addEventListener('click', () => {
    store.delete(key);
    notice(`Deleted “${key}”`);
  });
  return row;
}

function commitEdit(store, key, input) {
  const expected = JSON.parse(input.dataset.version ?? 'null');
  try {
    const version = store.compareAndSet(key, input.value, expected);
    input.dataset.version = JSON.stringify(version);
    input.blur();
    renderRow(store, key);
  } catch (e) {
    if (e.kind !== 'cas_conflict') {
      notice(e.message, 'error');
      return;
    }
    const now = store.get(key);
    const by = now ? writerName(now.version.r) : 'someone';
    notice(`${by} changed “${key}” to “${now ? decoder.decode(now.value) : '(deleted)'}” meanwhile. Press Enter again to overwrite it.`, 'warn');
    window.app.conflicts.push({ key, local: true });
    input.dataset.version = JSON.stringify(e.current);
  }
}

function bindAddForm(store) {
  const form = document.getElementById('add');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = form.elements.namedItem('key').value.trim();
    const value = form.elements.namedItem('value').value;
    try {
      store.compareAndSet(key, value, null);
      form.reset();
      form.elements.namedItem('key').focus();
    } catch (e) {
      notice(e.kind === 'cas_conflict' ? `“${key}” exists already: edit it in the table.` : e.message, 'error');
    }
  });
}

main().catch(fatal);
