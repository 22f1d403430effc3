// Protocol errors as std::error_code values (category "psycho.protocol").
//
// Every error a peer can cause has one enumerator, one wire text (the quoted part of
// `-ERR '<text>'`) and a fixed decision whether the connection is closed afterwards.
#pragma once

#include <string_view>
#include <system_error>

namespace psycho::protocol {

enum class Error {
  // Parser errors: the byte stream can no longer be trusted, so all of them close.
  unknown_operation = 1,   // 'Unknown Protocol Operation'
  control_line_too_long,   // 'Maximum Control Line Exceeded'
  payload_too_large,       // 'Maximum Payload Violation'
  bad_payload_terminator,  // 'Payload Not Followed By Line End'
  invalid_arguments,       // 'Invalid Protocol Arguments'  (wrong count, bad size field, bad JSON)
  // Session errors: decided after parsing.
  invalid_subject,          // 'Invalid Subject' (stays open)
  invalid_publish_subject,  // 'Invalid Publish Subject' (stays open)
  slow_consumer,            // 'Slow Consumer'
  stale_connection,         // 'Stale Connection'
  authorization_violation,  // 'Authorization Violation'
  max_connections,          // 'Maximum Connections Exceeded'
  max_subscriptions,        // 'Maximum Subscriptions Exceeded' (stays open)
  permissions_violation,    // 'Permissions Violation for Publish to "x"' (stays open; the
                            // wire text names the direction and subject, see encoder)
  rate_limited,             // 'Publish Rate Exceeded' (stays open; the message is dropped)
};

const std::error_category& protocol_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

// The text between the quotes of `-ERR '...'`.
std::string_view wire_text(Error e) noexcept;

// Whether the server closes the connection after sending this error.
bool closes_connection(Error e) noexcept;

}  // namespace psycho::protocol

template <>
struct std::is_error_code_enum<psycho::protocol::Error> : std::true_type {};
