#include "protocol/errors.hpp"

#include <string>

namespace psycho::protocol {

namespace {

class ProtocolCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "psycho.protocol"; }
  std::string message(int value) const override {
    return std::string(wire_text(static_cast<Error>(value)));
  }
};

}  // namespace

const std::error_category& protocol_category() noexcept {
  static const ProtocolCategory category;
  return category;
}

std::string_view wire_text(Error e) noexcept {
  switch (e) {
    case Error::unknown_operation:
      return "Unknown Protocol Operation";
    case Error::control_line_too_long:
      return "Maximum Control Line Exceeded";
    case Error::payload_too_large:
      return "Maximum Payload Violation";
    case Error::bad_payload_terminator:
      return "Payload Not Followed By Line End";
    case Error::invalid_arguments:
      return "Invalid Protocol Arguments";
    case Error::invalid_subject:
      return "Invalid Subject";
    case Error::invalid_publish_subject:
      return "Invalid Publish Subject";
    case Error::slow_consumer:
      return "Slow Consumer";
    case Error::stale_connection:
      return "Stale Connection";
    case Error::authorization_violation:
      return "Authorization Violation";
    case Error::max_connections:
      return "Maximum Connections Exceeded";
    case Error::max_subscriptions:
      return "Maximum Subscriptions Exceeded";
    case Error::permissions_violation:
      return "Permissions Violation";
    case Error::rate_limited:
      return "Publish Rate Exceeded";
  }
  return "Unknown Error";
}

bool closes_connection(Error e) noexcept {
  switch (e) {
    case Error::invalid_subject:
    case Error::invalid_publish_subject:
    case Error::max_subscriptions:
    case Error::permissions_violation:
    case Error::rate_limited:
      return false;
    default:
      return true;
  }
}

}  // namespace psycho::protocol
