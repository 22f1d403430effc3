#include "adapters/poldercast/frame_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace psycho::poldercast {
namespace {

constexpr std::size_t kMax = 1 << 20;

std::string prefix(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

std::string frame(const std::string& payload) {
  return prefix(static_cast<std::uint32_t>(payload.size())) + payload;
}

// Writes `bytes` as a socket would (as much as space() offers at a time), taking out every
// frame as it completes. False when a prefix was oversized.
bool feed(FrameBuffer& b, std::string_view bytes, std::vector<std::string>& out) {
  while (!bytes.empty()) {
    const auto space = b.space();
    EXPECT_FALSE(space.empty());
    const std::size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    b.commit(n);
    bytes.remove_prefix(n);
    std::string_view f;
    for (;;) {
      const auto next = b.next(f);
      if (next == FrameBuffer::Next::oversized) return false;
      if (next == FrameBuffer::Next::more) break;
      out.emplace_back(f);
    }
  }
  return true;
}

TEST(PolderCastFrameBuffer, FramesSplitAnywhereAreReassembled) {
  const std::vector<std::string> payloads = {"a", "hello", std::string(40000, 'z'), "end"};
  std::string stream = frame("");  // zero-length frames are skipped wherever they are
  for (const auto& p : payloads) stream += frame(p) + frame("");
  for (std::size_t split = 0; split <= stream.size(); split += split < 64 ? 1 : 997) {
    FrameBuffer b(kMax);
    std::vector<std::string> out;
    ASSERT_TRUE(feed(b, std::string_view(stream).substr(0, split), out));
    ASSERT_TRUE(feed(b, std::string_view(stream).substr(split), out));
    EXPECT_EQ(out, payloads) << "split " << split;
    EXPECT_FALSE(b.partial());
  }
  FrameBuffer b(kMax);
  std::vector<std::string> out;
  for (char c : stream) ASSERT_TRUE(feed(b, std::string_view(&c, 1), out));
  EXPECT_EQ(out, payloads);
}

TEST(PolderCastFrameBuffer, AnAnnouncedLengthCostsNothingUntilItsBytesArrive) {
  FrameBuffer b(kMax);
  std::vector<std::string> out;
  ASSERT_TRUE(feed(b, prefix(kMax) + "abcd", out));
  EXPECT_TRUE(b.partial());
  EXPECT_EQ(b.capacity(), FrameBuffer::kInitial);
  EXPECT_EQ(b.space().size(), FrameBuffer::kInitial - 8);
}

TEST(PolderCastFrameBuffer, GrowsGeometricallyWithTheBytesAndShrinksAfterTheFrame) {
  FrameBuffer b(kMax);
  std::vector<std::string> out;
  const std::string big(kMax, 'L');
  const std::string whole = frame(big);
  std::size_t sent = 0;
  while (sent < whole.size() - 1) {
    const std::size_t n = std::min<std::size_t>(4096, whole.size() - 1 - sent);
    ASSERT_TRUE(feed(b, std::string_view(whole).substr(sent, n), out));
    sent += n;
    // Never more than about twice what arrived, never more than the frame.
    EXPECT_LE(b.capacity(), std::max(FrameBuffer::kInitial, 2 * sent)) << sent;
    EXPECT_LE(b.capacity(), whole.size());
  }
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(feed(b, whole.substr(sent) + prefix(3) + "x", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], big);
  b.space();  // the frame is out: its memory goes back, the started one moves along
  EXPECT_EQ(b.capacity(), FrameBuffer::kInitial);
  ASSERT_TRUE(feed(b, "yz", out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], "xyz");
}

// A stream of small frames that fills every read grows the reads to kBusy, no further, and
// a read that leaves room takes the buffer back to its initial size.
TEST(PolderCastFrameBuffer, ABusyLinkReadsMoreAtATimeUntilItIsQuietAgain) {
  FrameBuffer b(kMax);
  std::string stream;
  std::vector<std::string> sent;
  for (int i = 0; stream.size() < 8 * FrameBuffer::kBusy; ++i) {
    sent.push_back("publication " + std::to_string(i) + std::string(200, 'p'));
    stream += frame(sent.back());
  }
  std::vector<std::string> out;
  std::vector<std::size_t> offered;
  std::string_view rest = stream;
  while (!rest.empty()) {
    const auto space = b.space();
    offered.push_back(space.size());
    const std::size_t n = std::min(space.size(), rest.size());
    std::memcpy(space.data(), rest.data(), n);
    b.commit(n);
    rest.remove_prefix(n);
    std::string_view f;
    while (b.next(f) == FrameBuffer::Next::frame) out.emplace_back(f);
  }
  EXPECT_EQ(out, sent);
  EXPECT_EQ(b.capacity(), FrameBuffer::kBusy);  // never more
  EXPECT_GT(*std::max_element(offered.begin(), offered.end()), FrameBuffer::kBusy / 2);
  ASSERT_TRUE(feed(b, frame("quiet"), out));  // this read leaves room
  EXPECT_EQ(out.back(), "quiet");
  b.space();
  EXPECT_EQ(b.capacity(), FrameBuffer::kInitial);
}

TEST(PolderCastFrameBuffer, AnOversizedPrefixIsRefused) {
  for (const std::uint32_t length : {static_cast<std::uint32_t>(kMax + 1), 0xFFFFFFFFu}) {
    FrameBuffer b(kMax);
    std::vector<std::string> out;
    EXPECT_FALSE(feed(b, frame("ok") + prefix(length), out));
    EXPECT_EQ(out, std::vector<std::string>{"ok"});
  }
  FrameBuffer b(kMax);
  std::vector<std::string> out;
  EXPECT_TRUE(feed(b, frame(std::string(kMax, 'm')), out));  // exactly the limit is fine
  ASSERT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace psycho::poldercast
