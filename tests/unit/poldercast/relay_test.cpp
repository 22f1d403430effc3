#include "poldercast/relay.hpp"

#include <gtest/gtest.h>

namespace psycho::poldercast {
namespace {

TEST(PolderCastRelay, UndialableAddressesNameTheirRelay) {
  EXPECT_TRUE(undialable("web:00ff@127.0.0.1:4250"));
  EXPECT_EQ(relay_of("web:00ff@127.0.0.1:4250"), "127.0.0.1:4250");
  EXPECT_EQ(relay_of("web:a@b@c:1"), "b@c:1");  // the first '@' ends the name
  for (std::string_view dialable :
       {"127.0.0.1:4250", "web:", "web:@h:1", "web:abc", "web:abc@", "[::1]:4250", "webx:a@h:1"}) {
    EXPECT_FALSE(undialable(dialable)) << dialable;
    EXPECT_EQ(relay_of(dialable), "") << dialable;
  }
}

TEST(PolderCastRelay, RoundTripsAndIsToldFromAMessage) {
  std::string out;
  encode_relay("web:1@h:1", "PC\x01\x0b", out);
  EXPECT_TRUE(is_relay(out));
  std::string_view destination, message;
  ASSERT_EQ(decode_relay(out, Limits{}, destination, message), DecodeError::none);
  EXPECT_EQ(destination, "web:1@h:1");
  EXPECT_EQ(message, "PC\x01\x0b");
  EXPECT_FALSE(is_relay(message));
  // A node never takes an envelope for a message.
  WireMessage m;
  EXPECT_EQ(decode(out, Limits{}, m), DecodeError::bad_type);
}

TEST(PolderCastRelay, EveryPrefixIsTruncated) {
  std::string out;
  encode_relay("h:1", "abc", out);
  std::string_view destination, message;
  for (std::size_t n = 0; n < out.size(); ++n) {
    EXPECT_EQ(decode_relay(out.substr(0, n), Limits{}, destination, message),
              DecodeError::truncated)
        << n;
  }
  EXPECT_EQ(decode_relay(out + "x", Limits{}, destination, message), DecodeError::trailing_bytes);
}

TEST(PolderCastRelay, RejectionsHaveTheirReasons) {
  std::string_view destination, message;
  auto refuse = [&](std::string_view destination_in, std::string_view message_in,
                    const Limits& limits = {}) {
    std::string out;
    encode_relay(destination_in, message_in, out);
    return decode_relay(out, limits, destination, message);
  };
  EXPECT_EQ(refuse("", "abc"), DecodeError::bad_value);
  EXPECT_EQ(refuse("h:1", ""), DecodeError::bad_value);
  Limits small;
  small.max_address = 2;
  EXPECT_EQ(refuse("h:1", "abc", small), DecodeError::too_large);
  small = Limits{};
  small.max_publication = 2;
  EXPECT_EQ(refuse("h:1", "abc", small), DecodeError::too_large);
  std::string out;
  encode_relay("h:1", "abc", out);
  out[0] = 'X';
  EXPECT_EQ(decode_relay(out, Limits{}, destination, message), DecodeError::bad_magic);
  out[0] = 'P';
  out[2] = kVersion + 1;
  EXPECT_EQ(decode_relay(out, Limits{}, destination, message), DecodeError::bad_version);
  out[2] = kVersion;
  out[3] = 7;
  EXPECT_EQ(decode_relay(out, Limits{}, destination, message), DecodeError::bad_type);
}

}  // namespace
}  // namespace psycho::poldercast
