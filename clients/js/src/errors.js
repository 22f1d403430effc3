// Every failure the client reports is a PsychoError whose `kind` names it, so callers branch
// on a stable string instead of parsing messages. Server errors keep the gateway's own text.

/**
 * The `-ERR` texts the gateway sends (PROTOCOL.md, "Errors") and the kind each becomes.
 * Permissions violations carry a direction and subject after this prefix.
 * @type {ReadonlyArray<[string, string]>}
 */
const SERVER_ERRORS = Object.freeze([
  ['Unknown Protocol Operation', 'unknown_operation'],
  ['Maximum Control Line Exceeded', 'control_line_too_long'],
  ['Maximum Payload Violation', 'max_payload'],
  ['Payload Not Followed By Line End', 'bad_payload_terminator'],
  ['Invalid Protocol Arguments', 'invalid_arguments'],
  ['Invalid Subject', 'invalid_subject'],
  ['Invalid Publish Subject', 'invalid_publish_subject'],
  ['Slow Consumer', 'slow_consumer'],
  ['Stale Connection', 'stale_connection'],
  ['Authorization Violation', 'authorization_violation'],
  ['Maximum Connections Exceeded', 'max_connections'],
  ['Maximum Subscriptions Exceeded', 'max_subscriptions'],
  ['Publish Rate Exceeded', 'rate_limited'],
]);

/** The server errors after which the gateway keeps the connection open. */
const NON_FATAL = new Set([
  'invalid_subject',
  'invalid_publish_subject',
  'max_subscriptions',
  'permissions_violation',
  'rate_limited',
]);

/**
 * The error type of psycho.js. `kind` is one of the server kinds above
 * (`authorization_violation`, `permissions_violation`, ...; `server_error` for a text this
 * version does not know) or a client kind: `timeout`, `no_responders`, `connection_closed`,
 * `protocol_error` (the server sent something malformed), `connect_failed`, `bad_subject`,
 * `bad_payload`, `max_payload` (also raised before sending), `disconnected`.
 */
export class PsychoError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   * @param {{serverText?: string, subject?: string, direction?: string, cause?: unknown}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PsychoError';
    /** @type {string} */
    this.kind = kind;
    /** The `-ERR` text as the server sent it, for server errors. @type {string | undefined} */
    this.serverText = details.serverText;
    /** The subject a permissions violation names. @type {string | undefined} */
    this.subject = details.subject;
    /** `publish` or `subscribe`, for a permissions violation. @type {string | undefined} */
    this.direction = details.direction;
  }

  /** Whether the server closes the connection after sending this error. */
  get fatal() {
    return this.serverText !== undefined && !NON_FATAL.has(this.kind);
  }
}

const PERMISSIONS = /^Permissions Violation for (Publish|Subscription) to "(.*)"$/;

/**
 * Turns the text of a server's `-ERR '<text>'` into a PsychoError.
 * @param {string} text the text between the quotes
 * @returns {PsychoError}
 */
export function serverError(text) {
  const permissions = PERMISSIONS.exec(text);
  if (permissions) {
    const direction = permissions[1] === 'Publish' ? 'publish' : 'subscribe';
    return new PsychoError('permissions_violation', `server: ${text}`, {
      serverText: text,
      direction,
      subject: permissions[2],
    });
  }
  const known = SERVER_ERRORS.find(([wire]) => wire.toLowerCase() === text.toLowerCase());
  return new PsychoError(known ? known[1] : 'server_error', `server: ${text}`, {
    serverText: text,
  });
}
