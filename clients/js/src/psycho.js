// psycho.js: the Psycho client for browsers and Node. The one entry point of the package.
export { connect, Connection, VERSION } from './connection.js';
export { PsychoError } from './errors.js';
export { connectOverlay, OverlayConnection } from './poldercast/overlay.js';
export { MsgHeaders } from './headers.js';
export { Msg } from './message.js';
export { createInbox } from './requests.js';
export { Subscription } from './subscription.js';
