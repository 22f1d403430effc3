// The client under test, with the ws package as its WebSocket (Node 20 has none built in).
import WebSocket from 'ws';
import { connect as psychoConnect } from '../src/psycho.js';

export { PsychoError } from '../src/psycho.js';
export { WebSocket };

/** connect() with ws; `t.after` closes the connection. */
export async function connect(t, url, options = {}) {
  const connection = await psychoConnect(url, { WebSocket, ...options });
  t.after(() => connection.close());
  return connection;
}

/** The next `n` messages of a subscription, as strings, within `ms`. */
export async function take(sub, n, ms = 5000) {
  const out = [];
  const timer = setTimeout(() => sub.unsubscribe(), ms);
  for await (const msg of sub) {
    out.push(msg.string());
    if (out.length === n) break;
  }
  clearTimeout(timer);
  return out;
}

/** The next status event of `connection` that is `status`, within `ms`. */
export function nextStatus(connection, status, ms = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${status}" status within ${ms} ms`)), ms);
    const listener = (event) => {
      if (event.detail.status !== status) return;
      clearTimeout(timer);
      connection.removeEventListener('status', listener);
      resolve(event.detail);
    };
    connection.addEventListener('status', listener);
  });
}
