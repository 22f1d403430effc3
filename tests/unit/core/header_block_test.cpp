#include "core/header_block.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace psycho {
namespace {

TEST(HeaderBlock, LinesAreReadAsTheyWereWrittenUpToTheBlankLine) {
  std::vector<std::pair<std::string, std::string>> seen;
  for_each_header_line("NATS/1.0\r\nA: 1\r\nB:2\r\nnot a header\r\nC:  three \r\n\r\nD: after\r\n",
                       [&](std::string_view line, std::string_view name) {
                         seen.emplace_back(name, header_value(line));
                       });
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"A", "1"}, {"B", "2"}, {"not a header", ""}, {"C", "three "}}));
  for_each_header_line("", [&](std::string_view, std::string_view) { FAIL(); });
}

TEST(HeaderBlock, GatewayHeadersAreEveryPsychoNameInAnyCase) {
  EXPECT_TRUE(is_gateway_header("Psycho-Trace"));
  EXPECT_TRUE(is_gateway_header("PSYCHO-anything"));
  EXPECT_TRUE(is_gateway_header("psycho-"));
  EXPECT_FALSE(is_gateway_header("Psycho"));
  EXPECT_FALSE(is_gateway_header("X-Psycho-Trace"));
  EXPECT_FALSE(is_gateway_header(""));
}

TEST(HeaderBlock, GatewayHeadersAreTakenOutAndTheRestKeptByteForByte) {
  std::string scratch;
  // None: the block itself, not a copy.
  const std::string plain = "NATS/1.0\r\nZ: 1\r\nz: 2\r\n\r\n";
  EXPECT_EQ(without_gateway_headers(plain, scratch).data(), plain.data());
  // Some: order, case and repeated names of the rest stay; the status line too.
  EXPECT_EQ(
      without_gateway_headers(
          "NATS/1.0 503\r\nZ: 1\r\nPsycho-Trace: a-1-1\r\nz: 2\r\npsycho-x: y\r\n\r\n", scratch),
      "NATS/1.0 503\r\nZ: 1\r\nz: 2\r\n\r\n");
  // Only gateway headers: an empty block, still a block.
  EXPECT_EQ(without_gateway_headers("NATS/1.0\r\nPsycho-Trace: a-1-1\r\n\r\n", scratch),
            "NATS/1.0\r\n\r\n");
}

}  // namespace
}  // namespace psycho
