// Loads the PolderCast node compiled to WebAssembly (scripts/build-wasm: the gateways' own
// protocol code, poldercast, with clients/js/wasm/binding.cpp). One
// instance per module URL, shared by every overlay node of the page.

/** @type {Map<string, Promise<any>>} */
const modules = new Map();

/** Where the module is looked for when no `wasm` option names it: beside this file. */
export const defaultWasmUrl = new URL('./poldercast.mjs', import.meta.url).href;

/**
 * The instantiated module: `new module.Node(options, transport, onDeliver)` and
 * `module.encodeRelay(destination, bytes)`.
 * @param {string | URL} [url] the emitted `poldercast.mjs`
 * @returns {Promise<any>}
 */
export function loadPolderCast(url = defaultWasmUrl) {
  const key = String(url);
  let module = modules.get(key);
  if (module === undefined) {
    module = import(key).then((m) => m.default());
    // A failed load (a wrong URL, a module not built) may be retried with another one.
    module.catch(() => modules.delete(key));
    modules.set(key, module);
  }
  return module;
}
