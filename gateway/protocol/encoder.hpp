// Encoders for every op, appending to a caller-owned buffer so that a session can batch many
// ops into one write. Lines end in a bare LF, as the seed protocol does; parsers on both sides
// accept CRLF too. Numbers are formatted with std::to_chars (no locale, no allocation beyond
// the buffer's own growth).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/errors.hpp"

namespace psycho::protocol {

// Client -> server. `reply` and `queue` are omitted from the line when empty.
void append_connect(std::string& out, std::string_view json);
void append_pub(std::string& out, std::string_view subject, std::string_view reply,
                std::string_view payload);
void append_hpub(std::string& out, std::string_view subject, std::string_view reply,
                 std::string_view headers, std::string_view payload);
// `sid` is for the NATS dialect only (psycho bench against nats-server); empty for Psycho.
void append_sub(std::string& out, std::string_view subject, std::string_view queue,
                std::string_view sid = {});
// Psycho: UNSUB <subject> [queue]. NATS dialect: pass the sid as `subject_or_sid`.
void append_unsub(std::string& out, std::string_view subject_or_sid, std::string_view queue = {});

// Server -> client. The *_head functions write only the control line; the caller appends the
// body (headers + payload) and then append_line_end, so one payload can be shared by many.
void append_info(std::string& out, std::string_view json);
void append_msg_head(std::string& out, std::string_view subject, std::string_view reply,
                     std::size_t payload_size);
void append_hmsg_head(std::string& out, std::string_view subject, std::string_view reply,
                      std::size_t header_size, std::size_t total_size);
void append_ok(std::string& out);
void append_err(std::string& out, Error e);
void append_err(std::string& out, std::string_view text);
// -ERR 'Permissions Violation for Publish to "<subject>"' (or "Subscription to"), the
// nats-server text, so NATS client libraries recognise it.
void append_permissions_violation(std::string& out, bool publish, std::string_view subject);

// Both directions.
void append_ping(std::string& out);
void append_pong(std::string& out);
void append_line_end(std::string& out);

inline constexpr std::string_view line_end = "\n";

}  // namespace psycho::protocol
