#include "adapters/traffic_counters.hpp"

#include <gtest/gtest.h>

namespace psycho {
namespace {

enum class Drop { full, late, count };
constexpr TrafficCounters<Drop>::Names kNames = {"full", "late"};

TEST(TrafficCounters, FillsTrafficAndEveryDropReason) {
  TrafficCounters<Drop> c(kNames);
  c.received(10);
  c.received(5);
  c.sent(7);
  c.count(Drop::late, 3);
  c.count(Drop::late);
  EXPECT_EQ(c.dropped(Drop::late), 4u);
  metrics::AdapterTraffic t;
  t.dropped["elsewhere"] = 9;  // reasons counted by someone else stay
  c.fill(t);
  EXPECT_EQ(t.messages_in, 2u);
  EXPECT_EQ(t.bytes_in, 15u);
  EXPECT_EQ(t.messages_out, 1u);
  EXPECT_EQ(t.bytes_out, 7u);
  EXPECT_EQ(t.dropped,
            (std::map<std::string, std::uint64_t>{{"elsewhere", 9}, {"full", 0}, {"late", 4}}));
}

}  // namespace
}  // namespace psycho
