// A TCP relay the test itself listens on (port 0, reported by the kernel to this process): the
// client under test dials the relay, which forwards to whichever gateway is current. So a
// gateway can be killed and a new one started on a port of its own while the client keeps one
// address, without any port being picked and handed on.
import net from 'node:net';

export class Relay {
  constructor() {
    /** @type {number | null} where new connections go; null refuses them */
    this.target = null;
    this.sockets = new Set();
    this.accepted = 0;
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url() {
    return `ws://127.0.0.1:${this.server.address().port}/`;
  }

  /** @param {net.Socket} client */
  accept(client) {
    this.accepted += 1;
    if (this.target === null) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      this.sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }

  async close() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A listening relay; `t.after` closes it. */
export async function startRelay(t) {
  const relay = await new Relay().listen();
  t.after(() => relay.close());
  return relay;
}
