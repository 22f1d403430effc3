// Runs the real psycho-gateway on loopback for the tests. Every listener binds port 0 and the
// gateway reports what it bound in its --ports-file, which start() waits for; the test never
// picks a port. The binary is $PSYCHO_GATEWAY_BIN, or the release build's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const gatewayBinary = process.env.PSYCHO_GATEWAY_BIN ?? path.join(repo, 'build/gateway/psycho-gateway');

/** Polls `check` every 10 ms until it returns a truthy value or `ms` pass. */
export async function waitFor(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export class Gateway {
  /** @param {{config?: string, extra?: string[]}} [options] */
  constructor(options = {}) {
    this.options = options;
    this.dir = mkdtempSync(path.join(tmpdir(), 'psycho-js-'));
    this.stderr = '';
  }

  /** Starts it (again) and waits for its ports. */
  async start() {
    const portsFile = path.join(this.dir, 'ports.json');
    rmSync(portsFile, { force: true });
    const argv = ['--listen', '127.0.0.1:0', '--websocket', '127.0.0.1:0', '--admin', '127.0.0.1:0',
      '--ports-file', portsFile];
    if (this.options.config !== undefined) {
      const config = path.join(this.dir, 'config.yaml');
      writeFileSync(config, this.options.config);
      argv.push('--config', config);
    }
    argv.push(...(this.options.extra ?? []));
    const child = spawn(gatewayBinary, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderr = '';
    child.stderr.on('data', (chunk) => { this.stderr += chunk; });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.exited = exited;
    let exitCode;
    exited.then((code) => { exitCode = code ?? 'signal'; });
    this.ports = await waitFor('the gateway to report its ports', () => {
      if (exitCode !== undefined) throw new Error(`psycho-gateway exited (${exitCode}): ${this.stderr}`);
      try {
        return JSON.parse(readFileSync(portsFile, 'utf8'));
      } catch {
        return null; // not written yet (it appears whole, renamed into place)
      }
    }, 30_000);
    return this;
  }

  get url() {
    return `ws://127.0.0.1:${this.ports.websocket}/`;
  }

  get tcpPort() {
    return this.ports.listen;
  }

  /** GET path on the admin port, as text. */
  async admin(pathname) {
    const response = await fetch(`http://127.0.0.1:${this.ports.admin}${pathname}`);
    return response.text();
  }

  /** Sends `signal` to its pid and waits for it to exit (SIGKILL: a crash). */
  async kill(signal = 'SIGKILL') {
    if (this.child === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    this.child.kill('SIGCONT'); // a test may have stopped it; a stopped process never exits
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }

  async stop() {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a gateway; `t.after` stops it. */
export async function startGateway(t, options) {
  const gateway = await new Gateway(options).start();
  t.after(() => gateway.stop());
  return gateway;
}
