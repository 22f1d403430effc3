// Overlay addresses as a page sees them, and the relay envelope's header. A page cannot be
// dialled: its address is "web:<id>@<relay>", the relay being the gateway it linked to or,
// for a page that joined through a page, that page's own address (so "web:a@web:b@gw").
// The envelope's layout is relay.hpp's.

/** The relay envelope's magic "PC", wire version and type (relay.hpp). */
export const RELAY_HEAD = [0x50, 0x43, 3, 13];
/** The most an envelope adds to the message inside it: header, destination, length. */
export const RELAY_OVERHEAD = 4 + 1 + 255 + 4;

/** @param {string} address @returns {boolean} whether it is a page's ("web:<id>@<relay>") */
export const undialable = (address) => /^web:[^@]+@./.test(address);
/** @param {string} address @returns {string} the relay it names ("" for a dialable one): a gateway, or a page */
export const relayOf = (address) => (undialable(address) ? address.slice(address.indexOf('@') + 1) : '');
/** @param {Uint8Array} bytes @returns {boolean} whether they are a relay envelope */
export const isRelay = (bytes) => bytes.length > 4 && RELAY_HEAD.every((b, i) => bytes[i] === b);
/** @param {string} address @returns {number} how many pages deep it is: 1 for a page linked to a gateway */
export const depthOf = (address) => address.split('@').length - 1;
