// The parser must not allocate per op: ops within one piece are views, and a split op reuses
// the scratch buffer's capacity. Global operator new is replaced in this test binary to count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "protocol/parser.hpp"

namespace {
std::atomic<std::size_t> allocations{0};

// Not inlined: g++ 12 would otherwise see free() meet a pointer from operator new inside
// gtest's factories and report -Wmismatched-new-delete, though both are ours and match.
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }

namespace psycho::protocol {
namespace {

class Counter : public OpHandler {
 public:
  bool on_op(const Op& op) override {
    bytes += op.payload.size();
    ++ops;
    return true;
  }
  std::size_t ops = 0;
  std::size_t bytes = 0;
};

TEST(ParserAllocations, NoneForOpsWithinOnePiece) {
  Parser parser(Limits{});
  Counter counter;
  const std::string input =
      "PUB a.b r 5\nhello\nHPUB h 12 14\nNATS/1.0\r\n\r\nhi\nSUB a q\nPING\nCONNECT {}\n";
  const std::size_t before = allocations.load();
  for (int round = 0; round < 100; ++round) ASSERT_FALSE(parser.feed(input, counter));
  EXPECT_EQ(allocations.load() - before, 0u);
  EXPECT_EQ(counter.ops, 500u);
}

TEST(ParserAllocations, NoneForSplitOpsOnceWarm) {
  Parser parser(Limits{});
  Counter counter;
  // Cut the stream so that control lines and bodies are split in every round.
  const std::string op = "PUB some.subject reply 1000\r\n" + std::string(1000, 'x') + "\r\n";
  const std::string stream = op + op + op;
  auto feed_cut = [&] {
    for (std::size_t at = 0; at < stream.size(); at += 7) {
      ASSERT_FALSE(parser.feed(std::string_view(stream).substr(at, 7), counter));
    }
  };
  feed_cut();  // warm up: the scratch buffer reaches its working size
  const std::size_t before = allocations.load();
  for (int round = 0; round < 20; ++round) feed_cut();
  EXPECT_EQ(allocations.load() - before, 0u);
  EXPECT_EQ(counter.ops, 63u);
  EXPECT_EQ(counter.bytes, 63u * 1000);
}

}  // namespace
}  // namespace psycho::protocol
