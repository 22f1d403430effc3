// Where the tests find the PolderCast node compiled to WebAssembly: $PSYCHO_WASM, or the
// release build's (the poldercast_wasm target, built by scripts/build).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const wasmPath = process.env.PSYCHO_WASM ?? path.join(repo, 'build/wasm/poldercast.mjs');

/** The module's file URL; throws, saying how to build it, when it is missing. */
export function wasmUrl() {
  if (!existsSync(wasmPath)) {
    throw new Error(`${wasmPath} is missing: build it with scripts/build (needs em++, from scripts/setup)`);
  }
  return pathToFileURL(wasmPath).href;
}
