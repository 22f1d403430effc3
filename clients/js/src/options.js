// Connection options: defaults in one place, checked when the connection is made, so a typo'd
// or impossible value fails at connect() rather than as odd behaviour later.
import { PsychoError } from './errors.js';

/** @type {Readonly<Record<string, unknown>>} */
export const DEFAULTS = Object.freeze({
  name: '',
  token: undefined,
  user: undefined,
  password: undefined,
  echo: false,
  headers: true,
  noResponders: true,
  timeout: 10_000,
  reconnect: true,
  reconnectDelay: 250,
  reconnectDelayMax: 10_000,
  maxReconnectAttempts: -1,
  waitOnFirstConnect: false,
  pingInterval: 30_000,
  maxPingsOut: 2,
  maxPendingBytes: 8 * 1024 * 1024,
  maxPendingMessages: 65_536,
  requestTimeout: 5_000,
  WebSocket: undefined,
  networkEvents: undefined,
});

const POSITIVE = ['timeout', 'reconnectDelay', 'reconnectDelayMax', 'pingInterval', 'maxPingsOut',
  'maxPendingBytes', 'maxPendingMessages', 'requestTimeout'];

/**
 * @param {unknown} url
 * @param {Record<string, unknown>} given
 * @returns {Record<string, any>} the options with defaults filled in
 * @throws {PsychoError} kind `invalid_option`
 */
export function resolveOptions(url, given) {
  const options = checkOptions(url, given, DEFAULTS, POSITIVE);
  if (options.networkEvents === undefined && typeof globalThis.addEventListener === 'function') {
    options.networkEvents = globalThis;
  }
  return options;
}

/**
 * What every kind of connection checks: a ws:// or wss:// url, no unknown option, positive
 * numbers where they must be, a whole maxReconnectAttempts, a WebSocket class.
 * @param {unknown} url
 * @param {Record<string, unknown>} given
 * @param {Readonly<Record<string, unknown>>} defaults every known option, with its default
 * @param {string[]} positive the options that must be positive numbers
 * @returns {Record<string, any>} the options with defaults filled in and `url`
 * @throws {PsychoError} kind `invalid_option`
 */
export function checkOptions(url, given, defaults, positive) {
  const href = url instanceof URL ? url.href : url;
  if (typeof href !== 'string' || !/^wss?:\/\/./i.test(href)) {
    throw new PsychoError('invalid_option', `the url must start with ws:// or wss:// (got ${JSON.stringify(href)})`);
  }
  for (const key of Object.keys(given ?? {})) {
    if (!(key in defaults)) throw new PsychoError('invalid_option', `unknown option ${JSON.stringify(key)}`);
  }
  const options = { ...defaults, ...given, url: href };
  for (const key of positive) {
    if (!Number.isFinite(options[key]) || options[key] <= 0) {
      throw new PsychoError('invalid_option', `${key} must be a positive number`);
    }
  }
  if (!Number.isInteger(options.maxReconnectAttempts) || options.maxReconnectAttempts < -1) {
    throw new PsychoError('invalid_option', 'maxReconnectAttempts must be a whole number, -1 for forever');
  }
  options.WebSocket ??= globalThis.WebSocket;
  if (typeof options.WebSocket !== 'function') {
    throw new PsychoError('invalid_option',
      'no WebSocket implementation: pass one as the WebSocket option (Node 20 has none built in; the ws package works)');
  }
  return options;
}
