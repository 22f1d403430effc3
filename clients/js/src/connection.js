// A connection to a gateway over WebSocket: the handshake (INFO, then CONNECT with +OK off and
// a PING whose PONG proves the credentials were taken), publishing through the batching
// Outbox, dispatching MSG/HMSG to subscriptions, keep-alive both ways, and reconnecting with
// backoff, resubscribing and sending what was published meanwhile.
import { Backoff } from './backoff.js';
import { PsychoError, serverError } from './errors.js';
import { encodeHeaders } from './headers.js';
import { Msg } from './message.js';
import { resolveOptions } from './options.js';
import { Outbox } from './outbox.js';
import { Parser } from './parser.js';
import { RequestMux } from './requests.js';
import { checkQueue, checkSubject } from './subject.js';
import { Subscription } from './subscription.js';
import { SubscriptionTable } from './subscriptions.js';

export const VERSION = '0.1.0';
const OPEN = 1; // WebSocket.OPEN, the same in every implementation
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** A user callback's exception must not break the parser: report it outside the read path. */
function report(error) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else setTimeout(() => { throw error; });
}

/** @param {unknown} data @returns {Uint8Array} */
export function toBytes(data) {
  if (data === undefined || data === null) return EMPTY;
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new PsychoError('bad_payload', 'a payload must be a string, a Uint8Array or an ArrayBuffer');
}

/**
 * One WebSocket and what belongs to it alone; a new one replaces it on every (re)connect, and
 * events of an old one are ignored.
 */
class Socket {
  /** @param {any} ws */
  constructor(ws) {
    this.ws = ws;
    this.parser = new Parser();
    this.sawInfo = false;
    this.ready = false; // the handshake's PONG arrived
    this.pingsOut = 0;
    /** @type {Array<{resolve: () => void, reject: (e: unknown) => void} | null>} one per PING sent */
    this.pongs = [];
    /** @type {PsychoError | null} why it ends, when known before its close event */
    this.error = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.handshakeTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pingTimer = undefined;
  }
}

export class Connection extends EventTarget {
  /**
   * Use `connect()`, which waits for the first connection.
   * @param {string | URL} url
   * @param {Record<string, unknown>} [options]
   */
  constructor(url, options = {}) {
    super();
    this.options = resolveOptions(url, options);
    /** @type {'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'closed'} */
    this.status = 'connecting';
    /** The INFO the server sent last. @type {Record<string, any> | null} */
    this.info = null;
    this.stats = {
      inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, reconnects: 0, serverErrors: 0,
      droppedPublishes: 0, droppedBytes: 0, droppedMessages: 0,
      get framesSent() { return outbox.flushes; },
    };
    const outbox = new Outbox(this.options.maxPendingBytes);
    this.outbox = outbox;
    this.subscriptions = new SubscriptionTable();
    this.requests = new RequestMux((pattern, callback) => this.subscribe(pattern, { callback }));
    this.backoff = new Backoff(this.options.reconnectDelay, this.options.reconnectDelayMax);
    /** @type {Socket | null} */
    this.socket = null;
    this.everConnected = false;
    this.closing = false;
    this.offline = false;
    this.attempts = 0;
    /** @type {PsychoError | null} an error after which retrying cannot help */
    this.fatal = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.reconnectTimer = undefined;
    this.publishForReply = (subject, data, opts) => this.publish(subject, data, opts);
    this.firstConnect = new Promise((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    this.firstConnect.catch(() => {}); // connect() hands it on; a bare Connection may ignore it
    /** @type {Promise<PsychoError | undefined>} */
    this.closedPromise = new Promise((resolve) => { this.resolveClosed = resolve; });
    this.onOffline = () => this.wentOffline();
    this.onOnline = () => this.cameOnline();
    this.options.networkEvents?.addEventListener('offline', this.onOffline);
    this.options.networkEvents?.addEventListener('online', this.onOnline);
    this.open();
  }

  /**
   * Publishes `data` to `subject`. Publishes of one event-loop turn leave as one WebSocket
   * message. Never blocks: past `maxPendingBytes` waiting (connected or not) the publish is
   * dropped and counted in `stats.droppedPublishes`.
   * @param {string} subject
   * @param {Uint8Array | ArrayBuffer | string} [data]
   * @param {{reply?: string, headers?: object}} [options]
   */
  publish(subject, data, options = {}) {
    this.write(this.preparePublish(subject, data, options));
  }

  /**
   * @param {string} subject
   * @param {{queue?: string, callback?: (err: PsychoError | null, msg: Msg | null) => void,
   *   max?: number, maxPending?: number}} [options]
   * @returns {Subscription}
   */
  subscribe(subject, options = {}) {
    this.checkOpen();
    checkSubject(subject, { wildcards: true });
    const queue = options.queue === undefined || options.queue === '' ? '' : checkQueue(options.queue);
    const sub = new Subscription({
      subject, queue,
      max: options.max ?? 0,
      maxPending: options.maxPending ?? this.options.maxPendingMessages,
      callback: options.callback ?? null,
      onDone: (done) => this.forget(done),
      onDrop: () => { this.stats.droppedMessages += 1; },
    });
    // Before the handshake the key goes out with it; after, it is sent now.
    if (this.subscriptions.add(sub) && this.outbox.sink !== null) {
      this.outbox.writeString(queue === '' ? `SUB ${subject}\r\n` : `SUB ${subject} ${queue}\r\n`);
    }
    return sub;
  }

  /**
   * Publishes a request and resolves with the first reply.
   * @param {string} subject
   * @param {Uint8Array | ArrayBuffer | string} [data]
   * @param {{timeout?: number, headers?: object}} [options]
   * @returns {Promise<Msg>} rejects with kind `timeout`, `no_responders`,
   *   `permissions_violation`, `buffer_full` or `connection_closed`
   */
  async request(subject, data, options = {}) {
    const timeout = options.timeout ?? this.options.requestTimeout;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new PsychoError('invalid_option', 'timeout must be a positive number of milliseconds');
    }
    const prepared = this.preparePublish(subject, data, { headers: options.headers, reply: '_INBOX.x' });
    const { reply, result } = this.requests.start(subject, timeout);
    prepared.reply = reply;
    if (!this.write(prepared)) {
      this.requests.failSubject(subject, new PsychoError('buffer_full',
        `a request on ${subject} did not fit in the ${this.options.maxPendingBytes}-byte outgoing buffer`));
    }
    return result;
  }

  /**
   * Resolves once the server has processed everything sent before it (a PING/PONG round trip).
   * @returns {Promise<void>}
   */
  flush() {
    this.checkOpen();
    const s = this.socket;
    if (s === null || !s.ready) {
      return Promise.reject(new PsychoError('disconnected', 'not connected'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new PsychoError('timeout',
        `no PONG within ${this.options.timeout} ms`)), this.options.timeout);
      s.pongs.push({
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.outbox.writeString('PING\r\n');
    });
  }

  /**
   * Sends what is queued and closes. Subscriptions end; pending requests fail with
   * `connection_closed`.
   * @returns {Promise<void>}
   */
  async close() {
    if (this.status !== 'closed' && !this.closing) {
      this.closing = true;
      clearTimeout(this.reconnectTimer);
      const s = this.socket;
      if (s !== null && s.ready) {
        this.outbox.flush();
        // A polite close, bounded: a server that does not answer is cut off.
        s.handshakeTimer = setTimeout(() => this.abandon(s, null), this.options.timeout);
        s.ws.close(1000);
      } else if (s !== null) {
        this.abandon(s, null);
      } else {
        this.finish(null);
      }
    }
    await this.closedPromise;
  }

  /** @returns {Promise<PsychoError | undefined>} resolves when closed, with the error that closed it */
  closed() {
    return this.closedPromise;
  }

  // ---- internals -------------------------------------------------------------------------

  checkOpen() {
    if (this.status === 'closed' || this.closing) {
      throw new PsychoError('connection_closed', 'the connection is closed');
    }
  }

  /** Validates a publish and encodes what does not depend on the reply subject. */
  preparePublish(subject, data, options) {
    this.checkOpen();
    checkSubject(subject, { wildcards: false });
    const reply = options.reply ?? '';
    if (reply !== '') checkSubject(reply, { wildcards: false, what: 'reply subject' });
    const payload = toBytes(data);
    const headers = options.headers === undefined ? null : encodeHeaders(options.headers);
    if (headers !== null && this.info !== null && this.info.headers !== true) {
      throw new PsychoError('bad_payload', 'this server does not accept headers');
    }
    const size = payload.length + (headers === null ? 0 : headers.length);
    const max = this.info?.max_payload;
    if (typeof max === 'number' && size > max) {
      throw new PsychoError('max_payload', `a ${size}-byte message is above the server's max_payload of ${max}`);
    }
    return { subject, reply, payload, headers, size };
  }

  /** @returns {boolean} false when the message was dropped for want of room */
  write({ subject, reply, payload, headers, size }) {
    const target = reply === '' ? subject : `${subject} ${reply}`;
    const line = headers === null ? `PUB ${target} ${size}\r\n` : `HPUB ${target} ${headers.length} ${size}\r\n`;
    if (!this.outbox.fits(line.length + size + 2)) {
      this.stats.droppedPublishes += 1;
      this.stats.droppedBytes += size;
      return false;
    }
    this.outbox.writeString(line);
    if (headers !== null) this.outbox.writeBytes(headers);
    this.outbox.writeBytes(payload);
    this.outbox.writeString('\r\n');
    this.stats.outMsgs += 1;
    this.stats.outBytes += size;
    return true;
  }

  /** @param {Subscription} sub */
  forget(sub) {
    if (!this.subscriptions.remove(sub) || this.outbox.sink === null) return;
    this.outbox.writeString(sub.queue === '' ? `UNSUB ${sub.subject}\r\n` : `UNSUB ${sub.subject} ${sub.queue}\r\n`);
  }

  /** @param {string} status @param {PsychoError | null} [error] @param {number} [attempt] */
  setStatus(status, error = null, attempt = 0) {
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, error, attempt } }));
  }

  open() {
    this.reconnectTimer = undefined;
    if (this.closing || this.status === 'closed') return;
    this.setStatus(this.everConnected || this.attempts > 0 ? 'reconnecting' : 'connecting', null, this.attempts);
    let ws;
    try {
      ws = new this.options.WebSocket(this.options.url);
    } catch (cause) {
      this.lost(null, new PsychoError('connect_failed', `cannot open ${this.options.url}: ${cause?.message ?? cause}`, { cause }));
      return;
    }
    const s = new Socket(ws);
    this.socket = s;
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (event) => this.onFrame(s, event.data);
    ws.onclose = (event) => this.onSocketClosed(s, event);
    ws.onerror = () => {}; // the close event that follows says what happened
    s.handshakeTimer = setTimeout(() => this.abandon(s, new PsychoError('connect_failed',
      `no handshake with ${this.options.url} within ${this.options.timeout} ms`)), this.options.timeout);
  }

  /** @param {Socket} s @param {unknown} data */
  onFrame(s, data) {
    if (s !== this.socket) return;
    let bytes;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (typeof data === 'string') bytes = encoder.encode(data);
    else bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    try {
      s.parser.feed(bytes, (op) => this.onOp(s, op));
    } catch (error) {
      if (!(error instanceof PsychoError)) throw error;
      this.emitError(error);
      this.abandon(s, error);
    }
  }

  /** @param {Socket} s @param {import('./parser.js').ServerOp} op */
  onOp(s, op) {
    if (s !== this.socket) return; // a callback closed the connection mid-frame
    if (!s.sawInfo && op.op !== 'INFO') {
      throw new PsychoError('protocol_error', `the server sent ${op.op} before INFO`);
    }
    switch (op.op) {
      case 'INFO':
        this.info = op.info;
        if (!s.sawInfo) {
          s.sawInfo = true;
          this.handshake(s);
        }
        break;
      case 'MSG':
        this.onMessage(op);
        break;
      case 'PING':
        this.outbox.writeString('PONG\r\n');
        break;
      case 'PONG': {
        s.pingsOut = 0;
        s.pongs.shift()?.resolve();
        break;
      }
      case '-ERR':
        this.onServerError(s, serverError(op.text));
        break;
      default: // +OK: verbose is off, but a server may still send it
    }
  }

  /** CONNECT, every subscription, a PING, then whatever was published while disconnected. */
  handshake(s) {
    const o = this.options;
    const connect = {
      verbose: false, pedantic: false, echo: o.echo, headers: o.headers && this.info.headers === true,
      no_responders: o.headers && o.noResponders && this.info.headers === true,
      name: o.name, lang: 'javascript', version: VERSION, protocol: 1,
    };
    if (o.token !== undefined) connect.auth_token = o.token;
    if (o.user !== undefined) connect.user = o.user;
    if (o.password !== undefined) connect.pass = o.password;
    let prefix = `CONNECT ${JSON.stringify(connect)}\r\n`;
    for (const { subject, queue } of this.subscriptions.keys()) {
      prefix += queue === '' ? `SUB ${subject}\r\n` : `SUB ${subject} ${queue}\r\n`;
    }
    prefix += 'PING\r\n';
    s.pongs.push({ resolve: () => this.onReady(s), reject: () => {} });
    this.outbox.attach((bytes) => {
      if (s.ws.readyState === OPEN) s.ws.send(bytes);
    }, () => s.ws.bufferedAmount ?? 0, encoder.encode(prefix));
  }

  /** @param {Socket} s */
  onReady(s) {
    clearTimeout(s.handshakeTimer);
    s.ready = true;
    if (this.everConnected) this.stats.reconnects += 1;
    this.everConnected = true;
    this.attempts = 0;
    this.backoff.reset();
    s.pingTimer = setInterval(() => this.keepAlive(s), this.options.pingInterval);
    this.setStatus('connected');
    this.resolveFirst();
  }

  /** @param {Socket} s */
  keepAlive(s) {
    if (s !== this.socket) return;
    if (s.pingsOut >= this.options.maxPingsOut) {
      this.abandon(s, new PsychoError('stale_connection',
        `the server answered none of ${s.pingsOut} PINGs in ${s.pingsOut * this.options.pingInterval} ms`));
      return;
    }
    s.pingsOut += 1;
    s.pongs.push(null);
    this.outbox.writeString('PING\r\n');
  }

  onMessage({ subject, reply, data, headerBytes }) {
    this.stats.inMsgs += 1;
    this.stats.inBytes += data.length;
    const msg = new Msg(subject, reply, data, headerBytes, this.publishForReply);
    for (const sub of this.subscriptions.recipients(subject)) {
      try {
        sub.deliver(msg);
      } catch (error) {
        report(error);
      }
    }
  }

  /** @param {Socket} s @param {PsychoError} error */
  onServerError(s, error) {
    this.stats.serverErrors += 1;
    if (error.kind === 'permissions_violation') {
      if (error.direction === 'subscribe') {
        for (const sub of this.subscriptions.onSubject(error.subject)) sub.finish(error);
      } else {
        this.requests.failSubject(error.subject, error);
      }
    }
    // Credentials the server refused will be refused again: no retrying with them.
    if (error.kind === 'authorization_violation') this.fatal = error;
    if (error.fatal) s.error ??= error; // the close that follows is explained by it
    this.emitError(error);
  }

  /** @param {PsychoError} error */
  emitError(error) {
    this.dispatchEvent(new CustomEvent('error', { detail: error }));
  }

  /** @param {Socket} s @param {{code?: number, reason?: string}} event */
  onSocketClosed(s, event) {
    if (s !== this.socket) return;
    const why = `${event?.code ?? ''}${event?.reason ? ` ${event.reason}` : ''}`;
    const error = s.error ?? (s.ready
      ? new PsychoError('disconnected', `connection to ${this.options.url} lost (${why})`)
      : new PsychoError('connect_failed', `cannot connect to ${this.options.url} (${why})`));
    this.lost(s, error);
  }

  /** Gives up on a socket at once, without waiting for a closing handshake. */
  abandon(s, error) {
    if (s !== this.socket) return;
    s.error ??= error;
    s.ws.onmessage = null;
    s.ws.onclose = null;
    try {
      if (typeof s.ws.terminate === 'function') s.ws.terminate();
      else s.ws.close();
    } catch {
      // already closing: nothing more to do with it
    }
    this.lost(s, s.error);
  }

  /** @param {Socket | null} s @param {PsychoError | null} error */
  lost(s, error) {
    const wasConnected = s !== null && s.ready;
    if (s !== null) {
      clearTimeout(s.handshakeTimer);
      clearInterval(s.pingTimer);
      const gone = new PsychoError('disconnected', 'the connection was lost before the PONG');
      for (const waiter of s.pongs) waiter?.reject(gone);
    }
    this.socket = null;
    this.outbox.detach();
    const o = this.options;
    if (this.closing) return this.finish(null);
    if (this.fatal !== null) return this.finish(this.fatal);
    if (!o.reconnect || (!this.everConnected && !o.waitOnFirstConnect)) return this.finish(error);
    if (o.maxReconnectAttempts >= 0 && this.attempts >= o.maxReconnectAttempts) return this.finish(error);
    if (wasConnected) this.setStatus('disconnected', error);
    this.scheduleReconnect();
    return undefined;
  }

  scheduleReconnect() {
    if (this.offline) return; // `online` reconnects
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => this.open(), this.backoff.next());
  }

  wentOffline() {
    this.offline = true;
    clearTimeout(this.reconnectTimer);
    if (this.socket !== null) this.abandon(this.socket, new PsychoError('disconnected', 'the network went offline'));
  }

  cameOnline() {
    this.offline = false;
    if (this.socket !== null || this.closing || this.status === 'closed') return;
    clearTimeout(this.reconnectTimer);
    this.backoff.reset();
    this.open();
  }

  /** @param {PsychoError | null} error */
  finish(error) {
    if (this.status === 'closed') return;
    clearTimeout(this.reconnectTimer);
    this.options.networkEvents?.removeEventListener('offline', this.onOffline);
    this.options.networkEvents?.removeEventListener('online', this.onOnline);
    this.closing = true;
    for (const sub of this.subscriptions.all()) sub.finish(error);
    this.requests.failAll(new PsychoError('connection_closed', 'the connection is closed', { cause: error ?? undefined }));
    this.outbox.clear();
    this.setStatus('closed', error);
    this.rejectFirst(error ?? new PsychoError('connection_closed', 'closed before connecting'));
    this.resolveClosed(error ?? undefined);
  }
}

/**
 * Connects to a gateway and resolves once the server has accepted the connection (INFO,
 * CONNECT, PING/PONG). Rejects with a PsychoError when the first attempt fails (unless
 * `waitOnFirstConnect`), e.g. kind `authorization_violation` or `connect_failed`.
 * @param {string | URL} url `ws://host:port/path` or `wss://...`
 * @param {Record<string, unknown>} [options]
 * @returns {Promise<Connection>}
 */
export async function connect(url, options = {}) {
  const connection = new Connection(url, options);
  await connection.firstConnect;
  return connection;
}
