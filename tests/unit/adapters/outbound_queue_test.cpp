#include "adapters/outbound_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace psycho {
namespace {

using namespace std::chrono_literals;

MessagePtr message(std::string_view payload) {
  return make_message({"s", "", "", payload}, 1, Trace{});
}

TEST(OutboundQueue, BoundsBytesAndMessagesAndHandsOverEverythingAtOnce) {
  OutboundQueue q({.bytes = 10, .messages = 3});
  EXPECT_TRUE(q.push(message("1234")));  // 5 bytes with the subject
  EXPECT_TRUE(q.push(message("1234")));  // 10
  EXPECT_FALSE(q.push(message("")));     // 11 > 10
  std::vector<MessagePtr> out;
  ASSERT_TRUE(q.take_all(out, 0ms));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(q.bytes(), 0u);
  out.clear();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(q.push(message("")));
  EXPECT_FALSE(q.push(message("")));  // the message bound
}

TEST(OutboundQueue, WakesTheSenderAndFinishesAfterClose) {
  OutboundQueue q({.bytes = 1 << 20, .messages = 1000});
  std::vector<std::size_t> batches;
  std::thread sender([&] {
    std::vector<MessagePtr> out;
    while (q.take_all(out, 10s)) {
      if (!out.empty()) batches.push_back(out.size());
      out.clear();
    }
  });
  EXPECT_TRUE(q.push(message("a")));
  q.poke();
  q.close();
  sender.join();  // returns promptly although the wait was 10 s
  std::size_t total = 0;
  for (auto b : batches) total += b;
  EXPECT_EQ(total, 1u);
  EXPECT_FALSE(q.push(message("late")));
}

TEST(OutboundQueue, BlockingQueueIsCongestedPastHalfUntilTheSenderTakesIt) {
  OutboundQueue q({.bytes = 100, .messages = 1000, .on_full = OnFull::block});
  EXPECT_FALSE(q.flow().congested);
  EXPECT_TRUE(q.push(message(std::string(49, 'x'))));  // 50 bytes: exactly half
  EXPECT_FALSE(q.flow().congested);
  EXPECT_TRUE(q.push(message("")));  // 51
  EXPECT_TRUE(q.flow().congested);
  const std::uint64_t before = q.flow().drained;
  std::vector<MessagePtr> out;
  ASSERT_TRUE(q.take_all(out, 0ms));
  EXPECT_FALSE(q.flow().congested);
  EXPECT_EQ(q.flow().drained, before + 2);
  // Half the messages counts too.
  OutboundQueue few({.bytes = 1 << 20, .messages = 4, .on_full = OnFull::block});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(few.push(message("")));
  EXPECT_TRUE(few.flow().congested);
}

TEST(OutboundQueue, DroppingQueueNeverAsksPublishersToWait) {
  OutboundQueue q({.bytes = 10,
                   .messages = 1000,
                   .on_full = OnFull::drop,
                   .block_timeout = std::chrono::milliseconds(5)});
  EXPECT_TRUE(q.push(message("123456789")));
  EXPECT_FALSE(q.push(message("1")));
  EXPECT_FALSE(q.flow().congested);
  EXPECT_EQ(q.flow().patience, 5ms);
}

}  // namespace
}  // namespace psycho
