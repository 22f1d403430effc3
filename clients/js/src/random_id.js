// Random ids for replicas and presence members: unique enough for a room, valid as a subject token.

/** @returns {string} 16 random hex digits */
export function randomId() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
