// Type declarations of psycho.js, written by hand next to the JavaScript they describe.

/** A payload: bytes, or text sent as UTF-8 (sizes are always counted in bytes). */
export type Payload = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** Headers to send: an object, a Map, MsgHeaders or pairs; a value may repeat. */
export type HeadersInit =
  | Record<string, string | string[]>
  | Map<string, string | string[]>
  | MsgHeaders
  | Iterable<[string, string | string[]]>;

export type Status = 'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'closed';

/** Server error kinds (from `-ERR`) and client error kinds. */
export type ErrorKind =
  | 'unknown_operation' | 'control_line_too_long' | 'max_payload' | 'bad_payload_terminator'
  | 'invalid_arguments' | 'invalid_subject' | 'invalid_publish_subject' | 'slow_consumer'
  | 'stale_connection' | 'authorization_violation' | 'max_connections' | 'max_subscriptions'
  | 'permissions_violation' | 'rate_limited' | 'server_error'
  | 'timeout' | 'no_responders' | 'connection_closed' | 'disconnected' | 'connect_failed'
  | 'protocol_error' | 'bad_subject' | 'bad_payload' | 'buffer_full' | 'invalid_option';

/** Every error psycho.js raises or reports. */
export class PsychoError extends Error {
  readonly name: 'PsychoError';
  readonly kind: ErrorKind;
  /** The `-ERR` text as the server sent it, for server errors. */
  readonly serverText?: string;
  /** The subject a permissions violation names. */
  readonly subject?: string;
  /** `publish` or `subscribe`, for a permissions violation. */
  readonly direction?: 'publish' | 'subscribe';
  /** Whether the server closes the connection after this error. */
  readonly fatal: boolean;
}

/** The headers of a received message. */
export class MsgHeaders implements Iterable<[string, string[]]> {
  /** The status after `NATS/1.0` (503: no responders, from a bridged NATS), or 0. */
  readonly status: number;
  readonly description: string;
  /** The first value of a header; names compare case-insensitively. */
  get(name: string): string | undefined;
  getAll(name: string): string[];
  [Symbol.iterator](): IterableIterator<[string, string[]]>;
}

/** A received message. */
export class Msg {
  /** The subject it was published on (not the pattern that matched). */
  readonly subject: string;
  /** The reply subject, or "". */
  readonly reply: string;
  readonly data: Uint8Array;
  /** Its headers, or null. */
  readonly headers: MsgHeaders | null;
  /** The payload as UTF-8 text. */
  string(): string;
  json<T = unknown>(): T;
  /** Publishes to the reply subject; false when there is none. */
  respond(data?: Payload, options?: { headers?: HeadersInit }): boolean;
}

export type MsgCallback = (err: PsychoError | null, msg: Msg | null) => void;

export interface SubscribeOptions {
  /** Join this queue group: each message goes to one member across the gateway. */
  queue?: string;
  /** Receive through this callback instead of the async iterator. */
  callback?: MsgCallback;
  /** End the subscription after this many messages (counted by the client). */
  max?: number;
  /** Messages the iterator may hold before new ones are dropped (default: the connection's). */
  maxPending?: number;
}

/** A subscription: iterate it with `for await`, or give a callback. */
export class Subscription implements AsyncIterable<Msg> {
  readonly subject: string;
  readonly queue: string;
  /** Messages handed to it. */
  readonly received: number;
  /** Messages dropped because the iterator's queue was full. */
  readonly dropped: number;
  readonly isClosed: boolean;
  /** Resolves when it ends; rejects with the error that ended it. */
  readonly closed: Promise<void>;
  unsubscribe(): void;
  [Symbol.asyncIterator](): AsyncIterator<Msg>;
}

export interface ConnectOptions {
  /** A name for the server's logs. */
  name?: string;
  /** `gateway.auth.token`. */
  token?: string;
  user?: string;
  password?: string;
  /** Receive your own publications (default false). */
  echo?: boolean;
  /** Ask for HMSG (headers) when the server offers them (default true). */
  headers?: boolean;
  /**
   * With headers: a request that nothing can take fails at once with kind `no_responders`
   * (the gateway, or a NATS system behind it, says so) instead of timing out (default true).
   */
  noResponders?: boolean;
  /** A WebSocket class; default `globalThis.WebSocket` (Node 20: pass the ws package's). */
  WebSocket?: new (url: string) => unknown;
  /** Connect attempt, flush and close timeout in ms (default 10000). */
  timeout?: number;
  /** Reconnect after losing the connection (default true). */
  reconnect?: boolean;
  /** First reconnect delay in ms before jitter (default 250), doubling up to reconnectDelayMax. */
  reconnectDelay?: number;
  /** Largest reconnect delay in ms (default 10000). */
  reconnectDelayMax?: number;
  /** Reconnect attempts in a row before closing; -1 (default) for forever. */
  maxReconnectAttempts?: number;
  /** Keep trying when the very first attempt fails instead of rejecting (default false). */
  waitOnFirstConnect?: boolean;
  /** How often the client PINGs the server, in ms (default 30000). */
  pingInterval?: number;
  /** Unanswered PINGs after which the server counts as stale and the client reconnects (default 2). */
  maxPingsOut?: number;
  /** Bytes of outgoing data held (waiting in the client or in the socket) before publishes are dropped (default 8 MiB). */
  maxPendingBytes?: number;
  /** Default maxPending of subscriptions (default 65536). */
  maxPendingMessages?: number;
  /** Default request timeout in ms (default 5000). */
  requestTimeout?: number;
  /** Where `offline`/`online` events come from; default globalThis when it has addEventListener. */
  networkEvents?: EventTarget;
}

export interface Stats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  reconnects: number;
  serverErrors: number;
  /** Publishes dropped because maxPendingBytes was reached (connected or not). */
  droppedPublishes: number;
  droppedBytes: number;
  /** Messages dropped by subscriptions whose iterator fell behind. */
  droppedMessages: number;
  /** WebSocket messages sent. */
  readonly framesSent: number;
}

export interface StatusDetail {
  status: Status;
  /** Why, for `disconnected` and an unclean `closed`. */
  error: PsychoError | null;
  /** The reconnect attempt, for `reconnecting`. */
  attempt: number;
}

/**
 * A connection to a gateway. Events: `status` (CustomEvent<StatusDetail>) and `error`
 * (CustomEvent<PsychoError>, for every -ERR and every malformed server frame).
 */
export class Connection extends EventTarget {
  readonly status: Status;
  /** The server's INFO. */
  readonly info: Record<string, any> | null;
  readonly stats: Stats;
  publish(subject: string, data?: Payload, options?: { reply?: string; headers?: HeadersInit }): void;
  subscribe(subject: string, options?: SubscribeOptions): Subscription;
  request(subject: string, data?: Payload, options?: { timeout?: number; headers?: HeadersInit }): Promise<Msg>;
  /** Resolves once the server has processed everything sent before. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when closed, with the error that closed it (undefined after close()). */
  closed(): Promise<PsychoError | undefined>;
}

/** Connects and resolves once the server has accepted the connection. */
export function connect(url: string | URL, options?: ConnectOptions): Promise<Connection>;

export interface OverlayOptions {
  /** Kept for symmetry with connect(); overlay links carry no name. */
  name?: string;
  /** Receive your own publications (default false). */
  echo?: boolean;
  /** A WebSocket class; default `globalThis.WebSocket` (Node 20: pass the ws package's). */
  WebSocket?: new (url: string) => unknown;
  /** The built PolderCast module (`poldercast.mjs`); default: beside `src/poldercast/wasm.js`. */
  wasm?: string | URL;
  /** Gossip cycle in ms, ±20% jitter (default 1000, as the gateways). */
  cycle?: number;
  /** Largest headers + payload of a publication, in bytes (default 1 MiB: the gateways' max_payload). */
  maxPayload?: number;
  /** Link attempt and flush timeout in ms (default 10000). */
  timeout?: number;
  /** Link again (as a new node) after losing the link (default true). */
  reconnect?: boolean;
  reconnectDelay?: number;
  reconnectDelayMax?: number;
  maxReconnectAttempts?: number;
  /** Bytes of publications held while no link is up, and of the link's unsent buffer (default 8 MiB). */
  maxPendingBytes?: number;
  maxPendingMessages?: number;
  requestTimeout?: number;
  /** Link to other pages with WebRTC data channels (default: when RTCPeerConnection exists). */
  webrtc?: boolean;
  /** For RTCPeerConnection: STUN/TURN servers (default `{iceServers: []}`). */
  rtcConfiguration?: RTCConfiguration;
  /** RTCPeerConnections this page may ever create (default 400; Chromium allows 500 per tab). */
  maxPeerConnections?: number;
  /** Data channel links open at once (default 32). */
  maxPeerLinks?: number;
  /**
   * Joining without a gateway (default "default" where WebRTC and BroadcastChannel exist,
   * else ""; "" turns it off): the name of the overlay's rendezvous
   * channel (a BroadcastChannel, so only pages of this origin in this browser profile). A page
   * that reaches no gateway asks there for a page to join through, and answers such pages
   * itself. At most 64 of `A-Z a-z 0-9 _ . -`. Needs WebRTC.
   */
  rendezvous?: string;
  /** A BroadcastChannel class; default `globalThis.BroadcastChannel`. */
  BroadcastChannel?: new (name: string) => unknown;
  /** Pages that joined through this one it relays for at once (default 8). */
  maxRelayedPages?: number;
  /** Bytes a second this page passes on for those pages (default 4 MiB). */
  maxRelayBytes?: number;
}

export interface PeerStats {
  created: number;
  open: number;
  closed: number;
  /** RTCPeerConnections this page has created in its lifetime, over all its connections. */
  createdInPage: number;
  /** Links not made: the budget was spent. */
  refusedBudget: number;
  /** Messages dropped: the channel's send buffer was full. */
  bufferDrops: number;
  /** Frames no node sends, and SDP the browser refused: the link was cut. */
  malformed: number;
  messagesIn: number;
  messagesOut: number;
}

/** What a page relays for the pages that joined through it (`stats.relay`). */
export interface RelayStats {
  /** Pages relayed for now (at most maxRelayedPages). */
  pages: number;
  forwarded: number;
  forwardedBytes: number;
  /** Envelopes that did not decode, or spoke for another page than their channel's. */
  malformed: number;
  /** Envelopes neither from nor for a page relayed for here. */
  refused: number;
  /** No open data channel to the page named. */
  noRoute: number;
  /** Past maxRelayBytes a second. */
  overBudget: number;
  /** The channel's send buffer was full. */
  bufferDrops: number;
}

/** What the rendezvous channel heard (`stats.rendezvous`). */
export interface RendezvousStats {
  received: number;
  /** Messages that are not what a page sends (too long, not JSON, a field wrong): ignored. */
  malformed: number;
  /** Seeks answered: this page offered to relay. */
  answered: number;
  /** Seeks not answered (no room, or past 16 a second) and joins refused. */
  refused: number;
}

export interface OverlayStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  reconnects: number;
  /** Publications dropped while no link was up, past maxPendingBytes. */
  droppedPublishes: number;
  droppedBytes: number;
  droppedMessages: number;
  /** Overlay messages not sent: no gateway link, or its socket held maxPendingBytes unsent. */
  linkDrops: number;
  /** Signals that did not decode. */
  malformedSignals: number;
  /** The data channels' figures; null without WebRTC. */
  readonly peers: PeerStats | null;
  readonly relay: RelayStats;
  /** Null without a `rendezvous` channel. */
  readonly rendezvous: RendezvousStats | null;
}

/** The overlay node's own figures (`OverlayConnection.overlay()`). */
export interface OverlayNodeStats {
  cycle: number;
  cyclon: number;
  vicinity: number;
  rings: number;
  ringsComplete: number;
  published: number;
  forwarded: number;
  delivered: number;
  duplicates: number;
  noSubscriber: number;
  sendFailed: number;
  peersDead: number;
  malformed: number;
}

/**
 * This page as a PolderCast node (the gateways' own code, in WebAssembly), linked through a
 * gateway's `poldercast.websocket` listener: the publish/subscribe/request API of
 * Connection. No queue groups (they belong to a gateway's clients). Events: `status`.
 */
export class OverlayConnection extends EventTarget {
  readonly status: Status;
  readonly stats: OverlayStats;
  /** This node's overlay address, `web:<id>@<gateway>` (`web:<id>@<page>` when it joined through a page); "" between links. */
  readonly address: string;
  publish(subject: string, data?: Payload, options?: { reply?: string; headers?: HeadersInit }): void;
  subscribe(subject: string, options?: Omit<SubscribeOptions, 'queue'>): Subscription;
  request(subject: string, data?: Payload, options?: { timeout?: number; headers?: HeadersInit }): Promise<Msg>;
  /** Resolves once what was published has left the page (there is no end-to-end acknowledgement). */
  flush(): Promise<void>;
  /** Tells the overlay this node leaves, and closes. */
  close(): Promise<void>;
  closed(): Promise<PsychoError | undefined>;
  overlay(): OverlayNodeStats | null;
}

/**
 * Joins the overlay through the gateway whose `poldercast.websocket` listener is at `url`; with
 * `rendezvous`, through a page of this origin when no gateway answers.
 */
export function connectOverlay(url: string | URL, options?: OverlayOptions): Promise<OverlayConnection>;

/** A fresh inbox subject (`_INBOX.<random>`). */
export function createInbox(): string;

export const VERSION: string;
