// The text conversions behind every size, duration, endpoint and ${VAR} in the configuration.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/section.hpp"

namespace psycho::config {
namespace {

TEST(ConfigValues, Sizes) {
  const std::pair<const char*, std::size_t> good[] = {
      {"0", 0},           {"512", 512},
      {"512B", 512},      {"10KB", 10'000},
      {"8MB", 8'000'000}, {"1GB", 1'000'000'000},
      {"64KiB", 65'536},  {"1MiB", 1'048'576},
      {"1GiB", 1u << 30}, {"18446744073709551615", SIZE_MAX},
  };
  for (const auto& [text, want] : good) {
    std::size_t n = 7;
    EXPECT_TRUE(parse_size(text, n)) << text;
    EXPECT_EQ(n, want) << text;
  }
  for (const char* bad :
       {"", "-1", "+1", " 1", "1 ", "1.5MB", "MB", "1 MB", "1mb", "64k", "64K", "1KIB", "1kb",
        "0x10", "99999999999999999999", "18446744073709551615KiB", "17179869184GiB"}) {
    std::size_t n = 7;
    EXPECT_FALSE(parse_size(bad, n)) << bad;
    EXPECT_EQ(n, 7u) << "untouched on failure: " << bad;
  }
}

TEST(ConfigValues, Durations) {
  using std::chrono::milliseconds;
  const std::pair<const char*, milliseconds::rep> good[] = {
      {"250ms", 250},
      {"30s", 30'000},
      {"2m", 120'000},
      {"1h", 3'600'000},
      {"1m30s", 90'000},
      {"1h2m3s4ms", 3'723'004},
      {"0", 0},
      {"30", 30'000},
      {"0ms", 0},
      {"100000h", 100'000LL * 3'600'000},
      {"360000000", 360'000'000'000},
  };
  for (const auto& [text, want] : good) {
    milliseconds d{-1};
    EXPECT_TRUE(parse_duration(text, d)) << text;
    EXPECT_EQ(d.count(), want) << text;
  }
  for (const char* bad : {"", "s", "ms5", "5x", "5S", "-5s", "-5", "1.5s", "5 s", " 5s", "1m30",
                          "100001h", "360000001", "99999999999999999999s", "5sec"}) {
    milliseconds d{-1};
    EXPECT_FALSE(parse_duration(bad, d)) << bad;
    EXPECT_EQ(d.count(), -1) << bad;
  }
}

TEST(ConfigValues, WholeNumbers) {
  std::int64_t i = 0;
  EXPECT_TRUE(parse_int("-42", i) && i == -42);
  EXPECT_TRUE(parse_int("9223372036854775807", i) && i == INT64_MAX);
  std::uint64_t u = 0;
  EXPECT_TRUE(parse_uint("18446744073709551615", u) && u == UINT64_MAX);
  for (const char* bad : {"", "-", "+1", "1e3", "0x1", "9223372036854775808", " 1", "1_000"}) {
    EXPECT_FALSE(parse_int(bad, i)) << bad;
  }
  for (const char* bad : {"", "-1", "+1", "18446744073709551616"}) {
    EXPECT_FALSE(parse_uint(bad, u)) << bad;
  }
}

TEST(ConfigValues, Endpoints) {
  const std::pair<const char*, const char*> good[] = {
      {"127.0.0.1:4242", "127.0.0.1:4242"},
      {"0.0.0.0:0", "0.0.0.0:0"},
      {"localhost:65535", "localhost:65535"},
      {"[::1]:5", "[::1]:5"},
      {"[::]:4242", "[::]:4242"},
      {"", ""},
  };
  for (const auto& [text, round_trip] : good) {
    Endpoint e{"unchanged", 1};
    EXPECT_TRUE(parse_endpoint(text, e)) << text;
    EXPECT_EQ(e.to_string(), round_trip) << text;
  }
  Endpoint e;
  ASSERT_TRUE(parse_endpoint("[::1]:0", e));
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 0);
  EXPECT_TRUE(e.enabled());
  ASSERT_TRUE(parse_endpoint("", e));
  EXPECT_FALSE(e.enabled());
  for (const char* bad :
       {"::1:5", "host", ":5", "h:", "h:x", "h:+5", "h:-1", "h:65536", "h:99999999999999999999",
        "[::1]5", "[::1]", "[::1]:", "[]:5", "a b:5", "a/b:5", "[::1:5"}) {
    Endpoint untouched{"unchanged", 1};
    EXPECT_FALSE(parse_endpoint(bad, untouched)) << bad;
    EXPECT_EQ(untouched.host, "unchanged") << bad;
  }
}

TEST(ConfigValues, EnvironmentExpansion) {
  ::setenv("PSYCHO_T_A", "alpha", 1);
  ::setenv("PSYCHO_T_EMPTY", "", 1);
  ::setenv("PSYCHO_T_REF", "${PSYCHO_T_A}", 1);
  ::unsetenv("PSYCHO_T_UNSET");
  const std::pair<const char*, const char*> good[] = {
      {"plain", "plain"},
      {"${PSYCHO_T_A}", "alpha"},
      {"x-${PSYCHO_T_A}-${PSYCHO_T_A}", "x-alpha-alpha"},
      {"${PSYCHO_T_A:-other}", "alpha"},
      {"${PSYCHO_T_UNSET:-fall back}", "fall back"},
      {"${PSYCHO_T_UNSET:-}", ""},
      {"${PSYCHO_T_EMPTY:-dflt}", ""},       // set but empty is set
      {"${PSYCHO_T_REF}", "${PSYCHO_T_A}"},  // values are not expanded again
      {"$$", "$"},
      {"$${PSYCHO_T_A}", "${PSYCHO_T_A}"},
      {"$$$${PSYCHO_T_A}", "$${PSYCHO_T_A}"},
      {"cost: 5$", "cost: 5$"},
      {"$PSYCHO_T_A", "$PSYCHO_T_A"},  // only the braced form expands
  };
  for (const auto& [text, want] : good) {
    auto r = expand_env(text);
    ASSERT_TRUE(r) << text << ": " << r.error();
    EXPECT_EQ(*r, want) << text;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"${PSYCHO_T_UNSET}",
       "environment variable 'PSYCHO_T_UNSET' is not set (use ${PSYCHO_T_UNSET:-default} for a "
       "fallback)"},
      {"a${PSYCHO_T_A", "unterminated '${' (write $$ for a literal '$')"},
      {"${}", "'${}' is not a valid variable name"},
      {"${1X}", "'${1X}' is not a valid variable name"},
      {"${A B}", "'${A B}' is not a valid variable name"},
      {"${:-x}", "'${:-x}' is not a valid variable name"},
  };
  for (const auto& [text, want] : bad) {
    auto r = expand_env(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), want) << text;
  }
}

}  // namespace
}  // namespace psycho::config
