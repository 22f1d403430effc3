// WebRTC data channels between browser nodes, one per peer address, whatever subjects they
// share. Their offers, answers and ICE candidates travel as signal messages through the
// overlay itself (relayed by the gateways both pages link to): there is no signalling server.
//
// Chromium's limits shape it: a tab may create at most 500 RTCPeerConnections in its
// lifetime (closed ones count), so links are made only to peers the node talks to, kept
// while they work, and budgeted (`maxConnections` in the page's lifetime, over all its
// nodes; `maxLinks` at once); past the budget the overlay keeps using the relay. A data channel message of 16 KiB is what every browser
// takes, so larger overlay messages go in fragments (one header byte: 1 = more follow, 0 =
// the last) and are put back together up to `maxMessage`; the small ones a turn sends to
// one peer go together in one channel message (header byte 2, then u16 length + message
// each), as a browser sends only a few thousand channel messages a second. A channel whose send buffer is past
// `maxBufferedBytes` drops what would overflow it, counted, rather than let it close.

const CHUNK = 16 * 1024 - 1;
const MORE = 1;
const LAST = 0;
const BATCH = 2;
// A peer asked to call us (it has the higher address) is asked again only after this long,
// and a peer whose link failed or closed is tried again only after this long: each attempt
// costs one of the tab's RTCPeerConnections for good.
const CALL_AGAIN_MS = 10_000;
const RETRY_MS = 30_000;
// A connection 'disconnected' this long is taken as gone, and one not open this long after
// it was made (an offer nobody answered, ICE that found no path) is given up.
const DISCONNECTED_MS = 5_000;
const OPEN_TIMEOUT_MS = 15_000;
// How long a closing page's connections stay up for what it sent last.
const CLOSE_GRACE_MS = 1_000;
// RTCPeerConnections this page (this JavaScript realm: one tab) has created, over every
// connection and node it has had: Chromium's limit is per tab lifetime, not per node.
let createdInThisPage = 0;

/** RTCPeerConnections created in this page so far. */
export function peerConnectionsCreated() {
  return createdInThisPage;
}

export class PeerLinks {
  /**
   * @param {{self: string, rtcConfiguration: object, maxConnections: number, maxLinks: number,
   *   maxMessage: number, maxBufferedBytes: number,
   *   signal: (address: string, message: object) => boolean,
   *   onMessage: (address: string, bytes: Uint8Array) => void,
   *   onClosed: (address: string) => void, onOpen?: (address: string) => void}} options
   */
  constructor(options) {
    this.options = options;
    /** @type {Map<string, {pc: RTCPeerConnection, channel: RTCDataChannel | null, open: boolean,
     *   remoteSet: boolean, candidates: object[], parts: Uint8Array[], size: number}>} */
    this.links = new Map();
    /** @type {Map<string, number>} when each higher-addressed peer was last asked to call */
    this.called = new Map();
    /** @type {Map<string, number>} when each peer's link last failed or closed */
    this.failed = new Map();
    this.stats = {
      created: 0, open: 0, refusedBudget: 0, bufferDrops: 0, malformed: 0, closed: 0,
      messagesIn: 0, messagesOut: 0,
    };
    this.closed = false;
  }

  /**
   * Sends over the open link to `address`: true, or false when its buffer is full (counted);
   * undefined when there is no open link (the caller relays instead).
   * @param {string} address
   * @param {Uint8Array} bytes
   */
  send(address, bytes) {
    const link = this.links.get(address);
    if (link === undefined || !link.open) return undefined;
    const channel = /** @type {RTCDataChannel} */ (link.channel);
    if (channel.bufferedAmount + link.batchBytes + bytes.length + Math.ceil(bytes.length / CHUNK) >
        this.options.maxBufferedBytes) {
      this.stats.bufferDrops += 1;
      return false;
    }
    this.stats.messagesOut += 1;
    if (bytes.length > 0 && bytes.length + 2 <= CHUNK) {
      if (link.batchBytes + bytes.length + 2 > CHUNK) this.flushBatch(address, link);
      link.batch.push(bytes);
      link.batchBytes += bytes.length + 2;
      if (link.batch.length === 1) queueMicrotask(() => this.flushBatch(address, link));
      return true;
    }
    this.flushBatch(address, link); // what was sent before goes first
    return this.sendFragments(address, link, bytes);
  }

  /** One message in fragments of at most CHUNK bytes. */
  sendFragments(address, link, bytes) {
    const channel = /** @type {RTCDataChannel} */ (link.channel);
    try {
      for (let offset = 0; offset < bytes.length || offset === 0; offset += CHUNK) {
        const end = Math.min(bytes.length, offset + CHUNK);
        const frame = new Uint8Array(end - offset + 1);
        frame[0] = end < bytes.length ? MORE : LAST;
        frame.set(bytes.subarray(offset, end), 1);
        channel.send(frame);
        if (end === bytes.length) break;
      }
    } catch {
      this.drop(address); // closed under us
      return false;
    }
    return true;
  }

  /** Sends the small messages waiting for `link` as one channel message. */
  flushBatch(address, link) {
    if (link.batch.length === 0 || this.links.get(address) !== link) return;
    const batch = link.batch;
    const size = link.batchBytes;
    link.batch = [];
    link.batchBytes = 0;
    if (batch.length === 1) {
      this.sendFragments(address, link, batch[0]);
      return;
    }
    const frame = new Uint8Array(size + 1);
    frame[0] = BATCH;
    let at = 1;
    for (const m of batch) {
      frame[at] = m.length >> 8;
      frame[at + 1] = m.length & 0xff;
      frame.set(m, at + 2);
      at += m.length + 2;
    }
    try {
      /** @type {RTCDataChannel} */ (link.channel).send(frame);
    } catch {
      this.drop(address);
    }
  }

  /** The node talks to `address` through the relay: make a direct link if the budget allows. */
  want(address) {
    if (this.closed || this.links.has(address) || this.resting(address) || !this.affordable()) return;
    if (this.options.self < address) {
      this.call(address);
    } else if (Date.now() - (this.called.get(address) ?? -Infinity) > CALL_AGAIN_MS) {
      // The lower address makes the offer, so two pages never offer to each other at once.
      this.called.set(address, Date.now());
      if (this.called.size > 4 * this.options.maxLinks) this.called.delete(this.called.keys().next().value);
      this.options.signal(address, { t: 'call' });
    }
  }

  /** A signal from `from` (already decoded and checked by the wire decoder). */
  async onSignal(from, message) {
    if (this.closed || typeof message !== 'object' || message === null) return;
    try {
      if (message.t === 'call') {
        if (this.options.self < from && !this.links.has(from) && !this.resting(from) && this.affordable()) {
          this.call(from);
        }
      } else if (message.t === 'busy') {
        this.drop(from); // it cannot afford a link: the relay carries on, and we rest
      } else if (message.t === 'offer' && typeof message.sdp === 'string') {
        await this.answer(from, message.sdp);
      } else if (message.t === 'answer' && typeof message.sdp === 'string') {
        const link = this.links.get(from);
        if (link === undefined || link.remoteSet) return;
        await link.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        this.remoteSet(link);
      } else if (message.t === 'ice' && typeof message.c === 'object') {
        const link = this.links.get(from);
        if (link === undefined) return;
        if (link.remoteSet) await link.pc.addIceCandidate(message.c);
        else if (link.candidates.length < 64) link.candidates.push(message.c);
      }
    } catch {
      this.stats.malformed += 1; // an SDP or candidate the browser refused
      this.drop(from);
    }
  }

  /**
   * Closes every link. What is waiting to go (the node's LEAVE, say) is sent first, and the
   * connections close a moment later: closing one at once would discard it.
   */
  close() {
    this.closed = true;
    for (const [address, link] of [...this.links]) {
      this.flushBatch(address, link);
      this.links.delete(address);
      clearTimeout(link.disconnected);
      clearTimeout(link.opening);
      try {
        link.channel?.close();
      } catch {
        // closing already
      }
      setTimeout(() => link.pc.close(), CLOSE_GRACE_MS);
    }
  }

  // ---- internals -------------------------------------------------------------------------

  resting(address) {
    return Date.now() - (this.failed.get(address) ?? -Infinity) < RETRY_MS;
  }

  affordable() {
    if (createdInThisPage < this.options.maxConnections && this.links.size < this.options.maxLinks) return true;
    this.stats.refusedBudget += 1;
    return false;
  }

  async call(address) {
    const link = this.connection(address);
    this.attach(address, link, link.pc.createDataChannel('poldercast', { ordered: true }));
    try {
      await link.pc.setLocalDescription(await link.pc.createOffer());
      this.options.signal(address, { t: 'offer', sdp: link.pc.localDescription.sdp });
    } catch {
      this.drop(address);
    }
  }

  async answer(from, sdp) {
    if (this.links.has(from)) this.drop(from, false); // the peer starts over
    if (!this.affordable()) {
      this.options.signal(from, { t: 'busy' });
      return;
    }
    const link = this.connection(from);
    link.pc.ondatachannel = (event) => this.attach(from, link, event.channel);
    await link.pc.setRemoteDescription({ type: 'offer', sdp });
    this.remoteSet(link);
    await link.pc.setLocalDescription(await link.pc.createAnswer());
    this.options.signal(from, { t: 'answer', sdp: link.pc.localDescription.sdp });
  }

  connection(address) {
    const pc = new RTCPeerConnection(this.options.rtcConfiguration);
    createdInThisPage += 1;
    this.stats.created += 1;
    const link = { pc, channel: null, open: false, remoteSet: false, candidates: [], parts: [], size: 0,
      batch: [], batchBytes: 0, disconnected: undefined, opening: undefined };
    this.links.set(address, link);
    link.opening = setTimeout(() => {
      if (!link.open && this.links.get(address) === link) this.drop(address);
    }, OPEN_TIMEOUT_MS);
    pc.onicecandidate = (event) => {
      if (event.candidate) this.options.signal(address, { t: 'ice', c: event.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      if (state === 'failed' || state === 'closed') return this.drop(address);
      // A tab that vanished sends no close: its consent checks stop answering, and the
      // connection turns 'disconnected' (it may yet recover) long before 'failed'.
      clearTimeout(link.disconnected);
      if (state === 'disconnected') {
        link.disconnected = setTimeout(() => {
          if (pc.connectionState !== 'connected' && this.links.get(address) === link) this.drop(address);
        }, DISCONNECTED_MS);
      }
    };
    return link;
  }

  remoteSet(link) {
    link.remoteSet = true;
    for (const c of link.candidates.splice(0)) link.pc.addIceCandidate(c).catch(() => {});
  }

  attach(address, link, channel) {
    link.channel = channel;
    channel.binaryType = 'arraybuffer';
    channel.onopen = () => {
      if (this.links.get(address) !== link) return;
      link.open = true;
      this.stats.open += 1;
      this.options.onOpen?.(address);
    };
    channel.onclose = () => {
      if (this.links.get(address) === link) this.drop(address);
    };
    channel.onmessage = (event) => this.received(address, link, event.data);
  }

  /** One data channel message: a fragment; the last one completes an overlay message. */
  received(address, link, data) {
    if (this.links.get(address) !== link) return;
    const frame = data instanceof ArrayBuffer ? new Uint8Array(data) : null;
    if (frame !== null && frame.length > 0 && frame[0] === BATCH && link.parts.length === 0) {
      return this.receivedBatch(address, link, frame);
    }
    if (frame === null || frame.length === 0 || frame[0] > MORE ||
        link.size + frame.length - 1 > this.options.maxMessage) {
      // Not what a node sends: the peer does not follow the protocol.
      this.stats.malformed += 1;
      return this.drop(address);
    }
    link.parts.push(frame.subarray(1));
    link.size += frame.length - 1;
    if (frame[0] === MORE) return;
    const parts = link.parts;
    const whole = parts.length === 1 ? parts[0] : new Uint8Array(link.size);
    if (parts.length > 1) {
      let at = 0;
      for (const p of parts) {
        whole.set(p, at);
        at += p.length;
      }
    }
    link.parts = [];
    link.size = 0;
    this.stats.messagesIn += 1;
    this.options.onMessage(address, whole);
  }

  /** A batch: u16 length + message, to the end of the frame; any misfit cuts the link. */
  receivedBatch(address, link, frame) {
    const messages = [];
    for (let at = 1; at < frame.length;) {
      const n = at + 2 <= frame.length ? (frame[at] << 8) | frame[at + 1] : 0;
      if (n === 0 || at + 2 + n > frame.length) {
        this.stats.malformed += 1;
        return this.drop(address);
      }
      messages.push(frame.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    for (const m of messages) {
      if (this.links.get(address) !== link) return; // the node cut it meanwhile
      this.stats.messagesIn += 1;
      this.options.onMessage(address, m);
    }
  }

  drop(address, tell = true) {
    const link = this.links.get(address);
    if (link === undefined) return;
    this.links.delete(address);
    clearTimeout(link.disconnected);
    clearTimeout(link.opening);
    this.failed.set(address, Date.now());
    if (this.failed.size > 4 * this.options.maxLinks) this.failed.delete(this.failed.keys().next().value);
    if (link.open) this.stats.open -= 1;
    this.stats.closed += 1;
    try {
      link.pc.close();
    } catch {
      // closing already
    }
    // Only a channel that worked and closed says the peer is gone; one that never opened
    // (no route between the two) leaves the peer to the relay.
    if (tell && link.open && !this.closed) this.options.onClosed(address);
  }
}
