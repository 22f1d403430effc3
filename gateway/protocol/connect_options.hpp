// The options a client sends in `CONNECT {json}`.
//
// Only a flat JSON object is needed, so this has its own small, strict reader instead of a
// JSON library: unknown fields are ignored (clients send lang, version, ...), nested values
// are skipped with a depth limit, and anything malformed is an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace psycho::protocol {

struct ConnectOptions {
  bool verbose = true;   // +OK after every op; the seed protocol's behaviour
  bool echo = false;     // deliver the client's own publications back to it
  bool headers = false;  // the client understands HMSG
  // With headers: a request nobody can answer gets a "NATS/1.0 503" status message at once.
  bool no_responders = false;
  bool pedantic = false;
  std::string name;
  // Credentials, checked by the authentication layer when it is configured.
  std::string user;
  std::string pass;
  std::string auth_token;
  // HMAC-signed connect (docs/security.md): Unix time in ms, a one-time nonce, and the hex
  // HMAC-SHA256 of both under the shared secret.
  std::int64_t hmac_ts = 0;
  std::string hmac_nonce;
  std::string hmac_sig;
};

// Fills `out` from the JSON text; fields not present keep their current values.
// Returns Error::invalid_arguments for malformed JSON or a field of the wrong type.
std::error_code parse_connect_options(std::string_view json, ConnectOptions& out);

}  // namespace psycho::protocol
