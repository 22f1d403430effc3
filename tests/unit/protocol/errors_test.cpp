#include "protocol/errors.hpp"

#include <gtest/gtest.h>

namespace psycho::protocol {
namespace {

struct Expected {
  Error error;
  std::string_view text;
  bool closes;
};

constexpr Expected kAll[] = {
    {Error::unknown_operation, "Unknown Protocol Operation", true},
    {Error::control_line_too_long, "Maximum Control Line Exceeded", true},
    {Error::payload_too_large, "Maximum Payload Violation", true},
    {Error::bad_payload_terminator, "Payload Not Followed By Line End", true},
    {Error::invalid_arguments, "Invalid Protocol Arguments", true},
    {Error::invalid_subject, "Invalid Subject", false},
    {Error::invalid_publish_subject, "Invalid Publish Subject", false},
    {Error::slow_consumer, "Slow Consumer", true},
    {Error::stale_connection, "Stale Connection", true},
    {Error::authorization_violation, "Authorization Violation", true},
    {Error::max_connections, "Maximum Connections Exceeded", true},
    {Error::max_subscriptions, "Maximum Subscriptions Exceeded", false},
};

TEST(Errors, WireTextsAndWhetherTheyClose) {
  for (const auto& e : kAll) {
    EXPECT_EQ(wire_text(e.error), e.text);
    EXPECT_EQ(closes_connection(e.error), e.closes) << e.text;
  }
}

TEST(Errors, ErrorCodesUseTheProtocolCategory) {
  for (const auto& e : kAll) {
    const std::error_code ec = e.error;  // implicit: Error is an error_code enum
    EXPECT_TRUE(ec);
    EXPECT_EQ(ec, make_error_code(e.error));
    EXPECT_EQ(ec, e.error);
    EXPECT_EQ(&ec.category(), &protocol_category());
    EXPECT_STREQ(ec.category().name(), "psycho.protocol");
    EXPECT_EQ(ec.message(), e.text);
  }
  EXPECT_NE(std::error_code(Error::slow_consumer),
            std::error_code(static_cast<int>(Error::slow_consumer), std::generic_category()));
}

}  // namespace
}  // namespace psycho::protocol
