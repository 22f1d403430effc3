#include "adapters/multicast/repair.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace psycho::multicast {
namespace {

using namespace std::chrono_literals;
using Verdict = ReceiveTracker::Verdict;

const Clock::time_point t0 = Clock::time_point{} + 1h;

RepairSettings settings() {
  RepairSettings s;
  s.window_bytes = 1000;
  s.nack_delay = 2ms;
  s.nack_interval = 20ms;
  s.max_nacks = 3;
  s.max_missing = 100;
  s.max_seq_jump = 1000;
  return s;
}

std::vector<std::pair<std::uint64_t, std::uint32_t>> ranges(const Nack& n) {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
  for (std::size_t i = 0; i < n.range_count; ++i)
    out.emplace_back(n.ranges[i].first, n.ranges[i].count);
  return out;
}

using Ranges = std::vector<std::pair<std::uint64_t, std::uint32_t>>;

// --- sender window -------------------------------------------------------------------------

TEST(MulticastSendWindow, KeepsRecentDatagramsWithinItsBound) {
  SendWindow w(settings());
  EXPECT_EQ(w.next_seq(), 1u);
  EXPECT_EQ(w.oldest_seq(), 1u);         // empty
  const std::string datagram(200, 'd');  // 200 + 64 bookkeeping: three fit in 1000
  for (std::uint64_t s = 1; s <= 5; ++s) w.keep(s, datagram);
  EXPECT_EQ(w.next_seq(), 6u);
  EXPECT_EQ(w.oldest_seq(), 3u);
  EXPECT_LE(w.bytes(), 1000u);
  EXPECT_TRUE(w.retransmit(2, t0).empty());  // gone
  EXPECT_TRUE(w.retransmit(6, t0).empty());  // not sent yet
  EXPECT_EQ(w.retransmit(3, t0).size(), 200u);
}

// Buffers are reused as datagrams leave; the bound counts what a buffer holds in memory, so a
// large one reused for a small datagram still counts large, and one larger than the whole
// window is not kept.
TEST(MulticastSendWindow, ItsBoundHoldsForReusedBuffersToo) {
  SendWindow w(settings());
  std::uint64_t seq = 1;
  for (int i = 0; i < 3; ++i) w.keep(seq++, std::string(600, 'L'));
  for (int i = 0; i < 10; ++i) {
    w.keep(seq++, std::string(50, 's'));
    EXPECT_LE(w.bytes(), 1000u);
    EXPECT_EQ(w.retransmit(seq - 1, t0).size(), 50u);
  }
  w.keep(seq++, std::string(2000, 'h'));  // above the whole window
  EXPECT_EQ(w.oldest_seq(), w.next_seq());
  EXPECT_EQ(w.bytes(), 0u);
}

TEST(MulticastSendWindow, RetransmissionsAreFlaggedAndRateLimited) {
  SendWindow w(settings());
  std::string datagram;
  encode_announce(datagram, 1, {1, 1});  // any datagram with a common header
  w.keep(1, datagram);
  const std::string_view again = w.retransmit(1, t0);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(static_cast<std::uint8_t>(again[6]) & kFlagRetransmit, kFlagRetransmit);
  EXPECT_TRUE(w.retransmit(1, t0 + 19ms).empty());  // another receiver's NACK for the same
  EXPECT_FALSE(w.retransmit(1, t0 + 20ms).empty());
}

// --- receiver ------------------------------------------------------------------------------

TEST(MulticastSendWindow, WhatIsOwedIsNotPushedOutWhileAskedFor) {
  RepairSettings s = settings();  // window 1000 bytes
  s.owed_for = 50ms;
  SendWindow w(s);
  const std::string d(200, 'x');  // 264 with bookkeeping: three fit
  for (std::uint64_t seq = 1; seq <= 3; ++seq) w.keep(seq, d);
  EXPECT_FALSE(w.would_drop_owed(264, t0));  // 1 would go, but nobody asked for it
  w.owe(1, t0);                              // a NACK asked for it
  EXPECT_TRUE(w.would_drop_owed(264, t0 + 10ms));
  EXPECT_FALSE(w.would_drop_owed(100, t0 + 10ms));  // still fits: nothing goes
  EXPECT_FALSE(w.would_drop_owed(264, t0 + 50ms));  // not asked for again: no longer owed
  w.owe(1, t0 + 60ms);
  EXPECT_FALSE(w.mark_resent(1, t0 + 61ms).empty());  // sent: owed no more
  EXPECT_FALSE(w.would_drop_owed(264, t0 + 62ms));
  w.owe(1, t0 + 70ms);  // lost again, asked again (and not sent twice within 20 ms)
  EXPECT_TRUE(w.resendable(1, t0 + 70ms).empty());
  EXPECT_TRUE(w.would_drop_owed(264, t0 + 71ms));
  EXPECT_FALSE(w.would_drop_owed(264, t0 + 120ms));
  w.owe(2, t0 + 130ms);
  EXPECT_FALSE(w.would_drop_owed(264, t0 + 131ms));     // only 1 would go
  EXPECT_TRUE(w.would_drop_owed(2 * 264, t0 + 131ms));  // 1 and 2 would go
  w.owe(99, t0);                                        // not held: nothing to keep
}

TEST(MulticastSendWindow, NothingHoldsTheWindowLongerThanMaxOwed) {
  RepairSettings s = settings();  // window 1000 bytes
  s.owed_for = 50ms;
  s.max_owed = 200ms;
  SendWindow w(s);
  const std::string d(200, 'x');
  for (std::uint64_t seq = 1; seq <= 3; ++seq) w.keep(seq, d);
  // Asked for every 20 ms, for ever (a receiver that never gets it, or forged NACKs).
  auto now = t0;
  for (; now < t0 + 190ms; now += 20ms) {
    w.owe(1, now);
    EXPECT_TRUE(w.would_drop_owed(264, now));
  }
  w.owe(1, now += 20ms);
  EXPECT_FALSE(w.would_drop_owed(264, now));  // 200 ms and more since it became owed
  // Not asked for a while, then asked again: owed afresh.
  w.owe(1, now += 60ms);
  EXPECT_TRUE(w.would_drop_owed(264, now));
}

TEST(MulticastReceiveTracker, JoinsWhereItFindsTheStream) {
  ReceiveTracker r(settings());
  EXPECT_EQ(r.on_data(1000, t0), Verdict::fresh);
  EXPECT_EQ(r.on_data(1001, t0), Verdict::fresh);
  EXPECT_EQ(r.on_data(1001, t0), Verdict::duplicate);
  EXPECT_EQ(r.on_data(5, t0), Verdict::duplicate);  // before we joined: not ours to want
  EXPECT_EQ(r.gaps(), 0u);
  Nack n;
  EXPECT_FALSE(r.due(t0 + 1s, n));
  EXPECT_EQ(r.next_due(), Clock::time_point::max());
}

TEST(MulticastReceiveTracker, AGapIsNackedAfterTheDelayAndRepaired) {
  ReceiveTracker r(settings());
  r.on_data(1, t0);
  EXPECT_EQ(r.on_data(4, t0), Verdict::fresh);  // 2 and 3 missing
  EXPECT_EQ(r.on_data(6, t0), Verdict::fresh);  // and 5
  EXPECT_EQ(r.gaps(), 2u);
  EXPECT_EQ(r.missing(), 3u);
  Nack n;
  EXPECT_FALSE(r.due(t0 + 1ms, n));  // reordering is given nack_delay
  EXPECT_EQ(r.next_due(), t0 + 2ms);
  ASSERT_TRUE(r.due(t0 + 2ms, n));
  EXPECT_EQ(ranges(n), (Ranges{{2, 2}, {5, 1}}));
  EXPECT_EQ(r.nacks(), 1u);
  EXPECT_FALSE(r.due(t0 + 3ms, n));  // asked; next time after nack_interval
  EXPECT_EQ(r.on_data(3, t0 + 4ms), Verdict::repaired);
  EXPECT_EQ(r.on_data(3, t0 + 4ms), Verdict::duplicate);
  ASSERT_TRUE(r.due(t0 + 22ms, n));
  EXPECT_EQ(ranges(n), (Ranges{{2, 1}, {5, 1}}));
  EXPECT_EQ(r.on_data(2, t0 + 23ms), Verdict::repaired);
  EXPECT_EQ(r.on_data(5, t0 + 23ms), Verdict::repaired);
  EXPECT_EQ(r.repaired(), 3u);
  EXPECT_EQ(r.missing(), 0u);
  EXPECT_EQ(r.lost(), 0u);
}

TEST(MulticastReceiveTracker, UnansweredNacksEndInLoss) {
  RepairSettings s = settings();  // max_nacks 3, 20 ms apart
  s.max_owed = 100ms;
  ReceiveTracker r(s);
  r.on_data(1, t0);
  r.on_data(3, t0);
  Nack n;
  auto now = t0 + 2ms;
  for (int i = 0; i < 5; ++i, now += 20ms) ASSERT_TRUE(r.due(now, n)) << i;
  // A receiver that has not read all that came yet asks again instead: the repair may be
  // waiting in its socket.
  ASSERT_TRUE(r.due(now, n, false));
  EXPECT_EQ(r.lost(), 0u);
  now += 20ms;
  EXPECT_FALSE(r.due(now, n));  // max_owed after the gap was found: given up
  EXPECT_EQ(r.lost(), 1u);
  EXPECT_EQ(r.missing(), 0u);
  EXPECT_EQ(r.on_data(2, now), Verdict::duplicate);  // too late to count as repaired

  // And at least max_nacks times, however short max_owed.
  s.max_owed = 1ms;
  ReceiveTracker quick(s);
  quick.on_data(1, t0);
  quick.on_data(3, t0);
  now = t0 + 2ms;
  for (int i = 0; i < 3; ++i, now += 20ms) ASSERT_TRUE(quick.due(now, n)) << i;
  EXPECT_FALSE(quick.due(now, n));
  EXPECT_EQ(quick.lost(), 1u);
}

TEST(MulticastReceiveTracker, ASenderStillRepairingIsAskedUntilItAnswers) {
  ReceiveTracker r(settings());  // max_nacks 3, 20 ms apart
  r.on_data(1, t0);
  r.on_data(3, t0);
  r.on_data(5, t0);  // 2 and 4 missing
  Nack n;
  auto now = t0 + 2ms;
  for (int i = 0; i < 3; ++i, now += 20ms) ASSERT_TRUE(r.due(now, n)) << i;
  // The sender repaired 2 (its budget let one through): it answers, only slowly, so 4 is
  // asked for again rather than given up on.
  EXPECT_EQ(r.on_data(2, now - 1ms), Verdict::repaired);
  for (int i = 0; i < 3; ++i, now += 20ms) {
    ASSERT_TRUE(r.due(now, n)) << i;
    EXPECT_EQ(ranges(n), (Ranges{{4, 1}}));
  }
  EXPECT_EQ(r.lost(), 0u);
  // No repair for max_nacks * nack_interval, and the gap max_owed old: then it is lost.
  now = t0 + settings().max_owed;
  EXPECT_FALSE(r.due(now, n));
  EXPECT_EQ(r.lost(), 1u);
}

// A sender short of CPU may not answer the first NACKs in time, or fall silent for a while
// (a process descheduled, a container at its CPU limit); it still holds what was asked for
// (up to max_owed), so the receiver asks on instead of giving up, flood or silence. Once the
// gap is max_owed old with no repair, the datagram is lost.
TEST(MulticastReceiveTracker, ASenderIsAskedUntilMaxOwedSendingOrSilent) {
  RepairSettings s = settings();  // max_nacks 3, 20 ms apart
  s.max_owed = 500ms;
  ReceiveTracker r(s);
  r.on_data(1, t0);
  r.on_data(3, t0);  // 2 missing
  Nack n;
  auto now = t0 + 2ms;
  std::uint64_t next = 4;
  for (int i = 0; i < 10; ++i, now += 20ms) {
    r.on_data(next++, now - 1ms);  // the flood goes on; no repair comes
    ASSERT_TRUE(r.due(now, n)) << i;
    EXPECT_EQ(ranges(n), (Ranges{{2, 1}}));
  }
  EXPECT_EQ(r.lost(), 0u);
  EXPECT_EQ(r.on_data(2, now), Verdict::repaired);
  // Another gap; the sender floods on but never repairs it: given up at max_owed.
  r.on_data(next + 1, now);
  auto found = now;
  now += 2ms;
  auto given_up = now;
  while (now - found < 520ms && r.lost() == 0) {
    r.on_data(next + 2, now - 1ms);  // a duplicate, still a sign of life
    r.due(now, n);
    given_up = now;
    now += 20ms;
  }
  EXPECT_EQ(r.lost(), 1u);
  EXPECT_GE(given_up - found, 500ms);
  // And one that falls silent for longer than max_nacks NACKs: asked all along, and
  // repaired when it runs again.
  r.on_data(next + 4, now);  // next + 3 missing
  found = now;
  now += 2ms;
  while (now - found < 400ms) {
    ASSERT_EQ(r.lost(), 1u) << "given up after " << (now - found).count() << " ns of silence";
    r.due(now, n);
    now += 20ms;
  }
  EXPECT_EQ(r.on_data(next + 3, now), Verdict::repaired);
  // Silent and never repaired: lost at max_owed.
  r.on_data(next + 6, now);  // next + 5 missing
  found = now;
  now += 2ms;
  while (r.lost() == 1 && now - found < 1s) {
    r.due(now, n);
    now += 20ms;
  }
  EXPECT_EQ(r.lost(), 2u);
  EXPECT_GE(now - found, 500ms);
}

TEST(MulticastReceiveTracker, SaysWhatIsCompleteAndGivesUpOldestFirst) {
  ReceiveTracker r(settings());
  r.on_data(1, t0);
  EXPECT_EQ(r.complete_before(), 2u);
  r.on_data(4, t0);  // 2 and 3 missing
  EXPECT_EQ(r.complete_before(), 2u);
  EXPECT_TRUE(r.give_up_oldest());
  EXPECT_EQ(r.complete_before(), 3u);
  EXPECT_EQ(r.on_data(3, t0), Verdict::repaired);
  EXPECT_EQ(r.complete_before(), 5u);
  EXPECT_FALSE(r.give_up_oldest());
  EXPECT_EQ(r.lost(), 1u);
}

TEST(MulticastReceiveTracker, AnnouncementsRevealTailLossAndWhatIsGone) {
  ReceiveTracker r(settings());
  r.on_announce({50, 40}, t0);  // joins at 50
  EXPECT_EQ(r.on_data(50, t0), Verdict::fresh);
  r.on_announce({54, 40}, t0);  // 51..53 were sent: the tail was lost
  EXPECT_EQ(r.gaps(), 1u);
  EXPECT_EQ(r.missing(), 3u);
  r.on_announce({54, 53}, t0);  // the sender no longer holds 51 and 52
  EXPECT_EQ(r.lost(), 2u);
  EXPECT_EQ(r.missing(), 1u);
  EXPECT_EQ(r.on_data(53, t0), Verdict::repaired);
  EXPECT_EQ(r.on_data(54, t0), Verdict::fresh);
}

TEST(MulticastReceiveTracker, MissingSequencesAreBounded) {
  RepairSettings s = settings();  // max_missing 100
  s.max_seq_jump = 2'000'000;
  ReceiveTracker r(s);
  r.on_data(1, t0);
  r.on_data(1'000'002, t0);  // a million missing: only the newest 100 are asked for
  EXPECT_EQ(r.missing(), 100u);
  EXPECT_EQ(r.lost(), 1'000'000u - 100u);
  r.on_data(1'000'010, t0);  // 7 more: the oldest make room
  EXPECT_EQ(r.missing(), 100u);
  EXPECT_EQ(r.lost(), 1'000'000u - 100u + 7u);
}

// A spoofed announce with a victim's id and a huge next_seq once made every receiver treat
// the victim's real datagrams as duplicates (a blackhole) and added ~4.6e18 to lost_total.
TEST(MulticastReceiveTracker, AnAnnouncedJumpBeyondTheLimitIsRefused) {
  ReceiveTracker r(settings());  // max_seq_jump 1000
  r.on_data(1, t0);
  r.on_data(2, t0);
  r.on_announce({std::uint64_t{1} << 62, 1}, t0);
  r.on_announce({UINT64_MAX, UINT64_MAX}, t0);
  EXPECT_EQ(r.gaps(), 0u);
  EXPECT_EQ(r.missing(), 0u);
  EXPECT_EQ(r.lost(), 0u);
  EXPECT_EQ(r.on_data(3, t0), Verdict::fresh);  // the real stream goes on
  EXPECT_EQ(r.on_data(4, t0), Verdict::fresh);
}

TEST(MulticastReceiveTracker, ADataJumpBeyondTheLimitIsRefused) {
  ReceiveTracker r(settings());
  r.on_data(1, t0);
  EXPECT_NE(r.on_data(2 + 1001, t0), Verdict::fresh);  // 1001 would be missing
  EXPECT_NE(r.on_data(UINT64_MAX, t0), Verdict::fresh);
  EXPECT_EQ(r.lost(), 0u);
  EXPECT_EQ(r.missing(), 0u);
  EXPECT_EQ(r.on_data(2, t0), Verdict::fresh);
}

// A receiver that lost more than max_seq_jump of a sender's datagrams (its socket overflowed
// during a stall) takes the sender's stream up where it is, when it may: what it skipped and
// what it was still missing are lost, and the stream goes on from there.
TEST(MulticastReceiveTracker, AJumpItMayTakeUpResyncsAndCountsWhatItSkipped) {
  ReceiveTracker r(settings());  // max_seq_jump 1000
  r.on_data(1, t0);
  r.on_data(3, t0);                                      // 2 missing
  EXPECT_EQ(r.on_data(5000, t0), Verdict::implausible);  // refused by default
  // 4..5000 skipped: 3997 beyond max_seq_jump, more than the receiver knows it lost.
  EXPECT_EQ(r.on_data(5001, t0, 3996), Verdict::implausible);
  EXPECT_EQ(r.on_data(5001, t0, 3997), Verdict::fresh);
  EXPECT_EQ(r.resyncs(), 1u);
  EXPECT_EQ(r.missing(), 0u);
  EXPECT_EQ(r.lost(), 1u + (5001 - 4));  // 2, and 4..5000
  EXPECT_EQ(r.on_data(5002, t0), Verdict::fresh);
  EXPECT_EQ(r.on_data(100, t0), Verdict::duplicate);  // behind the stream now
  // An announcement does so short of its last max_seq_jump sequences, which are asked for
  // (some may still be on their way), as far as max_missing tracks them.
  EXPECT_FALSE(r.on_announce({9000, 8000}, t0));
  EXPECT_TRUE(r.on_announce({9000, 5003}, t0, 9000));
  EXPECT_EQ(r.resyncs(), 2u);
  EXPECT_EQ(r.missing(), 100u);                       // max_missing
  EXPECT_EQ(r.lost(), 4998u + (8000 - 5003) + 900u);  // to 8000, and beyond max_missing
  EXPECT_EQ(r.on_data(8999, t0), Verdict::repaired);  // was on its way
  EXPECT_EQ(r.on_data(9000, t0), Verdict::fresh);
  EXPECT_EQ(r.on_data(1'000'000'000, t0, ReceiveTracker::kAnyJump), Verdict::fresh);  // keyed
  EXPECT_EQ(r.resyncs(), 3u);
}

TEST(MulticastReceiveTracker, AJumpWithinTheLimitCountsAtMostItsLength) {
  ReceiveTracker r(settings());  // max_seq_jump 1000, max_missing 100
  r.on_data(1, t0);
  EXPECT_EQ(r.on_data(1 + 1000, t0), Verdict::fresh);  // 999 missing
  EXPECT_EQ(r.missing(), 100u);
  EXPECT_EQ(r.lost(), 899u);
  r.on_announce({2002, 1}, t0);  // 1002..2001 were sent, none seen: 1000 more
  EXPECT_EQ(r.lost(), 899u + 1000u);
  EXPECT_EQ(r.missing(), 100u);
}

// With max_seq_jump no larger than max_missing (the configuration insists), a forged jump
// from a sender's own source cannot blackhole it: every sequence it skips is tracked as
// missing, and the sender's real datagrams arrive as repairs.
TEST(MulticastReceiveTracker, TheRealStreamBehindAForgedJumpIsStillTaken) {
  RepairSettings s = settings();
  s.max_missing = 100;
  s.max_seq_jump = 100;
  ReceiveTracker r(s);
  r.on_data(1, t0);
  EXPECT_EQ(r.on_data(1 + 100, t0), Verdict::fresh);  // forged: 2..100 now missing
  for (std::uint64_t seq = 2; seq <= 100; ++seq) {
    EXPECT_EQ(r.on_data(seq, t0), Verdict::repaired) << seq;
  }
  EXPECT_EQ(r.lost(), 0u);
}

TEST(MulticastReceiveTracker, AnAnnounceWhoseOldestIsAheadOfItsNextIsRefused) {
  ReceiveTracker r(settings());
  r.on_data(1, t0);
  r.on_data(4, t0);  // 2, 3 missing
  r.on_announce({5, 900}, t0);
  EXPECT_EQ(r.missing(), 2u);
  EXPECT_EQ(r.lost(), 0u);
}

TEST(MulticastReceiveTracker, ANackAsksForAtMostItsDatagramLimit) {
  RepairSettings s = settings();
  s.max_nack_datagrams = 30;
  ReceiveTracker r(s);
  r.on_data(1, t0);
  r.on_data(52, t0);  // 50 missing in one run
  r.on_data(54, t0);  // and one more
  Nack n;
  ASSERT_TRUE(r.due(t0 + 2ms, n));
  EXPECT_EQ(ranges(n), (Ranges{{2, 30}}));
  ASSERT_TRUE(r.due(t0 + 2ms, n));  // the rest in the next one
  EXPECT_EQ(ranges(n), (Ranges{{32, 20}, {53, 1}}));
  EXPECT_FALSE(r.due(t0 + 2ms, n));
}

TEST(MulticastReceiveTracker, ANackHoldsAtMostItsRangeLimit) {
  ReceiveTracker r(settings());
  r.on_data(1, t0);
  for (std::uint64_t s = 3; s < 3 + 2 * (kMaxNackRanges + 5); s += 2) r.on_data(s, t0);
  Nack n;
  ASSERT_TRUE(r.due(t0 + 2ms, n));
  EXPECT_EQ(n.range_count, kMaxNackRanges);
  ASSERT_TRUE(r.due(t0 + 2ms, n));  // the rest at once
  EXPECT_EQ(n.range_count, 5u);
  EXPECT_FALSE(r.due(t0 + 2ms, n));
}

}  // namespace
}  // namespace psycho::multicast
