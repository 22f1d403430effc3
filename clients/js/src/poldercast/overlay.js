// A page (or a Node process) as a PolderCast node: the gateways' own overlay code, compiled
// to WebAssembly (wasm.js), linked to the overlay through a gateway's `poldercast.websocket`
// listener. It offers the publish/subscribe/request API of psycho.js's Connection, so an app
// moves between "through a gateway" (`connect`) and "in the overlay" (`connectOverlay`) by
// changing one line (docs/poldercast.md, "Browser nodes and undialable peers").
//
// A page cannot be dialled: its address is "web:<id>@<gateway>", and everything it sends to
// a node other than its gateway goes to the gateway in a relay envelope, which passes it on,
// until a WebRTC data channel to that node (another page) is open (peer_links.js). The
// channels' signalling travels through the overlay, and they outlive the gateway link: with
// every gateway gone, pages that have linked keep delivering to one another. A page that
// finds no gateway can join through another page of its origin (the `rendezvous` option:
// rendezvous.js), which then relays for it over their data channel (page_relay.js).
import { Backoff } from '../backoff.js';
import { toBytes } from '../connection.js';
import { PsychoError } from '../errors.js';
import { randomId } from '../random_id.js';
import { encodeHeaders } from '../headers.js';
import { Msg } from '../message.js';
import { RequestMux } from '../requests.js';
import { checkSubject } from '../subject.js';
import { Subscription } from '../subscription.js';
import { SubscriptionTable } from '../subscriptions.js';
import { depthOf, isRelay, RELAY_OVERHEAD, relayOf, undialable } from './addresses.js';
import { GatewayLink } from './gateway_link.js';
import { resolveOptions } from './overlay_options.js';
import { PageRelay } from './page_relay.js';
import { PeerLinks, peerConnectionsCreated } from './peer_links.js';
import { Rendezvous } from './rendezvous.js';
import { loadPolderCast } from './wasm.js';

const SIGNAL = 14; // the wire type of a signal (wire.hpp)
// How long a page that found no gateway waits for a page of its origin to answer; and how
// deep pages may join through pages (each level lengthens the address by an id).
const SEEK_MS = 2_000;
const MAX_PAGE_DEPTH = 3;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// A publication's wire message holds its subject, reply and headers besides the payload;
// the gateways allow max_payload plus this much (poldercast_config.cpp).
const WIRE_ALLOWANCE = 32 * 1024;

const hasWildcard = (subject) => subject.split('.').some((t) => t === '*' || t === '>');

export class OverlayConnection extends EventTarget {
  /**
   * Use `connectOverlay()`, which waits for the first link.
   * @param {string | URL} url a gateway's `poldercast.websocket` listener
   * @param {Record<string, unknown>} [options]
   */
  constructor(url, options = {}) {
    super();
    this.options = resolveOptions(url, options);
    /** @type {'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'closed'} */
    this.status = 'connecting';
    this.stats = {
      inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, reconnects: 0,
      droppedPublishes: 0, droppedBytes: 0, droppedMessages: 0, linkDrops: 0, malformedSignals: 0,
      /** The data channels' own figures (see PeerLinks), or null without WebRTC. */
      get peers() { return peers(); },
      /** What this page relays for pages that joined through it (see PageRelay). */
      get relay() { return pageRelay.stats; },
      /** What the rendezvous channel heard, or null without one. */
      get rendezvous() { return rendezvous(); },
    };
    const pageRelay = new PageRelay({ maxPages: this.options.maxRelayedPages, bytesPerSecond: this.options.maxRelayBytes });
    const rendezvous = () => (this.rendezvous === null ? null : { ...this.rendezvous.stats });
    const peers = () => (this.peers === null ? null
      : { ...this.peers.stats, createdInPage: peerConnectionsCreated() });
    this.subscriptions = new SubscriptionTable();
    this.requests = new RequestMux((pattern, callback) => this.subscribe(pattern, { callback }));
    this.backoff = new Backoff(this.options.reconnectDelay, this.options.reconnectDelayMax);
    this.publishForReply = (subject, data, opts) => this.publish(subject, data, opts);
    /** @type {GatewayLink | null} */
    this.link = null;
    /** @type {any} the wasm Node; replaced when a new link names another relay */
    this.node = null;
    /** The gateway (or page) address this node's own address names. */
    this.relay = '';
    /** The page this node joined through, when no gateway could be reached; else "". */
    this.upstream = '';
    this.pageRelay = pageRelay;
    this.maxPublication = this.options.maxPayload + WIRE_ALLOWANCE;
    /** @type {Rendezvous | null} */
    this.rendezvous = this.options.rendezvous !== '' && this.options.webrtc ? new Rendezvous({
      name: this.options.rendezvous,
      BroadcastChannel: this.options.BroadcastChannel,
      self: () => this.address,
      canRelay: () => this.canRelay(),
      onJoin: (from) => this.canRelay() !== '' && pageRelay.adopt(from, (a) => this.peers?.links.has(a) ?? false),
      onSignal: (from, data) => {
        if (from === this.upstream || pageRelay.adopts(from)) this.peers?.onSignal(from, data);
      },
    }) : null;
    /** Resolves the wait for the channel to the page being joined through. */
    this.upstreamOpened = null;
    /** @type {PeerLinks | null} data channels to other pages, for the current node */
    this.peers = null;
    this.module = null;
    /** Publications made while no link is up, sent when one is: [subject, reply, headers, payload]. */
    this.waiting = [];
    this.waitingBytes = 0;
    /** Deliveries the node made during a call, dispatched once it returns (it is not re-entrant). */
    this.deliveries = [];
    this.inNode = false;
    this.attempts = 0;
    this.everConnected = false;
    this.closing = false;
    this.tickTimer = undefined;
    this.reconnectTimer = undefined;
    this.firstConnect = new Promise((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    this.firstConnect.catch(() => {});
    /** @type {Promise<PsychoError | undefined>} */
    this.closedPromise = new Promise((resolve) => { this.resolveClosed = resolve; });
    this.open();
  }

  /**
   * Publishes `data` to `subject` through the overlay. While no link is up, publications
   * wait up to `maxPendingBytes`; past it they are dropped and counted.
   * @param {string} subject
   * @param {Uint8Array | ArrayBuffer | string} [data]
   * @param {{reply?: string, headers?: object}} [options]
   */
  publish(subject, data, options = {}) {
    this.checkOpen();
    checkSubject(subject, { wildcards: false });
    const reply = options.reply ?? '';
    if (reply !== '') checkSubject(reply, { wildcards: false, what: 'reply subject' });
    const payload = toBytes(data);
    const headers = options.headers === undefined ? new Uint8Array(0) : encodeHeaders(options.headers);
    if (payload.length + headers.length > this.options.maxPayload) {
      throw new PsychoError('max_payload',
        `${payload.length + headers.length} bytes exceed maxPayload (${this.options.maxPayload})`);
    }
    if (this.options.echo) this.dispatch(subject, reply, headers, payload);
    if (this.node === null) return this.hold([subject, reply, headers, payload]);
    this.stats.outMsgs += 1;
    this.stats.outBytes += payload.length;
    this.call(() => this.node.publish(subject, reply, headers, payload));
  }

  /**
   * Subscribes to `subject`. An exact subject joins its ring in the overlay; a wildcard
   * hears what reaches this node for its exact subscriptions and replies to its requests.
   * Queue groups need a gateway (they are shared by its clients), so there are none here.
   * @param {string} subject
   * @param {{callback?: (err: PsychoError | null, msg: Msg | null) => void, max?: number,
   *   maxPending?: number}} [options]
   * @returns {Subscription}
   */
  subscribe(subject, options = {}) {
    this.checkOpen();
    checkSubject(subject, { wildcards: true });
    if (options.queue !== undefined && options.queue !== '') {
      throw new PsychoError('invalid_option', 'queue groups need a gateway connection (connect())');
    }
    const sub = new Subscription({
      subject, queue: '',
      max: options.max ?? 0,
      maxPending: options.maxPending ?? this.options.maxPendingMessages,
      callback: options.callback ?? null,
      onDone: (done) => this.forget(done),
      onDrop: () => { this.stats.droppedMessages += 1; },
    });
    if (this.subscriptions.add(sub) && !hasWildcard(subject) && this.node !== null) {
      this.call(() => this.node.subscribe(subject));
    }
    return sub;
  }

  /**
   * Publishes a request and resolves with the first reply, which comes straight back to
   * this node through the overlay.
   * @param {string} subject
   * @param {Uint8Array | ArrayBuffer | string} [data]
   * @param {{timeout?: number, headers?: object}} [options]
   * @returns {Promise<Msg>} rejects with kind `timeout` or `connection_closed`
   */
  async request(subject, data, options = {}) {
    const timeout = options.timeout ?? this.options.requestTimeout;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new PsychoError('invalid_option', 'timeout must be a positive number of milliseconds');
    }
    checkSubject(subject, { wildcards: false });
    const { reply, result } = this.requests.start(subject, timeout);
    this.publish(subject, data, { headers: options.headers, reply });
    return result;
  }

  /**
   * Resolves once what was published has left this page (the gateway link's and the data
   * channels' buffers are empty); the overlay has no end-to-end acknowledgement.
   * @returns {Promise<void>}
   */
  async flush() {
    this.checkOpen();
    const deadline = Date.now() + this.options.timeout;
    const unsent = () => (this.link?.backlog ?? 0) + this.waitingBytes +
      [...(this.peers?.links.values() ?? [])].reduce((sum, l) => sum + (l.channel?.bufferedAmount ?? 0), 0);
    while (unsent() > 0) {
      if (Date.now() > deadline) throw new PsychoError('timeout', `not flushed within ${this.options.timeout} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Tells the overlay this node leaves, and closes. @returns {Promise<void>} */
  async close() {
    if (this.status !== 'closed' && !this.closing) {
      this.closing = true;
      clearTimeout(this.reconnectTimer);
      if (this.node !== null) this.call(() => this.node.leave());
      this.finish(undefined);
    }
    await this.closedPromise;
  }

  /** @returns {Promise<PsychoError | undefined>} */
  closed() {
    return this.closedPromise;
  }

  /**
   * The overlay node's own figures: cycle, view sizes, rings (and how many are complete),
   * publications published/forwarded/delivered/duplicates, and refusals.
   * @returns {Record<string, number> | null}
   */
  overlay() {
    return this.node === null ? null : this.node.stats();
  }

  /** This node's overlay address ("web:<id>@<gateway>", or "web:<id>@<page>" when it joined
   * through a page), or "" between links. */
  get address() {
    return this.node === null ? '' : this.node.address();
  }

  // ---- internals -------------------------------------------------------------------------

  checkOpen() {
    if (this.status === 'closed' || this.closing) {
      throw new PsychoError('connection_closed', 'the connection is closed');
    }
  }

  hold(publication) {
    const size = publication[2].length + publication[3].length;
    if (this.waitingBytes + size > this.options.maxPendingBytes) {
      this.stats.droppedPublishes += 1;
      this.stats.droppedBytes += size;
      return;
    }
    this.waiting.push(publication);
    this.waitingBytes += size;
  }

  /** Runs `fn` inside the node, then hands out what it delivered meanwhile. */
  call(fn) {
    if (this.inNode) throw new Error('psycho.js: the overlay node was entered again');
    this.inNode = true;
    try {
      fn();
    } finally {
      this.inNode = false;
    }
    const deliveries = this.deliveries;
    this.deliveries = [];
    for (const m of deliveries) this.dispatch(m.subject, m.reply, m.headers, m.payload);
  }

  dispatch(subject, reply, headers, payload) {
    this.stats.inMsgs += 1;
    this.stats.inBytes += payload.length;
    for (const sub of this.subscriptions.recipients(subject)) {
      sub.deliver(new Msg(subject, reply, payload, headers.length > 0 ? headers : null, this.publishForReply));
    }
  }

  forget(sub) {
    if (this.subscriptions.remove(sub) && !hasWildcard(sub.subject) && this.node !== null && !this.closing) {
      this.call(() => this.node.unsubscribe(sub.subject));
    }
  }

  setStatus(status, error) {
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, error: error ?? null, attempt: this.attempts } }));
  }

  async open() {
    try {
      this.module ??= await loadPolderCast(this.options.wasm);
    } catch (e) {
      return this.finish(new PsychoError('connect_failed', `cannot load the PolderCast module: ${e?.message ?? e}`));
    }
    if (this.closing) return;
    const relay = await this.linkGateway();
    if (this.closing) return;
    if (typeof relay === 'string') {
      // The same gateway again (it restarted, or the link dropped): the node and its data
      // channels go on. Another gateway: the node's address must name it, so a new node.
      if (this.node === null || relay !== this.relay) this.startNode(relay);
      return this.linked();
    }
    if (await this.joinThroughPage()) return this.linked();
    if (!this.closing) this.failed(relay);
  }

  /** One attempt at the gateway: its relay address, or why not. @returns {Promise<string | PsychoError>} */
  async linkGateway() {
    const link = new GatewayLink(this.options.WebSocket, this.options.url, {
      maxBufferedBytes: this.options.maxPendingBytes,
      timeout: this.options.timeout,
      onMessage: (bytes) => {
        if (this.link === link) this.received(bytes);
      },
      // A link that never came up is open()'s to deal with.
      onClose: (error) => {
        if (link.up) this.lost(link, error);
      },
    });
    this.link = link;
    try {
      const relay = await link.ready;
      if (this.link !== link) return new PsychoError('connection_closed', 'closed');
      link.up = true;
      return relay;
    } catch (e) {
      if (this.link === link) this.link = null;
      return e;
    }
  }

  /**
   * No gateway answered: join through a page of this origin that answers on the rendezvous
   * channel, the first data channel signalled over it. Not for a node that still has data
   * channels: it keeps them (and its address) while it tries the gateway again.
   * @returns {Promise<boolean>}
   */
  async joinThroughPage() {
    if (this.rendezvous === null || (this.peers?.stats.open ?? 0) > 0) return false;
    const via = await this.rendezvous.seek(SEEK_MS);
    if (via === '' || this.closing || depthOf(via) >= MAX_PAGE_DEPTH) return false;
    // The page hears who we are before anything else we send it.
    const id = randomId();
    this.rendezvous.join(via, `web:${id}@${via}`);
    this.startNode(via, via, id);
    const opened = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), this.options.timeout);
      this.upstreamOpened = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
    });
    this.peers?.want(via);
    const ok = await opened;
    this.upstreamOpened = null;
    if (ok && !this.closing && this.upstream === via) return true;
    if (!this.closing && this.upstream === via) this.stopNode();
    return false;
  }

  /** Linked (to a gateway, or through a page): what waited is published. */
  linked() {
    this.attempts = 0;
    this.everConnected = true;
    this.backoff.reset();
    const waiting = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    for (const [subject, reply, headers, payload] of waiting) {
      this.call(() => this.node.publish(subject, reply, headers, payload));
    }
    this.setStatus('connected');
    this.resolveFirst(this);
  }

  /** This page's address, when it can relay for one more page joining through it; else "". */
  canRelay() {
    const linked = this.link?.up === true || (this.peers?.stats.open ?? 0) > 0;
    if (this.node === null || this.peers === null || this.closing || !linked ||
        depthOf(this.address) >= MAX_PAGE_DEPTH ||
        !this.pageRelay.room((a) => this.peers?.links.has(a) ?? false)) {
      return '';
    }
    return this.address;
  }

  /**
   * A new node whose address names `relay`, subscribed to what the page subscribes;
   * `upstream` is the page it joins through (then also its relay), or "".
   */
  startNode(relay, upstream = '', id = randomId()) {
    this.stopNode();
    const module = this.module;
    const address = `web:${id}@${relay}`;
    this.relay = relay;
    this.upstream = upstream;
    const maxPublication = this.maxPublication;
    const transport = {
      send: (to, bytes) => this.send(to, bytes),
      backlog: (to) => this.peers?.links.get(to)?.channel?.bufferedAmount ?? this.link?.backlog ?? 0,
    };
    if (this.options.webrtc) {
      const peers = new PeerLinks({
        self: address,
        rtcConfiguration: this.options.rtcConfiguration,
        maxConnections: this.options.maxPeerConnections,
        maxLinks: this.options.maxPeerLinks,
        maxMessage: maxPublication + RELAY_OVERHEAD,
        maxBufferedBytes: this.options.maxPendingBytes,
        signal: (to, message) => this.signal(id, address, to, message),
        onMessage: (from, bytes) => (isRelay(bytes) ? this.forward(from, bytes) : this.received(bytes)),
        onOpen: (opened) => {
          if (opened === this.upstream && this.peers === peers) this.upstreamOpened?.(true);
        },
        // Later: a channel can fail inside a send, that is inside the node.
        onClosed: (gone) => queueMicrotask(() => {
          if (this.node === null || this.peers !== peers) return;
          this.pageRelay.forget(gone);
          this.call(() => this.node.onUnreachable(gone, ''));
          if (gone === this.upstream) this.upstreamLost();
        }),
      });
      this.peers = peers;
    }
    this.node = new module.Node({ id, address, seed: Math.floor(Math.random() * 2 ** 52), maxPublication },
      transport, (m) => this.deliveries.push(m));
    this.call(() => {
      this.node.setSeeds([relay]);
      for (const entry of this.subscriptions.entries.values()) {
        if (!hasWildcard(entry.subject)) this.node.subscribe(entry.subject);
      }
      this.node.tick(Date.now());
    });
    this.scheduleTick();
  }

  stopNode() {
    clearTimeout(this.tickTimer);
    this.peers?.close();
    this.peers = null;
    this.upstream = '';
    this.upstreamOpened?.(false);
    this.pageRelay.clear();
    if (this.node !== null) {
      this.node.delete();
      this.node = null;
    }
  }

  /** The node's transport: a data channel when one is open, else the gateway (relaying). */
  send(to, bytes) {
    const direct = this.peers?.send(to, bytes);
    if (direct !== undefined) return direct;
    if (undialable(to)) this.peers?.want(to);
    return this.relayed(to, bytes);
  }

  relayed(to, bytes) {
    const ok = this.route(to, bytes);
    if (!ok) this.stats.linkDrops += 1;
    return ok;
  }

  /**
   * Without a channel to `to`: to a page that joined through a page, over our channel to that
   * page, in an envelope; else through our gateway; else (we joined through a page) through
   * the page we joined through.
   */
  route(to, bytes) {
    const via = relayOf(to);
    if (undialable(via)) {
      if (via === this.address) return false; // ours, but its channel is gone
      const sent = this.peers?.send(via, this.module.encodeRelay(to, bytes));
      if (sent !== undefined) return sent;
    }
    const wrap = (relay) => (to === relay ? bytes : this.module.encodeRelay(to, bytes));
    if (this.link !== null) return this.link.send(wrap(this.relay));
    if (this.upstream !== '') return this.peers?.send(this.upstream, wrap(this.upstream)) ?? false;
    return false;
  }

  /** A PeerLinks signal: over the rendezvous channel to the page we joined through, or one
   * that joined through us (their first channel is signalled there); else through the overlay. */
  signal(id, address, to, message) {
    if (this.rendezvous !== null && (to === this.upstream || this.pageRelay.adopts(to))) {
      this.rendezvous.signal(to, address, message);
      return true;
    }
    return this.relayed(to, this.module.encodeSignal(id, address, encoder.encode(JSON.stringify(message))));
  }

  /**
   * An envelope over a data channel: for a page that joined through this one, or from it.
   * Its message must speak for the channel's peer; it goes on only over a data channel.
   */
  forward(from, bytes) {
    const envelope = this.module.decodeRelay(bytes, this.maxPublication);
    if (envelope?.sender === from && envelope.destination === this.address) return this.received(envelope.message);
    this.pageRelay.pass(from, envelope, (to, message) => this.peers?.send(to, message));
  }

  /** A message from the gateway or a data channel: a signal for PeerLinks, or the node's. */
  received(bytes) {
    if (this.node === null) return;
    if (bytes.length > 3 && bytes[3] === SIGNAL) {
      const signal = this.module.decodeSignal(bytes);
      let message = null;
      try {
        message = signal === null ? null : JSON.parse(decoder.decode(signal.data));
      } catch {
        message = null;
      }
      if (message === null) this.stats.malformedSignals += 1;
      else this.peers?.onSignal(signal.from, message);
      return;
    }
    this.call(() => this.node.onMessage(bytes));
  }

  scheduleTick() {
    clearTimeout(this.tickTimer);
    // ±20%, as the gateways do, so that pages loaded together do not gossip in lockstep.
    const delay = this.options.cycle * (0.8 + 0.4 * Math.random());
    this.tickTimer = setTimeout(() => {
      if (this.node === null) return;
      this.call(() => this.node.tick(Date.now()));
      this.scheduleTick();
    }, delay);
  }

  lost(link, error) {
    if (this.link !== link) return;
    this.link = null;
    if (this.closing) return;
    this.failed(error);
  }

  /** The data channel to the page this node joined through closed: as a lost link. */
  upstreamLost() {
    if (this.closing || this.link !== null || this.status !== 'connected') return;
    this.failed(new PsychoError('disconnected', 'the page this node joined through is gone'));
  }

  /** No link: connectOverlay() rejects the first time; later, try again after a while. */
  failed(error) {
    // The first link failed: connectOverlay() rejects.
    if (!this.everConnected) return this.finish(error);
    if (this.status === 'connected') this.setStatus('disconnected', error);
    if (!this.options.reconnect ||
        (this.options.maxReconnectAttempts >= 0 && this.attempts >= this.options.maxReconnectAttempts)) {
      return this.finish(error);
    }
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.stats.reconnects += 1;
      this.setStatus('reconnecting');
      this.open();
    }, this.backoff.next());
  }

  finish(error) {
    if (this.status === 'closed') return;
    clearTimeout(this.reconnectTimer);
    const link = this.link;
    this.link = null;
    this.stopNode();
    link?.close();
    this.rendezvous?.close();
    this.closing = true;
    this.setStatus('closed', error);
    for (const entry of this.subscriptions.entries.values()) {
      for (const sub of [...entry.subs]) sub.finish(null);
    }
    this.requests.failAll(new PsychoError('connection_closed', 'the connection is closed'));
    this.rejectFirst(error ?? new PsychoError('connection_closed', 'closed before connecting'));
    this.resolveClosed(error);
  }
}

/**
 * Joins the PolderCast overlay as a node, linked through the gateway whose
 * `poldercast.websocket` listener is at `url`; resolves once linked.
 * @param {string | URL} url
 * @param {Record<string, unknown>} [options]
 * @returns {Promise<OverlayConnection>}
 */
export async function connectOverlay(url, options = {}) {
  const conn = new OverlayConnection(url, options);
  await conn.firstConnect;
  return conn;
}
