// What a page does for the pages that joined the overlay through it (rendezvous.js) while no
// gateway could be reached: their addresses name this page as their relay ("web:<id>@<this
// page's address>"), so other pages send their messages here in relay envelopes, over a data
// channel, and this page passes them on over its channel to the page named; and the other
// way, what such a page sends to a page it has no channel to yet. Only over data channels:
// a gateway takes from a page only what that page itself says.
//
// Bounded: at most `maxPages` adopted at once (an adoption whose channel never opened lapses
// after ADOPT_MS) and `bytesPerSecond` passed on; what is refused is counted.

const ADOPT_MS = 15_000; // as long as PeerLinks waits for a channel to open

/** The pages relayed for, what is passed on for them, and its bounds and counters. */
export class PageRelay {
  /** @param {{maxPages: number, bytesPerSecond: number}} options */
  constructor(options) {
    this.options = options;
    /** @type {Map<string, number>} adopted page -> when it was adopted */
    this.adopted = new Map();
    this.window = { second: 0, bytes: 0 };
    this.stats = {
      /** Pages relayed for now. */
      pages: 0,
      forwarded: 0, forwardedBytes: 0,
      /** Envelopes that did not decode, or spoke for another page than the channel's. */
      malformed: 0,
      /** Envelopes neither from nor to a page relayed for here. */
      refused: 0,
      /** No open channel to the page named. */
      noRoute: 0,
      /** Past bytesPerSecond. */
      overBudget: 0,
      /** The channel's send buffer was full. */
      bufferDrops: 0,
    };
  }

  /**
   * Whether one more page can be taken on; `linked(address)` says whether a page still has a
   * link (open or opening) here, to let the adoptions that came to nothing lapse.
   * @param {(address: string) => boolean} linked
   */
  room(linked) {
    const now = Date.now();
    for (const [address, since] of this.adopted) {
      if (!linked(address) && now - since > ADOPT_MS) this.adopted.delete(address);
    }
    this.stats.pages = this.adopted.size;
    return this.adopted.size < this.options.maxPages;
  }

  /** @param {string} address @param {(address: string) => boolean} linked @returns {boolean} */
  adopt(address, linked) {
    if (!this.adopted.has(address) && !this.room(linked)) return false;
    this.adopted.set(address, Date.now());
    this.stats.pages = this.adopted.size;
    return true;
  }

  /** @param {string} address */
  adopts(address) {
    return this.adopted.has(address);
  }

  /** The page's channel closed: it is on its own (it joins again through someone). */
  forget(address) {
    this.adopted.delete(address);
    this.stats.pages = this.adopted.size;
  }

  clear() {
    this.adopted.clear();
    this.stats.pages = 0;
  }

  /**
   * An envelope from the data channel of `from`, decoded (null when it did not): its
   * message goes on over the channel to the page it names, or it is counted.
   * @param {string} from
   * @param {{destination: string, message: Uint8Array, sender: string} | null} envelope
   * @param {(address: string, bytes: Uint8Array) => boolean | undefined} send PeerLinks.send:
   *   undefined without an open channel, false when its buffer is full
   */
  pass(from, envelope, send) {
    if (envelope === null || envelope.sender !== from) {
      this.stats.malformed += 1;
    } else if (!this.adopts(from) && !this.adopts(envelope.destination)) {
      this.stats.refused += 1;
    } else if (!this.charge(envelope.message.length)) {
      this.stats.overBudget += 1;
    } else {
      const sent = send(envelope.destination, envelope.message);
      if (sent === undefined) {
        this.stats.noRoute += 1;
      } else if (!sent) {
        this.stats.bufferDrops += 1;
      } else {
        this.stats.forwarded += 1;
        this.stats.forwardedBytes += envelope.message.length;
      }
    }
  }

  /** Takes `bytes` from this second's allowance: false when it does not fit. */
  charge(bytes) {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.window.second) this.window = { second, bytes: 0 };
    if (this.window.bytes + bytes > this.options.bytesPerSecond) return false;
    this.window.bytes += bytes;
    return true;
  }
}
