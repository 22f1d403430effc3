// Runs a real nats-server on loopback for the tests: it binds port -1 (any) and writes the
// port it took to its ports file, which start() waits for; the test never picks a port.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './gateway.mjs';

export class NatsServer {
  async start() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'psycho-js-nats-'));
    this.child = spawn(process.env.NATS_SERVER ?? 'nats-server',
      ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.child.stderr.on('data', (chunk) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    const portsFile = path.join(this.dir, `nats-server_${this.child.pid}.ports`);
    // Not written atomically: read it until it parses and names the client port.
    this.url = await waitFor('nats-server to report its port', () => {
      if (this.child.exitCode !== null) throw new Error(`nats-server exited: ${this.stderr}`);
      try {
        return JSON.parse(readFileSync(portsFile, 'utf8')).nats?.[0] ?? null;
      } catch {
        return null;
      }
    }, 10_000);
    return this;
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a nats-server; `t.after` stops it. */
export async function startNats(t) {
  const server = await new NatsServer().start();
  t.after(() => server.stop());
  return server;
}
