// The incremental parser of what a gateway sends: INFO, MSG, HMSG, +OK, -ERR, PING, PONG.
// WebSocket frames and ops never line up, so the parser keeps its state between feeds: a
// control line may arrive a byte at a time, a payload in pieces. A payload that lies whole in
// one frame is handed out as a view into that frame (frames are fresh buffers, never reused);
// only a payload split across frames is copied, into a buffer of exactly its size.
import { PsychoError } from './errors.js';

const LF = 10;
const CR = 13;
const decoder = new TextDecoder();

/** Parser states. */
const State = Object.freeze({
  controlLine: 0, // reading up to the LF that ends an op's line
  payload: 1, // reading the announced number of body bytes
  payloadEnd: 2, // expecting LF or CRLF after the body
  payloadEndLf: 3, // saw CR after the body, expecting LF
  failed: 4, // refused malformed input: the stream cannot be trusted any more
});

const DIGITS = /^[0-9]{1,15}$/;

/**
 * @typedef {{op: 'INFO', info: Record<string, unknown>}
 *   | {op: 'MSG', subject: string, reply: string, data: Uint8Array, headerBytes: Uint8Array | null}
 *   | {op: '+OK'} | {op: '-ERR', text: string} | {op: 'PING'} | {op: 'PONG'}} ServerOp
 */

/** Parses the server-to-client byte stream; `feed` as bytes arrive. */
export class Parser {
  /**
   * @param {{maxControlLine?: number, maxPayload?: number}} [limits] how long a line and a
   *   body may be before the input is refused as malformed (bounds memory against a broken
   *   or hostile server)
   */
  constructor(limits = {}) {
    this.maxControlLine = limits.maxControlLine ?? 64 * 1024;
    this.maxPayload = limits.maxPayload ?? 64 * 1024 * 1024 + 64 * 1024;
    this.state = State.controlLine;
    /** @type {Uint8Array[]} pieces of a control line split across feeds */
    this.linePieces = [];
    this.lineLength = 0;
    /** @type {{subject: string, reply: string, headerSize: number, size: number} | null} */
    this.pending = null;
    /** @type {Uint8Array | null} */
    this.scratch = null; // a body split across feeds
    this.scratchFilled = 0;
  }

  /**
   * Parses `bytes` and calls `onOp` for each complete op, in order.
   * @param {Uint8Array} bytes
   * @param {(op: ServerOp) => void} onOp
   * @throws {PsychoError} kind `protocol_error` on malformed input; the parser then refuses
   *   everything after it
   */
  feed(bytes, onOp) {
    if (this.state === State.failed) throw this.fail('input after a protocol error');
    let i = 0;
    while (i < bytes.length) {
      switch (this.state) {
        case State.controlLine: {
          const lf = bytes.indexOf(LF, i);
          if (lf < 0) {
            this.keepLinePiece(bytes.subarray(i));
            return;
          }
          const line = this.takeLine(bytes.subarray(i, lf));
          i = lf + 1;
          this.controlLine(line, onOp);
          break;
        }
        case State.payload: {
          const size = this.pending.size;
          if (this.scratch === null && bytes.length - i >= size) {
            this.body = bytes.subarray(i, i + size);
            i += size;
          } else {
            if (this.scratch === null) {
              this.scratch = new Uint8Array(size);
              this.scratchFilled = 0;
            }
            const n = Math.min(size - this.scratchFilled, bytes.length - i);
            this.scratch.set(bytes.subarray(i, i + n), this.scratchFilled);
            this.scratchFilled += n;
            i += n;
            if (this.scratchFilled < size) return;
            this.body = this.scratch;
            this.scratch = null;
          }
          this.state = State.payloadEnd;
          break;
        }
        case State.payloadEnd:
        case State.payloadEndLf: {
          const c = bytes[i++];
          if (c === CR && this.state === State.payloadEnd) {
            this.state = State.payloadEndLf;
          } else if (c === LF) {
            this.emitMessage(onOp);
          } else {
            throw this.fail('a message body is not followed by a line end');
          }
          break;
        }
        default:
          throw this.fail('input after a protocol error');
      }
    }
  }

  /** @param {Uint8Array} piece */
  keepLinePiece(piece) {
    this.lineLength += piece.length;
    if (this.lineLength > this.maxControlLine) {
      throw this.fail(`a control line longer than ${this.maxControlLine} bytes`);
    }
    // Copied: the frame it came from is the caller's, and only the line's end is known later.
    this.linePieces.push(piece.slice());
  }

  /** @param {Uint8Array} tail the rest of the line, without its LF */
  takeLine(tail) {
    let bytes = tail;
    if (this.linePieces.length > 0) {
      bytes = new Uint8Array(this.lineLength + tail.length);
      let at = 0;
      for (const piece of this.linePieces) {
        bytes.set(piece, at);
        at += piece.length;
      }
      bytes.set(tail, at);
      this.linePieces = [];
      this.lineLength = 0;
    }
    if (bytes.length > this.maxControlLine) {
      throw this.fail(`a control line longer than ${this.maxControlLine} bytes`);
    }
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    return decoder.decode(bytes.subarray(0, end));
  }

  /**
   * @param {string} line
   * @param {(op: ServerOp) => void} onOp
   */
  controlLine(line, onOp) {
    if (line.trim() === '') return; // empty lines between ops are allowed
    const space = line.search(/[ \t]/);
    const name = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const rest = space < 0 ? '' : line.slice(space + 1).trim();
    switch (name) {
      case 'MSG':
      case 'HMSG':
        this.messageLine(name, rest);
        return;
      case 'PING':
      case 'PONG':
      case '+OK':
        if (rest !== '') throw this.fail(`${name} with arguments`);
        onOp({ op: name });
        return;
      case '-ERR':
        onOp({ op: '-ERR', text: rest.replace(/^'(.*)'$/s, '$1') });
        return;
      case 'INFO':
        onOp({ op: 'INFO', info: this.infoJson(rest) });
        return;
      default:
        throw this.fail(`unknown operation ${JSON.stringify(name.slice(0, 32))}`);
    }
  }

  /**
   * @param {string} name MSG or HMSG
   * @param {string} rest the arguments
   */
  messageLine(name, rest) {
    const args = rest === '' ? [] : rest.split(/[ \t]+/);
    const sizes = name === 'MSG' ? 1 : 2;
    if (args.length !== sizes + 1 && args.length !== sizes + 2) {
      throw this.fail(`${name} with ${args.length} arguments`);
    }
    const numbers = args.slice(args.length - sizes);
    if (!numbers.every((n) => DIGITS.test(n))) throw this.fail(`${name} with a bad size`);
    const size = Number(numbers[numbers.length - 1]);
    const headerSize = sizes === 2 ? Number(numbers[0]) : 0;
    if (headerSize > size) throw this.fail('HMSG header size above its total size');
    if (size > this.maxPayload) throw this.fail(`a ${size}-byte message body`);
    this.pending = {
      subject: args[0],
      reply: args.length === sizes + 2 ? args[1] : '',
      headerSize: sizes === 2 ? headerSize : -1,
      size,
    };
    this.state = State.payload;
  }

  /** @param {string} text */
  infoJson(text) {
    try {
      const info = JSON.parse(text);
      if (info !== null && typeof info === 'object' && !Array.isArray(info)) return info;
    } catch {
      // reported below, with the same words as a non-object
    }
    throw this.fail('INFO without a JSON object');
  }

  /** @param {(op: ServerOp) => void} onOp */
  emitMessage(onOp) {
    const { subject, reply, headerSize } = this.pending;
    const body = this.body;
    this.pending = null;
    this.body = null;
    this.state = State.controlLine;
    onOp({
      op: 'MSG',
      subject,
      reply,
      headerBytes: headerSize >= 0 ? body.subarray(0, headerSize) : null,
      data: headerSize >= 0 ? body.subarray(headerSize) : body,
    });
  }

  /** @param {string} what */
  fail(what) {
    this.state = State.failed;
    return new PsychoError('protocol_error', `malformed data from the server: ${what}`);
  }
}
