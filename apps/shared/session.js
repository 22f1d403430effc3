// What both apps do the same way: find the gateway (the page's own origin, or ?gateway=),
// or join the PolderCast overlay as a node of its own (?overlay=), remember the person's name
// and colour, connect with the state shown in the header, list who is online, and show
// notices. Pages import psycho.js by a relative path: the gateway serves the repository root,
// so /apps/... and /clients/js/src/... share one origin.
import { connect, connectOverlay } from '../../clients/js/src/psycho.js';

export const params = new URLSearchParams(location.search);

// The side panel both pages share: who is online, and this person's name and colour.
const people = document.getElementById('people');
people.innerHTML = `<h2><span class="title"></span> (<span id="member-count">0</span>)</h2>
  <ul id="members" class="members" aria-live="polite"></ul>
  <form id="profile" class="profile">
    <label for="profile-name">Your name</label>
    <input id="profile-name" name="name" type="text" maxlength="64" required>
    <label for="profile-colour">Your colour</label>
    <input id="profile-colour" name="colour" type="color">
    <button type="submit">Save</button>
  </form>`;
people.querySelector('.title').textContent = people.dataset.title;

/** @returns {string} the WebSocket URL of the gateway that served this page (or ?gateway=) */
export function gatewayUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return params.get('gateway') ?? `${scheme}://${location.host}/`;
}

/**
 * The overlay listener (a gateway's `poldercast.websocket`) to join the PolderCast overlay
 * through as a node of this page's own (peer to peer), from ?overlay=; null: through the
 * gateway (psycho.js `connect`).
 * @returns {string | null}
 */
export function overlayUrl() {
  return params.get('overlay') || null;
}

/**
 * The overlay node's gossip period in milliseconds: ?cycle=, else the gateways' default (1 s).
 * A newcomer finds the others within a few of them.
 * @returns {number}
 */
export function overlayCycle() {
  return params.has('cycle') ? Number(params.get('cycle')) : 1000;
}

// The PolderCast node compiled to WebAssembly, as scripts/build leaves it in the repository
// the demo serves (?wasm= names another place).
const WASM = new URL('../../build/wasm/poldercast.mjs', import.meta.url).href;

const COLOURS = ['#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5', '#0c8599', '#d6336c', '#5c940d'];

/** The person's name and colour: ?name= / ?colour=, else remembered, else made up. */
export function profile() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem('psycho.profile') ?? '{}'); } catch { /* none */ }
  const name = params.get('name') ?? saved.name ?? `guest-${Math.floor(Math.random() * 900 + 100)}`;
  const colour = params.get('colour') ?? saved.colour ?? COLOURS[Math.floor(Math.random() * COLOURS.length)];
  return { name, colour };
}

/** @param {{name: string, colour: string}} p */
export function saveProfile(p) {
  try { localStorage.setItem('psycho.profile', JSON.stringify(p)); } catch { /* private mode */ }
}

/**
 * Shows a state in the header pill: connecting, joining, online, offline, error.
 * @param {string} state
 * @param {string} [text]
 */
export function showState(state, text) {
  const pill = document.getElementById('status');
  pill.dataset.state = state;
  pill.textContent = text ?? state;
}

/** A short notice, announced to screen readers; gone after a while. */
export function notice(text, kind = 'info') {
  const box = document.getElementById('notices');
  const el = document.createElement('div');
  el.className = 'notice';
  el.dataset.kind = kind;
  el.textContent = text;
  box.append(el);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => el.remove(), 6000);
}

/** Says in the header how this page reaches the others: through a gateway, or peer to peer. */
function showMode(overlay) {
  const mode = document.createElement('span');
  mode.id = 'mode';
  mode.className = 'mode';
  mode.dataset.mode = overlay ? 'overlay' : 'gateway';
  mode.textContent = overlay ? 'peer to peer' : 'through the gateway';
  mode.title = overlay ? `a PolderCast node of its own, linked through ${overlay}` : gatewayUrl();
  document.getElementById('status').before(mode);
}

/**
 * Connects (or joins the overlay, with ?overlay=), keeping the header's state in step with
 * the connection's. Both give the same publish/subscribe/request API.
 * @param {string} name for the gateway's logs
 * @returns {Promise<import('../../clients/js/src/psycho.js').Connection | import('../../clients/js/src/psycho.js').OverlayConnection>}
 */
export async function connectShown(name) {
  showState('connecting', 'connecting…');
  const overlay = overlayUrl();
  showMode(overlay);
  const conn = overlay
    ? await connectOverlay(overlay, {
      name, timeout: 5000, wasm: params.get('wasm') ?? WASM,
      cycle: overlayCycle(),
    })
    : await connect(gatewayUrl(), { name, waitOnFirstConnect: true, timeout: 5000 });
  conn.addEventListener('status', (e) => {
    const { status, error } = e.detail;
    if (status === 'connected') showState('online', 'online');
    else if (status === 'closed') showState('error', error ? `closed: ${error.message}` : 'closed');
    else if (status === 'disconnected') showState('offline', navigator.onLine ? 'reconnecting…' : 'offline');
  });
  conn.addEventListener('error', (e) => notice(`gateway: ${e.detail.message}`, 'error'));
  return conn;
}

/**
 * Renders the presence list into #members.
 * @param {Array<{id: string, name: string, colour: string, self: boolean}>} members
 */
export function renderMembers(members) {
  const list = document.getElementById('members');
  list.replaceChildren(...members.map((m) => {
    const li = document.createElement('li');
    li.dataset.id = m.id;
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.style.background = m.colour;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = m.name;
    li.append(dot, name);
    if (m.self) li.insertAdjacentHTML('beforeend', '<span class="you">(you)</span>');
    return li;
  }));
  document.getElementById('member-count').textContent = String(members.length);
}

/**
 * Wires the name/colour form of the side panel to a Presence.
 * @param {import('../../clients/js/src/presence.js').Presence} presence
 */
export function bindProfileForm(presence) {
  const form = document.getElementById('profile');
  const [nameInput, colourInput] = [form.elements.namedItem('name'), form.elements.namedItem('colour')];
  const me = presence.members().find((m) => m.self);
  nameInput.value = me.name;
  colourInput.value = me.colour;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      presence.update({ name: nameInput.value, colour: colourInput.value });
      saveProfile({ name: nameInput.value.trim(), colour: colourInput.value });
      notice('Profile saved');
    } catch (e) {
      notice(e.message, 'error');
    }
  });
}

/** Shows a failure that stops the app in the page (not only in the console). */
export function fatal(error) {
  showState('error', 'error');
  const banner = document.getElementById('banner');
  banner.hidden = false;
  banner.dataset.kind = 'error';
  banner.textContent = `Could not start: ${error?.message ?? error}`;
}
