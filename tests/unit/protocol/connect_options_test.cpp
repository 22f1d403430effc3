#include "protocol/connect_options.hpp"

#include <gtest/gtest.h>

namespace psycho::protocol {
namespace {

TEST(ConnectOptions, ReadsKnownFieldsAndIgnoresOthers) {
  ConnectOptions o;
  ASSERT_FALSE(parse_connect_options(
      R"({"verbose":false,"pedantic":false,"echo":true,"headers":true,"name":"a\"b\u00e9",)"
      R"("lang":"C","version":"1.0","protocol":1,"nested":{"x":[1,2,{"y":null}]}})",
      o));
  EXPECT_FALSE(o.verbose);
  EXPECT_TRUE(o.echo);
  EXPECT_TRUE(o.headers);
  EXPECT_EQ(o.name, "a\"b\xc3\xa9");
}

TEST(ConnectOptions, RejectsMalformedJsonAndWrongTypes) {
  for (const char* bad :
       {"", "{", "{\"verbose\":1}", "{\"name\":true}", "[1]", "{} x", "{\"a\":tru}", "{\"a\" 1}",
        "{\"a\":\"\\q\"}", "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]}"}) {
    ConnectOptions o;
    EXPECT_TRUE(parse_connect_options(bad, o)) << bad;
    EXPECT_TRUE(o.verbose) << "a failed parse changes nothing: " << bad;
  }
}

}  // namespace
}  // namespace psycho::protocol
