// Music Room: everyone in room ROOM plays together over subjects only. Each note is a
// publication on music.ROOM.note stamped with the player's clock; every listener estimates
// each player's clock offset over request/reply (music.ROOM.clock.<id>) and schedules the note
// on the player's timeline plus a small fixed delay, so that network jitter is hidden and the
// order kept. Presence (music.ROOM.presence) shows who is here. `window.room` exposes the
// parts and the scheduled notes to the browser tests.
import { joinPresence } from '../../clients/js/src/presence.js';
import { monotonicNow, startClockSync } from '../../clients/js/src/clock.js';
import { randomId } from '../../clients/js/src/random_id.js';
import { bindProfileForm, connectShown, fatal, notice, params, profile, renderMembers, showState } from '../shared/session.js';
import { Synth, noteName } from './synth.js';

/** Milliseconds between a note's playing and its sounding elsewhere: hides the jitter of a LAN. */
export const DELAY_MS = 40;
const KEYS = ['a', 'w', 's', 'e', 'd', 'f', 't', 'g', 'y', 'h', 'u', 'j', 'k', 'o', 'l', 'p', ';'];
const BLACK = new Set([1, 3, 6, 8, 10]);
const encoder = new TextEncoder();
/** Notes a second taken from one player (on and off count); more are dropped and counted. */
const MAX_NOTES_PER_SECOND = 60;

const roomName = params.get('room') ?? 'lobby';
const room = {
  delayMs: DELAY_MS, noteLog: [], played: [], octave: 4, seq: 0, lastTarget: new Map(), lastAudio: new Map(), late: 0,
  dropped: 0, rates: new Map(),
  conn: null, presence: null, clock: null, audio: null, synth: null,
};
window.room = room;

async function main() {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(roomName)) throw new Error('a room name is 1 to 64 of A-Z a-z 0-9 _ -');
  document.getElementById('room-name').textContent = roomName;
  document.title = `${roomName} · Music Room`;
  const me = profile();
  room.conn = await connectShown(`music room ${me.name}`);
  room.id = randomId();
  room.clock = await startClockSync(room.conn, `music.${roomName}.clock`, { id: room.id });
  room.presence = await joinPresence(room.conn, `music.${roomName}.presence`,
    { id: room.id, ...me, interval: Number(params.get('presence') ?? 2000) });
  window.addEventListener('pagehide', () => room.presence.close());
  watchPresence();
  bindProfileForm(room.presence);
  setUpAudio();
  room.conn.subscribe(`music.${roomName}.note`, { callback: (err, msg) => { if (!err) onNote(msg); } });
  await room.conn.flush();
  buildPiano();
  bindKeyboard();
  showState('online', 'online');
}

function watchPresence() {
  const { presence, clock } = room;
  // A newcomer's clock may not answer at once: its answer subscription can still be on its
  // way across the fabric. Asked again soon, then less often, while it stays; one chain of
  // attempts per player.
  const retryMs = [500, 1000, 2000, 4000, 8000];
  const asking = new Set();
  const present = (id) => presence.members().some((m) => m.id === id);
  const measure = (id) => {
    if (asking.has(id)) return;
    asking.add(id);
    const attempt = (n) => clock.measure(id).then(() => asking.delete(id), (e) => {
      if (n < retryMs.length && present(id)) {
        setTimeout(() => (present(id) ? attempt(n + 1) : asking.delete(id)), retryMs[n]);
        return;
      }
      asking.delete(id);
      if (present(id)) notice(`No clock answer from a player: ${e.message}`, 'warn');
    });
    attempt(0);
  };
  presence.addEventListener('change', () => renderMembers(presence.members()));
  presence.addEventListener('join', (e) => {
    notice(`${e.detail.name} joined`);
    measure(e.detail.id);
  });
  presence.addEventListener('leave', (e) => {
    notice(`${e.detail.name} ${e.detail.reason === 'expired' ? 'went silent' : 'left'}`);
    clock.forget(e.detail.id);
    for (const perPlayer of [room.rates, room.lastTarget, room.lastAudio]) perPlayer.delete(e.detail.id);
  });
  const measureAll = () => { for (const m of presence.members()) if (!m.self) measure(m.id); };
  renderMembers(presence.members());
  // Those heard while joining came before the listener above: measure them now.
  measureAll();
  // Clocks drift: measure everyone again from time to time.
  setInterval(measureAll, 15_000);
}

function setUpAudio() {
  room.audio = new AudioContext({ latencyHint: 'interactive' });
  room.synth = new Synth(room.audio);
  document.getElementById('wave').addEventListener('change', (e) => { room.synth.wave = e.target.value; });
  const banner = document.getElementById('sound');
  const resume = () => room.audio.resume().then(() => { banner.hidden = true; });
  if (room.audio.state !== 'running') banner.hidden = false;
  document.getElementById('enable-sound').addEventListener('click', resume);
  window.addEventListener('pointerdown', resume, { once: true });
  window.addEventListener('keydown', resume, { once: true });
}

// ------------------------------------------------------------------ playing

function play(midi, on) {
  const t = monotonicNow();
  room.seq += 1;
  room.played.push({ seq: room.seq, n: midi, on, t });
  room.conn.publish(`music.${roomName}.note`, encoder.encode(JSON.stringify({ id: room.id, n: midi, on, t, seq: room.seq })));
  const voice = `${room.id}:${midi}`;
  if (on) room.synth.start(voice, midi, room.audio.currentTime);
  else room.synth.stop(voice, room.audio.currentTime);
  highlight(midi, on, room.presence.members().find((m) => m.self).colour);
  if (on) addToFeed(room.presence.members().find((m) => m.self), midi, t);
}

// A player (or a broken page) sending notes by the thousand must not make thousands of
// oscillators here: past the rate, notes are dropped and counted.
function overRate(player, now) {
  const span = room.rates.get(player);
  if (!span || now - span.start >= 1000) {
    room.rates.set(player, { start: now, count: 1 });
    return false;
  }
  span.count += 1;
  if (span.count <= MAX_NOTES_PER_SECOND) return false;
  room.dropped += 1;
  return true;
}

/** @type {Map<number, object>} the latest scheduled event of each key, for its highlight */
const shownEvent = new Map();

function onNote(msg) {
  let note;
  try { note = msg.json(); } catch { return; }
  if (typeof note?.id !== 'string' || note.id === room.id || !Number.isInteger(note.n) || note.n < 0 ||
      note.n > 127 || typeof note.on !== 'boolean' || !Number.isFinite(note.t)) return;
  const now = monotonicNow();
  if (overRate(note.id, now)) return;
  // The player's timeline, on our clock, plus the fixed delay; never before an earlier note of
  // the same player, so that jitter cannot reorder a melody.
  let target = room.clock.toLocal(note.id, note.t) + room.delayMs;
  const heldTo = room.lastTarget.get(note.id) ?? -Infinity;
  target = Math.max(target, heldTo);
  room.lastTarget.set(note.id, target);
  const late = target < now;
  if (late) room.late += 1;
  const scheduledAt = Math.max(target, now); // a late note sounds at once
  const at = Math.max(audioTimeOf(scheduledAt), room.lastAudio.get(note.id) ?? 0);
  room.lastAudio.set(note.id, at);
  const voice = `${note.id}:${note.n}`;
  if (note.on) room.synth.start(voice, note.n, at);
  else room.synth.stop(voice, at);
  room.noteLog.push({ from: note.id, seq: note.seq, n: note.n, on: note.on, sentAt: note.t, receivedAt: now,
    scheduledAt, audioTime: at, late, clock: room.clock.offsets.get(note.id), heldTo });
  const player = room.presence.members().find((m) => m.id === note.id) ?? { name: 'someone', colour: '#888888' };
  // Timers of nearly equal times may fire out of order: a key shows only its latest event.
  const token = {};
  shownEvent.set(note.n, token);
  setTimeout(() => {
    if (shownEvent.get(note.n) === token) highlight(note.n, note.on, player.colour);
    if (note.on) addToFeed(player, note.n, scheduledAt);
  }, scheduledAt - now);
}

/**
 * The AudioContext time at which a moment of the page's clock (monotonicNow) is heard. The
 * context's clock moves in steps of a render quantum, so it is read together with the
 * performance time of that step rather than as `currentTime` at an arbitrary moment.
 */
function audioTimeOf(time) {
  const { contextTime, performanceTime } = room.audio.getOutputTimestamp();
  if (!performanceTime) return room.audio.currentTime + Math.max(0, time - monotonicNow()) / 1000;
  const at = contextTime + (time - performance.timeOrigin - performanceTime) / 1000;
  return Math.max(at, room.audio.currentTime);
}

// ------------------------------------------------------------------ the keyboard

function baseNote() {
  return (room.octave + 1) * 12; // C of the octave (C4 = 60)
}

function buildPiano() {
  const piano = document.getElementById('piano');
  piano.replaceChildren();
  let whites = 0;
  for (let i = 0; i < KEYS.length; ++i) {
    const midi = baseNote() + i;
    const key = document.createElement('button');
    key.type = 'button';
    key.dataset.midi = String(midi);
    key.className = BLACK.has(i % 12) ? 'black' : 'white';
    key.setAttribute('aria-label', `${noteName(midi)} (key ${KEYS[i].toUpperCase()})`);
    key.textContent = KEYS[i].toUpperCase();
    if (key.className === 'black') key.style.left = `calc(100% / 10 * ${whites} - 100% / 10 * .3)`;
    else whites += 1;
    key.addEventListener('pointerdown', (e) => { e.preventDefault(); key.focus(); press(midi, true); });
    key.addEventListener('pointerup', () => press(midi, false));
    key.addEventListener('pointerleave', () => press(midi, false));
    key.addEventListener('keydown', (e) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) { e.preventDefault(); press(midi, true); }
    });
    key.addEventListener('keyup', (e) => {
      if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); press(midi, false); }
    });
    piano.append(key);
  }
  for (const key of piano.querySelectorAll('.black')) key.style.width = 'calc(100% / 10 * .6)';
  document.getElementById('octave').textContent = String(room.octave);
}

const held = new Set();
function press(midi, on) {
  if (on === held.has(midi)) return;
  if (on) held.add(midi);
  else held.delete(midi);
  play(midi, on);
}

function bindKeyboard() {
  const typing = (e) => e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  window.addEventListener('keydown', (e) => {
    if (typing(e) || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === 'z' || k === 'x') {
      for (const midi of [...held]) press(midi, false);
      room.octave = Math.min(7, Math.max(1, room.octave + (k === 'x' ? 1 : -1)));
      buildPiano();
      return;
    }
    const i = KEYS.indexOf(k);
    if (i >= 0) press(baseNote() + i, true);
  });
  window.addEventListener('keyup', (e) => {
    const i = KEYS.indexOf(e.key.toLowerCase());
    if (i >= 0) press(baseNote() + i, false);
  });
  window.addEventListener('blur', () => { for (const midi of [...held]) press(midi, false); });
}

function highlight(midi, on, colour) {
  const key = document.querySelector(`#piano [data-midi="${midi}"]`);
  if (!key) return;
  key.style.setProperty('--key-colour', colour);
  key.classList.toggle('down', on);
}

/**
 * Shows a note at the top of the feed, newest first by the time it is heard (`at`, on the
 * page's clock): timers of nearly equal times may fire out of order, and the feed must not
 * show the last note of a run below the one before it.
 */
function addToFeed(player, midi, at) {
  const feed = document.getElementById('feed');
  const li = document.createElement('li');
  li.style.background = player.colour;
  li.textContent = `${player.name}: ${noteName(midi)}`;
  li.dataset.at = String(at);
  let before = feed.firstElementChild;
  while (before && Number(before.dataset.at) > at) before = before.nextElementSibling;
  feed.insertBefore(li, before);
  while (feed.children.length > 24) feed.lastElementChild.remove();
}

main().catch(fatal);
