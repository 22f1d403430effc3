#include "adapters/multicast/reassembly.hpp"

#include <gtest/gtest.h>

namespace psycho::multicast {
namespace {

using namespace std::chrono_literals;

// A message of `size` bytes cut into `count` fragments of `chunk` bytes (the last shorter).
struct Fragments {
  DataHeader header;
  std::string bytes;
  std::size_t chunk;
  DataHeader at(std::uint32_t i) const {
    DataHeader h = header;
    h.index = i;
    h.seq = header.seq + i;
    h.offset = static_cast<std::uint32_t>(i * chunk);
    return h;
  }
  std::string_view piece(std::uint32_t i) const {
    return std::string_view(bytes).substr(i * chunk, chunk);
  }
};

Fragments message(std::uint64_t first_seq, std::size_t size, std::size_t chunk) {
  Fragments f;
  f.chunk = chunk;
  f.bytes = "s";
  for (std::size_t i = 1; i < size; ++i) f.bytes.push_back(static_cast<char>('a' + i % 26));
  f.header.seq = first_seq;
  f.header.trace = {9, first_seq, 1, 0};
  f.header.subject_size = 1;
  f.header.payload_size = static_cast<std::uint32_t>(size - 1);
  f.header.count = static_cast<std::uint32_t>((size + chunk - 1) / chunk);
  return f;
}

const Clock::time_point t0 = Clock::time_point{} + 1h;

TEST(MulticastReassembly, InAnyOrderWithDuplicates) {
  Reassembler r(1 << 20, 1s);
  const Fragments f = message(10, 100, 30);  // 4 fragments
  ASSERT_EQ(f.header.count, 4u);
  EXPECT_FALSE(r.add(1, f.at(2), f.piece(2), t0));
  EXPECT_FALSE(r.add(1, f.at(0), f.piece(0), t0));
  EXPECT_FALSE(r.add(1, f.at(0), f.piece(0), t0));  // a retransmission
  EXPECT_FALSE(r.add(1, f.at(3), f.piece(3), t0));
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_GT(r.bytes(), 100u);
  auto done = r.add(1, f.at(1), f.piece(1), t0);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->bytes, f.bytes);
  EXPECT_EQ(done->header.seq, 10u);
  EXPECT_EQ(done->header.index, 0u);
  EXPECT_EQ(done->header.trace.node_id, 9u);
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_EQ(r.bytes(), 0u);
}

TEST(MulticastReassembly, SendersAndMessagesAreKeptApart) {
  Reassembler r(1 << 20, 1s);
  const Fragments a = message(10, 60, 30), b = message(12, 60, 30);
  EXPECT_FALSE(r.add(1, a.at(0), a.piece(0), t0));
  EXPECT_FALSE(r.add(2, a.at(1), a.piece(1), t0));  // same sequences, other sender
  EXPECT_FALSE(r.add(1, b.at(1), b.piece(1), t0));
  EXPECT_EQ(r.pending(), 3u);
  EXPECT_TRUE(r.add(1, a.at(1), a.piece(1), t0));
  EXPECT_TRUE(r.add(2, a.at(0), a.piece(0), t0));
}

TEST(MulticastReassembly, IncompleteMessagesTimeOut) {
  Reassembler r(1 << 20, 1s);
  const Fragments f = message(10, 60, 30);
  EXPECT_FALSE(r.add(1, f.at(0), f.piece(0), t0));
  r.expire(t0 + 999ms);
  EXPECT_EQ(r.pending(), 1u);
  r.expire(t0 + 1s);
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_EQ(r.timed_out(), 1u);
  EXPECT_EQ(r.dropped_from(1), 1u);
  EXPECT_EQ(r.bytes(), 0u);
  // A late fragment starts over rather than completing a forgotten message.
  EXPECT_FALSE(r.add(1, f.at(1), f.piece(1), t0 + 2s));
}

TEST(MulticastReassembly, MemoryIsBoundedByEvictingTheOldest) {
  const Fragments a = message(10, 1000, 500), b = message(20, 1000, 500);
  Reassembler r(1600, 1s);  // room for one message and its bookkeeping, not two
  EXPECT_FALSE(r.add(1, a.at(0), a.piece(0), t0));
  EXPECT_FALSE(r.add(1, b.at(0), b.piece(0), t0 + 1ms));
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_EQ(r.evicted(), 1u);
  EXPECT_LE(r.bytes(), 1600u);
  EXPECT_FALSE(r.add(1, a.at(1), a.piece(1), t0 + 2ms));  // a is gone: starts again, evicts b
  EXPECT_EQ(r.evicted(), 2u);
  // A message larger than the whole bound is refused outright.
  const Fragments huge = message(30, 5000, 2500);
  EXPECT_FALSE(r.add(1, huge.at(0), huge.piece(0), t0));
  EXPECT_EQ(r.evicted(), 3u);
  EXPECT_EQ(r.pending(), 1u);
}

TEST(MulticastReassembly, FragmentsThatDisagreeAreIgnored) {
  Reassembler r(1 << 20, 1s);
  const Fragments f = message(10, 60, 30);
  EXPECT_FALSE(r.add(1, f.at(0), f.piece(0), t0));
  DataHeader other = f.at(1);
  other.payload_size += 1;
  EXPECT_FALSE(r.add(1, other, f.piece(1), t0));
  EXPECT_EQ(r.inconsistent(), 1u);
  EXPECT_TRUE(r.add(1, f.at(1), f.piece(1), t0));
}

TEST(MulticastReassembly, ForgettingASenderFreesItsMessages) {
  Reassembler r(1 << 20, 1s);
  const Fragments f = message(10, 60, 30);
  EXPECT_FALSE(r.add(1, f.at(0), f.piece(0), t0));
  EXPECT_FALSE(r.add(2, f.at(0), f.piece(0), t0));
  r.forget(1);
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_TRUE(r.add(2, f.at(1), f.piece(1), t0));
  EXPECT_EQ(r.bytes(), 0u);
}

// A message nobody wants is skipped at its first fragment: what came before it is freed, the
// rest only ticked off, and nothing of it is handed on, counted as lost, or kept.
TEST(MulticastReassembly, ASkippedMessageCostsOnlyItsBookkeeping) {
  Reassembler r(1 << 20, 1s);
  const Fragments f = message(10, 3000, 1000);      // 3 fragments
  EXPECT_FALSE(r.add(1, f.at(2), f.piece(2), t0));  // before the first: put aside in full
  EXPECT_GT(r.bytes(), 3000u);
  r.skip(1, f.at(0), t0);
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_LT(r.bytes(), 1000u);
  EXPECT_FALSE(r.add(1, f.at(2), f.piece(2), t0));  // a retransmission
  EXPECT_FALSE(r.add(1, f.at(1), f.piece(1), t0));  // the last missing: let go
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_EQ(r.bytes(), 0u);

  // Skipped first, then its fragments; and one that never completes is no drop.
  const Fragments g = message(20, 3000, 1000), h = message(30, 3000, 1000);
  r.skip(1, g.at(0), t0);
  EXPECT_LT(r.bytes(), 1000u);
  EXPECT_FALSE(r.add(1, g.at(1), g.piece(1), t0));
  EXPECT_FALSE(r.add(1, g.at(2), g.piece(2), t0));
  r.skip(1, h.at(0), t0);
  EXPECT_FALSE(r.add(1, h.at(1), h.piece(1), t0));
  r.expire(t0 + 1s);
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_EQ(r.bytes(), 0u);
  EXPECT_EQ(r.timed_out(), 0u);
  EXPECT_EQ(r.dropped_from(1), 0u);
}

}  // namespace
}  // namespace psycho::multicast
