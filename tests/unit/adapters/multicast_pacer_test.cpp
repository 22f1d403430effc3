#include "adapters/multicast/pacer.hpp"

#include <gtest/gtest.h>

namespace psycho::multicast {
namespace {

using namespace std::chrono_literals;
using Clock = Pacer::Clock;

// A sending thread offering 1,000-byte datagrams `gap` apart (100 MB/s at 10 µs) for
// `duration`, waiting as the pacer says; `nacked` is what the receivers have NACKed so far,
// `backlogs` the backlog reports they sent.
struct Sender {
  Pacer pacer;
  Clock::time_point now = Clock::time_point{} + 1h;
  std::uint64_t nacked = 0, backlogs = 0, full = 0;
  Clock::duration waited{};

  void send_for(Clock::duration duration, Clock::duration gap = 10us) {
    const auto end = now + duration;
    while (now < end) {
      const auto wait = pacer.before_send(1000, 1, {nacked, backlogs, full}, now);
      waited += wait;
      now += wait + gap;
    }
  }
};

TEST(MulticastPacer, IsUnpacedUntilReceiversNackMuchOfWhatWasSent) {
  Sender s;
  // Scattered loss (one in a thousand NACKed) is no congestion.
  for (int i = 0; i < 20; ++i) {
    s.send_for(10ms);
    ++s.nacked;
  }
  EXPECT_EQ(s.waited, Clock::duration::zero());
  EXPECT_EQ(s.pacer.rate(), 0);
  // A tenth of it NACKed: half the rate it was sending at.
  s.send_for(10ms);
  s.nacked += 100;
  s.send_for(1ms);
  EXPECT_NEAR(s.pacer.rate(), 50e6, 5e6);
  // Congested on and on: halved again and again, but never below the floor.
  for (int i = 0; i < 20; ++i) {
    s.send_for(10ms);
    s.nacked += 1000;
  }
  s.send_for(1ms);
  EXPECT_EQ(s.pacer.rate(), 4 << 20);
}

TEST(MulticastPacer, HoldsTheSenderToItsPaceRaisesItAndLetsGoWhenIdle) {
  Sender s;
  s.send_for(10ms);
  s.nacked += 500;
  s.send_for(1ms);
  const double paced = s.pacer.rate();
  ASSERT_GT(paced, 0);
  // Offered 100 MB/s, held to about half of it.
  s.waited = {};
  const auto start = s.now;
  s.send_for(1ms);
  EXPECT_GT(s.waited, Clock::duration::zero());
  // Held back without NACKs: an eighth more for every interval.
  s.send_for(25ms);
  EXPECT_GT(s.pacer.rate(), paced * 1.2);
  EXPECT_LT(s.pacer.rate(), paced * 1.5);
  EXPECT_GT(s.now - start, 26ms);
  // A sender that needs far less than its pace is unpaced again.
  s.send_for(200ms, 10ms);
  EXPECT_EQ(s.pacer.rate(), 0);
}

// A backlog report comes before any loss: the pace drops by a quarter at once, not at the
// end of the interval, and once per interval however many receivers report.
TEST(MulticastPacer, ABacklogReportSlowsTheSenderAtOnceByAQuarter) {
  Sender s;
  s.send_for(10ms);  // 100 MB/s, unpaced
  s.send_for(3ms);   // into the next interval
  s.backlogs += 2;   // two receivers say their buffers are filling
  s.send_for(10us);
  EXPECT_NEAR(s.pacer.rate(), 75e6, 5e6);
  EXPECT_EQ(s.pacer.backlog_cuts(), 1u);
  EXPECT_EQ(s.pacer.loss_cuts(), 0u);
  const double paced = s.pacer.rate();
  // A third report within the same interval is no cut at once; it is one at its end.
  s.send_for(2ms);
  ++s.backlogs;
  s.send_for(1ms);
  EXPECT_EQ(s.pacer.rate(), paced);
  s.send_for(8ms);
  EXPECT_NEAR(s.pacer.rate(), paced * 0.75, paced * 0.1);
  const double cut = s.pacer.rate();
  // Without reports, held back, the pace rises again.
  s.send_for(30ms);
  EXPECT_GT(s.pacer.rate(), cut);
  // Reported on and on, it goes down to the floor, never below.
  for (int i = 0; i < 100; ++i) {
    ++s.backlogs;
    s.send_for(10ms);
  }
  EXPECT_EQ(s.pacer.rate(), 4 << 20);
}

// A receiver that holds back for a subscriber of its own, its buffer nearly full, is about
// to lose what it cannot take: its report cuts the pace to a quarter, and the next one may
// come half an interval after it, where an ordinary report waits a whole interval.
TEST(MulticastPacer, AReportFromANearlyFullBufferCutsToAQuarterAndSooner) {
  Sender s;
  s.send_for(10ms);  // 100 MB/s, unpaced
  s.send_for(3ms);   // into the next interval
  ++s.backlogs;
  ++s.full;
  s.send_for(10us);
  EXPECT_NEAR(s.pacer.rate(), 25e6, 3e6);
  const double first = s.pacer.rate();
  s.send_for(6ms);  // more than half an interval since that cut
  ++s.backlogs;
  ++s.full;
  s.send_for(1ms);
  EXPECT_LT(s.pacer.rate(), first * 0.5);
  EXPECT_EQ(s.pacer.backlog_cuts(), 2u);
}

// Reports come from the whole group: one heard while this sender was idle says nothing
// about its pace (the rate it would measure over the idle interval is near zero).
TEST(MulticastPacer, ABacklogReportHeardWhileIdleIsNoCut) {
  Sender s;
  s.send_for(10ms);  // 100 MB/s, unpaced
  s.send_for(1ms);   // into the next interval
  s.now += 100ms;    // idle, while another sender fills some receiver
  ++s.backlogs;
  s.send_for(20ms);
  EXPECT_EQ(s.pacer.rate(), 0);
  EXPECT_EQ(s.pacer.backlog_cuts(), 0u);
}

// Loss and a report in one interval: loss decides (half), and both are counted.
TEST(MulticastPacer, LossAndABacklogInOneIntervalHalveThePace) {
  Sender s;
  s.send_for(10ms);
  s.send_for(100us);  // the next interval has begun, too young for an early end
  s.nacked += 500;
  ++s.backlogs;
  s.send_for(10ms);
  EXPECT_NEAR(s.pacer.rate(), 50e6, 5e6);
  EXPECT_EQ(s.pacer.backlog_cuts(), 1u);
  EXPECT_EQ(s.pacer.loss_cuts(), 1u);
}

TEST(MulticastPacer, AWaitForOwedRepairsIsNotReadAsASlowLossySender) {
  Sender s;
  s.send_for(10ms);  // 100 MB/s, unpaced
  // It waited 50 ms for repairs owed while receivers NACKed what it waited for.
  s.now += 50ms;
  s.nacked += 100;
  s.pacer.restart({s.nacked, s.backlogs}, s.now);
  s.send_for(20ms);
  EXPECT_EQ(s.pacer.rate(), 0);
  EXPECT_EQ(s.waited, Clock::duration::zero());
  // Without the restart, the same wait would have halved a rate of about 2 MB/s.
  Sender t;
  t.send_for(10ms);
  t.now += 50ms;
  t.nacked += 100;
  t.send_for(20ms);
  EXPECT_GT(t.pacer.rate(), 0);
  EXPECT_LT(t.pacer.rate(), 10e6);
}

}  // namespace
}  // namespace psycho::multicast
