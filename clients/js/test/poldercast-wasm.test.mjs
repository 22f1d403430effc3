// The PolderCast node compiled to WebAssembly (the gateways' protocol code) under Node:
// three nodes wired by an in-memory transport form their rings and deliver each
// publication exactly once, and malformed bytes are refused and counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPolderCast } from '../src/poldercast/wasm.js';
import { wasmUrl } from '../testkit/wasm.mjs';

// Messages wait in one queue and are handed over between the nodes' turns: a node's send()
// runs inside the node, which must not be entered again from there.
class Network {
  constructor(module) {
    this.module = module;
    this.nodes = new Map();
    this.queue = [];
    this.delivered = new Map();
  }

  add(name, id) {
    const address = `mem:${name}`;
    const transport = {
      send: (to, bytes) => {
        if (!this.nodes.has(to)) return false;
        this.queue.push([to, bytes]);
        return true;
      },
      backlog: () => 0,
    };
    const got = [];
    this.delivered.set(name, got);
    const node = new this.module.Node({ id, address, seed: this.nodes.size + 1 }, transport,
      (m) => got.push(`${m.subject}:${new TextDecoder().decode(m.payload)}`));
    this.nodes.set(address, node);
    return node;
  }

  pump() {
    while (this.queue.length > 0) {
      const [to, bytes] = this.queue.shift();
      this.nodes.get(to)?.onMessage(bytes);
    }
  }

  cycles(n, start = 0) {
    for (let c = 1; c <= n; ++c) {
      for (const node of this.nodes.values()) node.tick(1000 * (start + c));
      this.pump();
    }
  }
}

test('three wasm nodes form rings and deliver each publication exactly once', async () => {
  const module = await loadPolderCast(wasmUrl());
  const net = new Network(module);
  const a = net.add('a', '1000000000000000');
  const b = net.add('b', '5000000000000000');
  const c = net.add('c', 'a000000000000000');
  b.setSeeds(['mem:a']);
  c.setSeeds(['mem:a']);
  for (const node of [a, b, c]) node.subscribe('news');
  b.subscribe('sports');
  c.subscribe('sports');
  net.cycles(8);
  for (const node of [a, b, c]) {
    const s = node.stats();
    assert.equal(s.rings, node === a ? 1 : 2);
    assert.equal(s.ringsComplete, s.rings, `${node.address()}: every ring has both neighbours`);
    assert.ok(s.cyclon >= 1);
  }

  a.publish('news', '', new Uint8Array(), new TextEncoder().encode('from a'));
  c.publish('sports', '', null, new TextEncoder().encode('from c'));
  net.pump();
  // The publisher hears its own publication only from its local subscribers, not here.
  assert.deepEqual(net.delivered.get('a'), []);
  assert.deepEqual(net.delivered.get('b'), ['news:from a', 'sports:from c']);
  assert.deepEqual(net.delivered.get('c'), ['news:from a']);

  // A node that does not subscribe still publishes: a walk finds a subscriber.
  a.publish('sports', '', null, new TextEncoder().encode('walked'));
  net.cycles(2, 8);
  assert.deepEqual(net.delivered.get('b').slice(2), ['sports:walked']);
  assert.deepEqual(net.delivered.get('c').slice(1), ['sports:walked']);
  assert.equal(a.stats().published, 2);
});

test('malformed messages are refused and counted', async () => {
  const module = await loadPolderCast(wasmUrl());
  const net = new Network(module);
  const a = net.add('a', '1000000000000000');
  a.onMessage(new Uint8Array([0x50, 0x43, 1, 99]));
  a.onMessage(new Uint8Array([1, 2, 3]));
  a.onMessage(new Uint8Array());
  // A relay envelope is for transports: a node refuses it like any other malformed message.
  a.onMessage(module.encodeRelay('web:x@mem:a', new Uint8Array([1])));
  assert.equal(a.stats().malformed, 4);
  assert.equal(a.stats().cyclon, 0);
});
