// connectOverlay()'s options: their defaults, which must be positive, and what is derived
// from the page (WebRTC, BroadcastChannel, the rendezvous channel on by default) before the
// connection starts. Documented in psycho.d.ts (OverlayOptions).
import { PsychoError } from '../errors.js';
import { checkOptions } from '../options.js';
import { defaultWasmUrl } from './wasm.js';

const DEFAULTS = Object.freeze({
  name: '',
  echo: false,
  timeout: 10_000,
  reconnect: true,
  reconnectDelay: 250,
  reconnectDelayMax: 10_000,
  maxReconnectAttempts: -1,
  maxPendingBytes: 8 * 1024 * 1024,
  maxPendingMessages: 65_536,
  requestTimeout: 5_000,
  maxPayload: 1024 * 1024,
  cycle: 1000,
  wasm: undefined,
  WebSocket: undefined,
  webrtc: undefined,
  rtcConfiguration: undefined,
  maxPeerConnections: 400,
  maxPeerLinks: 32,
  rendezvous: undefined,
  BroadcastChannel: undefined,
  maxRelayedPages: 8,
  maxRelayBytes: 4 * 1024 * 1024,
});
const POSITIVE = ['timeout', 'reconnectDelay', 'reconnectDelayMax', 'maxPendingBytes',
  'maxPendingMessages', 'requestTimeout', 'maxPayload', 'cycle', 'maxPeerConnections', 'maxPeerLinks',
  'maxRelayedPages', 'maxRelayBytes'];

/**
 * The options of a connection to `url`, checked, with the defaults filled in.
 * @param {string | URL} url
 * @param {Record<string, unknown>} given
 * @returns {Record<string, any>}
 */
export function resolveOptions(url, given) {
  const options = checkOptions(url, given, DEFAULTS, POSITIVE);
  options.wasm ??= defaultWasmUrl;
  options.webrtc ??= typeof globalThis.RTCPeerConnection === 'function';
  options.rtcConfiguration ??= { iceServers: [] };
  options.BroadcastChannel ??= globalThis.BroadcastChannel;
  // On by default where a page can use it: a reloaded tab then rejoins through another with
  // no gateway left, with nothing for the app to do.
  options.rendezvous ??= options.webrtc && typeof options.BroadcastChannel === 'function' ? 'default' : '';
  if (typeof options.rendezvous !== 'string' || !/^[\w.-]{0,64}$/.test(options.rendezvous)) {
    throw new PsychoError('invalid_option', 'rendezvous must be a name of at most 64 letters, digits, _ . -');
  }
  if (options.rendezvous !== '' && options.webrtc && typeof options.BroadcastChannel !== 'function') {
    throw new PsychoError('invalid_option', 'rendezvous needs a BroadcastChannel');
  }
  return options;
}
