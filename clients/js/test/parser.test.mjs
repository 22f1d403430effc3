// The parser alone: every stream fed whole, split at every byte position and one byte at a
// time gives the same ops; every rejection has its own case.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Parser } from '../src/parser.js';

const enc = new TextEncoder();

function parse(chunks, limits) {
  const parser = new Parser(limits);
  const ops = [];
  for (const chunk of chunks) {
    parser.feed(chunk, (op) => ops.push(op.op === 'MSG'
      ? { ...op, data: [...op.data], headerBytes: op.headerBytes && [...op.headerBytes] }
      : op));
  }
  return ops;
}

function splits(bytes) {
  const ways = [[bytes], [...bytes].map((b) => Uint8Array.of(b))];
  for (let i = 0; i <= bytes.length; ++i) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return ways;
}

const stream = enc.encode(
  'INFO {"server_id":"x","max_payload":1048576,"headers":true}\n' +
  'MSG a.b 5\nhello\n' +
  'msg a.b reply.1 3\r\n\r\n\n\r\n' + // a payload of CR LF LF, then CRLF
  '\r\n\n' + // empty lines between ops
  'HMSG h r 12 14\nNATS/1.0\r\n\r\nhi\r\n' +
  'PING\nPONG\r\n+OK\n' +
  "-ERR 'Permissions Violation for Publish to \"x y\"'\n" +
  'MSG\tt\t\t2\nab\n');

const expected = [
  { op: 'INFO', info: { server_id: 'x', max_payload: 1048576, headers: true } },
  { op: 'MSG', subject: 'a.b', reply: '', headerBytes: null, data: [...enc.encode('hello')] },
  { op: 'MSG', subject: 'a.b', reply: 'reply.1', headerBytes: null, data: [13, 10, 10] },
  { op: 'MSG', subject: 'h', reply: 'r', headerBytes: [...enc.encode('NATS/1.0\r\n\r\n')], data: [...enc.encode('hi')] },
  { op: 'PING' }, { op: 'PONG' }, { op: '+OK' },
  { op: '-ERR', text: 'Permissions Violation for Publish to "x y"' },
  { op: 'MSG', subject: 't', reply: '', headerBytes: null, data: [...enc.encode('ab')] },
];

test('every split of a stream of every op parses the same', () => {
  for (const chunks of splits(stream)) assert.deepEqual(parse(chunks), expected);
});

test('a payload in one frame is a view into it; a split one is copied whole', () => {
  const frame = enc.encode('INFO {}\nMSG s 3\nabc\n');
  const ops = [];
  new Parser().feed(frame, (op) => ops.push(op));
  assert.equal(ops[1].data.buffer, frame.buffer);
  const parser = new Parser();
  const split = [];
  parser.feed(frame.subarray(0, 17), (op) => split.push(op));
  parser.feed(frame.subarray(17), (op) => split.push(op));
  assert.deepEqual([...split[1].data], [...enc.encode('abc')]);
});

const rejections = {
  'an unknown op': 'FOO bar\n',
  'a client op': 'PUB a 1\nx\n',
  'MSG without a size': 'MSG a\n',
  'MSG with too many arguments': 'MSG a b c 1\nx\n',
  'MSG with a non-numeric size': 'MSG a 1x\nx\n',
  'MSG with a negative size': 'MSG a -1\n',
  'HMSG with header size above total': 'HMSG a 5 3\nabc\n',
  'a body not followed by a line end': 'MSG a 1\nxy\n',
  'a body followed by CR and not LF': 'MSG a 1\nx\rz',
  'PING with an argument': 'PING now\n',
  'INFO without JSON': 'INFO nope\n',
  'INFO with a JSON array': 'INFO [1]\n',
  'a body above the limit': 'MSG a 2000\n',
  'a control line above the limit': `MSG ${'a'.repeat(300)} 1\nx\n`,
  'an endless control line': 'M'.repeat(300),
};

for (const [name, text] of Object.entries(rejections)) {
  test(`refused: ${name}, at every split`, () => {
    for (const chunks of splits(enc.encode(text))) {
      assert.throws(() => parse(chunks, { maxControlLine: 256, maxPayload: 1000 }),
        (e) => e.kind === 'protocol_error' && /malformed data from the server/.test(e.message));
    }
  });
}

test('after a refusal the parser refuses everything', () => {
  const parser = new Parser();
  assert.throws(() => parser.feed(enc.encode('BAD\n'), () => {}), { kind: 'protocol_error' });
  assert.throws(() => parser.feed(enc.encode('PING\n'), () => {}), { kind: 'protocol_error' });
});
