// The CLI's pure helpers: argument parsing, count/size/duration parsing, the histogram.
#include <gtest/gtest.h>

#include <array>

#include "clients/cli/args.hpp"
#include "clients/cli/histogram.hpp"

namespace psycho::cli {
namespace {

template <std::size_t N>
Result<Args> parse(std::array<const char*, N> argv) {
  return Args::parse(static_cast<int>(N), const_cast<char**>(argv.data()), 0, {"url", "count"},
                     {"raw"});
}

TEST(Args, ValuesFlagsAndPositionals) {
  auto args = parse(std::array{"foo.>", "--url", "ws://h", "--raw", "--count=3", "msg"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->get_or("url", ""), "ws://h");
  EXPECT_EQ(args->get_or("count", ""), "3");
  EXPECT_TRUE(args->has("raw"));
  EXPECT_FALSE(args->has("queue"));
  EXPECT_EQ(args->positional(), (std::vector<std::string>{"foo.>", "msg"}));
}

TEST(Args, DoubleDashEndsOptions) {
  auto args = parse(std::array{"--", "--raw", "-x"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_FALSE(args->has("raw"));
  EXPECT_EQ(args->positional(), (std::vector<std::string>{"--raw", "-x"}));
}

TEST(Args, RejectsUnknownOption) { EXPECT_FALSE(parse(std::array{"--nope"})); }
TEST(Args, RejectsMissingValue) { EXPECT_FALSE(parse(std::array{"--url"})); }
TEST(Args, RejectsValueOnFlag) { EXPECT_FALSE(parse(std::array{"--raw=1"})); }

TEST(Units, Counts) {
  EXPECT_EQ(*parse_count("1000"), 1000u);
  EXPECT_EQ(*parse_count("10k"), 10'000u);
  EXPECT_EQ(*parse_count("1M"), 1'000'000u);
  EXPECT_FALSE(parse_count("ten"));
  EXPECT_FALSE(parse_count("5x"));
  EXPECT_FALSE(parse_count("-1"));
}

TEST(Units, Sizes) {
  EXPECT_EQ(*parse_size("16"), 16u);
  EXPECT_EQ(*parse_size("1KiB"), 1024u);
  EXPECT_EQ(*parse_size("1k"), 1024u);
  EXPECT_EQ(*parse_size("2MiB"), 2u * 1024 * 1024);
  EXPECT_FALSE(parse_size("1 KiB"));
}

TEST(Units, Durations) {
  EXPECT_EQ(*parse_duration("10s"), std::chrono::seconds(10));
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*parse_duration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(*parse_duration("3"), std::chrono::seconds(3));
  EXPECT_FALSE(parse_duration("soon"));
}

TEST(Histogram, EmptyIsZero) {
  Histogram h;
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(Histogram, LargeValuesWithinTwoPercent) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
  for (double q : {0.5, 0.9, 0.99}) {
    const double want = q * 100'000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), want, want * 0.02) << q;
  }
  EXPECT_EQ(h.max(), 100'000'000u);
}

TEST(Histogram, MergeAddsCountsAndKeepsMax) {
  Histogram a, b;
  a.record(10);
  b.record(1'000'000);
  b.record(20);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_EQ(a.percentile(0.5), 20u);
}

TEST(Histogram, HugeValuesDoNotOverflow) {
  Histogram h;
  h.record(~std::uint64_t{0});
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), ~std::uint64_t{0});
  const double top = static_cast<double>(~std::uint64_t{0});
  EXPECT_NEAR(static_cast<double>(h.percentile(1.0)), top, top * 0.02);
}

}  // namespace
}  // namespace psycho::cli
