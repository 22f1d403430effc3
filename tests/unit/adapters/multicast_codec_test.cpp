#include "adapters/multicast/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace psycho::multicast {
namespace {

constexpr std::size_t kMax = 1 << 20;

DataHeader sample_header() {
  DataHeader h;
  h.seq = 0x0102030405060708ull;
  h.trace = {0x1112131415161718ull, 0x2122232425262728ull, 7, 0xA1B2C3D4u};
  h.subject_size = 3;
  h.reply_size = 2;
  h.headers_size = 0;
  h.payload_size = 4;
  return h;
}

std::string data_datagram(const DataHeader& h, std::string_view chunk, std::uint8_t flags = 0) {
  std::string out;
  encode_data(out, 0xAABBCCDDEEFF0011ull, flags, h, chunk);
  return out;
}

DecodeError decode_of(const std::string& bytes, Datagram& d, std::size_t max = kMax) {
  return decode(bytes, max, d);
}

TEST(MulticastCodec, DataRoundTripsEveryField) {
  const DataHeader h = sample_header();
  const std::string bytes = data_datagram(h, "a.br1body", kFlagRetransmit);
  ASSERT_EQ(bytes.size(), kDataHeaderSize + 9);
  EXPECT_EQ(bytes.substr(0, 4), "PSMC");
  Datagram d;
  ASSERT_EQ(decode_of(bytes, d), DecodeError::none);
  EXPECT_EQ(d.type, Type::data);
  EXPECT_EQ(d.flags, kFlagRetransmit);
  EXPECT_EQ(d.sender, 0xAABBCCDDEEFF0011ull);
  EXPECT_EQ(d.data.seq, h.seq);
  EXPECT_EQ(d.data.trace.node_id, h.trace.node_id);
  EXPECT_EQ(d.data.trace.seq, h.trace.seq);
  EXPECT_EQ(d.data.trace.hops, 7);
  EXPECT_EQ(d.data.trace.bus, 0xA1B2C3D4u);
  EXPECT_EQ(d.data.subject_size, 3);
  EXPECT_EQ(d.data.reply_size, 2);
  EXPECT_EQ(d.data.headers_size, 0u);
  EXPECT_EQ(d.data.payload_size, 4u);
  EXPECT_EQ(d.data.index, 0u);
  EXPECT_EQ(d.data.count, 1u);
  EXPECT_EQ(d.data.offset, 0u);
  EXPECT_EQ(d.chunk, "a.br1body");
}

TEST(MulticastCodec, IntegersAreBigEndianAtDocumentedOffsets) {
  const std::string bytes = data_datagram(sample_header(), "a.br1body");
  EXPECT_EQ(static_cast<unsigned char>(bytes[4]), kVersion);
  EXPECT_EQ(static_cast<unsigned char>(bytes[5]), 1);  // data
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 0xAA);
  EXPECT_EQ(static_cast<unsigned char>(bytes[16]), 0x01);  // seq, most significant first
  EXPECT_EQ(static_cast<unsigned char>(bytes[23]), 0x08);
  EXPECT_EQ(static_cast<unsigned char>(bytes[40]), 0xA1);  // bus
  EXPECT_EQ(static_cast<unsigned char>(bytes[44]), 7);     // hops
  EXPECT_EQ(static_cast<unsigned char>(bytes[47]), 3);     // subject size
}

// What the receiving thread may wait before (data, packed) and what it never holds up.
TEST(MulticastCodec, OnlyDatagramsOfMessagesCarryMessages) {
  EXPECT_TRUE(carries_messages(data_datagram(sample_header(), "a.br1body")));
  std::string nack;
  encode_nack(nack, 7, Nack{});
  EXPECT_FALSE(carries_messages(nack));
  std::string backlog;
  encode_backlog(backlog, 7, {1, 2});
  EXPECT_FALSE(carries_messages(backlog));
  EXPECT_FALSE(carries_messages("PSMC"));  // too short to say
}

TEST(MulticastCodec, NackRoundTrips) {
  Nack n;
  n.target = 42;
  n.ranges[0] = {10, 3};
  n.ranges[1] = {100, 1};
  n.range_count = 2;
  std::string bytes;
  encode_nack(bytes, 7, n);
  ASSERT_EQ(bytes.size(), kNackHeaderSize + 2 * kNackRangeSize);
  Datagram d;
  ASSERT_EQ(decode_of(bytes, d), DecodeError::none);
  EXPECT_EQ(d.type, Type::nack);
  EXPECT_EQ(d.sender, 7u);
  EXPECT_EQ(d.nack.target, 42u);
  ASSERT_EQ(d.nack.range_count, 2u);
  EXPECT_EQ(d.nack.ranges[0].first, 10u);
  EXPECT_EQ(d.nack.ranges[0].count, 3u);
  EXPECT_EQ(d.nack.ranges[1].first, 100u);
  EXPECT_EQ(d.nack.ranges[1].count, 1u);
}

TEST(MulticastCodec, AnnounceRoundTrips) {
  std::string bytes;
  encode_announce(bytes, 9, {500, 200});
  ASSERT_EQ(bytes.size(), kAnnounceSize);
  Datagram d;
  ASSERT_EQ(decode_of(bytes, d), DecodeError::none);
  EXPECT_EQ(d.type, Type::announce);
  EXPECT_EQ(d.sender, 9u);
  EXPECT_EQ(d.announce.next_seq, 500u);
  EXPECT_EQ(d.announce.oldest_seq, 200u);
}

// Fragments a message and decodes every datagram; returns the chunks joined.
std::string fragment_and_join(const MessageParts& parts, std::size_t max_datagram,
                              std::uint32_t* count) {
  std::vector<std::string> datagrams;
  *count = fragment(parts, Trace{1, 2, 3, 4}, 5, 100, max_datagram,
                    [&]() -> std::string& { return datagrams.emplace_back(); });
  EXPECT_EQ(datagrams.size(), *count);
  std::string joined;
  std::uint64_t expect_seq = 100;
  for (const std::string& datagram : datagrams) {
    EXPECT_LE(datagram.size(), max_datagram);
    Datagram d;
    EXPECT_EQ(decode(datagram, kMax, d), DecodeError::none);
    EXPECT_EQ(d.data.seq, expect_seq);
    EXPECT_EQ(d.data.first_seq(), 100u);
    EXPECT_EQ(d.data.offset, joined.size());
    EXPECT_EQ(d.data.trace.hops, 3);
    ++expect_seq;
    joined.append(d.chunk);
  }
  return joined;
}

TEST(MulticastCodec, FragmentsCutAcrossSectionsAndJoinBack) {
  const std::string payload(1000, 'p');
  const MessageParts parts{"sub.ject", "_INBOX.1", "NATS/1.0\r\nA: b\r\n\r\n", payload};
  for (const std::size_t max :
       {kDataHeaderSize + 1, kDataHeaderSize + 7, std::size_t{200}, std::size_t{1472}}) {
    std::uint32_t count = 0;
    const std::string joined = fragment_and_join(parts, max, &count);
    const std::string whole = std::string(parts.subject) + std::string(parts.reply) +
                              std::string(parts.headers) + payload;
    EXPECT_EQ(joined, whole) << max;
    EXPECT_EQ(count, fragment_count(whole.size(), max)) << max;
  }
}

TEST(MulticastCodec, ASmallMessageIsOneFragmentAndAnEmptyPayloadIsFine) {
  std::uint32_t count = 0;
  EXPECT_EQ(fragment_and_join({"a", "", "", ""}, 1472, &count), "a");
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(fragment_count(1400, 1472), 1u);
  EXPECT_EQ(fragment_count(1401, 1472), 2u);
}

// --- rejections, one test per path ---------------------------------------------------------

TEST(MulticastCodec, ForeignMagicIsForeign) {
  Datagram d;
  EXPECT_EQ(decode_of("", d), DecodeError::foreign);
  EXPECT_EQ(decode_of("PS", d), DecodeError::foreign);
  std::string bytes = data_datagram(sample_header(), "a.br1body");
  bytes[0] = 'X';
  EXPECT_EQ(decode_of(bytes, d), DecodeError::foreign);
}

TEST(MulticastCodec, UnknownVersionIsVersion) {
  std::string bytes = data_datagram(sample_header(), "a.br1body");
  bytes[4] = 2;
  Datagram d;
  EXPECT_EQ(decode_of(bytes, d), DecodeError::version);
}

TEST(MulticastCodec, EveryShortenedDatagramIsTruncated) {
  std::string announce;
  encode_announce(announce, 1, {2, 1});
  Nack n;
  n.range_count = 1;
  n.ranges[0] = {1, 1};
  std::string nack;
  encode_nack(nack, 1, n);
  const std::string data = data_datagram(sample_header(), "a.br1body");
  for (const std::string* full : std::vector<const std::string*>{&announce, &nack, &data}) {
    const std::size_t header = full == &data ? kDataHeaderSize : full->size();
    for (std::size_t len = 4; len < header; ++len) {
      Datagram d;
      EXPECT_EQ(decode_of(full->substr(0, len), d), DecodeError::truncated) << len;
    }
  }
}

TEST(MulticastCodec, UnknownTypeFlagsAndReservedBytesAreMalformed) {
  const std::string good = data_datagram(sample_header(), "a.br1body");
  Datagram d;
  for (const auto& [offset, value] : std::vector<std::pair<std::size_t, char>>{
           {5, 9}, {5, 0}, {6, 0x02}, {7, 1}, {45, 1}, {51, 1}}) {
    std::string bytes = good;
    bytes[offset] = value;
    EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed) << offset;
  }
}

TEST(MulticastCodec, InconsistentDataLengthsAreMalformed) {
  Datagram d;
  DataHeader h = sample_header();
  EXPECT_EQ(decode_of(data_datagram(h, "a.br1bod"), d), DecodeError::malformed);    // short
  EXPECT_EQ(decode_of(data_datagram(h, "a.br1bodyX"), d), DecodeError::malformed);  // long
  h.subject_size = 0;
  h.payload_size = 7;
  EXPECT_EQ(decode_of(data_datagram(h, "a.br1body"), d), DecodeError::malformed);  // no subject
  h = sample_header();
  h.count = 0;
  EXPECT_EQ(decode_of(data_datagram(h, "a.br1body"), d), DecodeError::malformed);
  h.count = 2;
  h.index = 2;
  EXPECT_EQ(decode_of(data_datagram(h, "a"), d), DecodeError::malformed);  // index >= count
  h.index = 1;
  h.offset = 0;
  EXPECT_EQ(decode_of(data_datagram(h, "a"), d), DecodeError::malformed);  // not first at 0
  h.index = 0;
  h.offset = 1;
  EXPECT_EQ(decode_of(data_datagram(h, "a"), d), DecodeError::malformed);  // first not at 0
  h.offset = 0;
  EXPECT_EQ(decode_of(data_datagram(h, ""), d), DecodeError::malformed);  // empty middle
  h.count = 10;
  h.index = 9;
  h.offset = 8;
  EXPECT_EQ(decode_of(data_datagram(h, "y"), d), DecodeError::malformed);  // count > size
  h = sample_header();
  h.seq = 0;
  h.count = 2;
  h.index = 1;
  h.offset = 8;
  EXPECT_EQ(decode_of(data_datagram(h, "y"), d), DecodeError::malformed);  // seq < index
}

TEST(MulticastCodec, MessagesAboveTheLimitAreOversized) {
  DataHeader h = sample_header();
  h.payload_size = 0xFFFFFFFF;
  h.count = 0xFFFFFFFF;
  Datagram d;
  EXPECT_EQ(decode_of(data_datagram(h, "abc"), d), DecodeError::oversized);
  EXPECT_EQ(decode_of(data_datagram(sample_header(), "a.br1body"), d, 8), DecodeError::oversized);
  EXPECT_EQ(decode_of(data_datagram(sample_header(), "a.br1body"), d, 9), DecodeError::none);
}

TEST(MulticastCodec, BadNacksAreRefused) {
  Nack n;
  n.target = 1;
  n.ranges[0] = {5, 1};
  n.range_count = 1;
  std::string good;
  encode_nack(good, 1, n);
  Datagram d;
  std::string bytes = good;
  bytes[6] = 1;  // flags
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);
  bytes = good;
  bytes[25] = 0;  // no ranges
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);
  bytes = good;
  bytes[25] = static_cast<char>(kMaxNackRanges + 1);
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);
  bytes = good;
  bytes[27] = 1;  // reserved
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);
  bytes = good;
  bytes[25] = 2;  // claims two ranges, carries one
  EXPECT_EQ(decode_of(bytes, d), DecodeError::truncated);
  EXPECT_EQ(decode_of(good + "x", d), DecodeError::malformed);  // trailing bytes
  n.ranges[0] = {5, 0};
  bytes.clear();
  encode_nack(bytes, 1, n);
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);  // empty range
  n.ranges[0] = {~std::uint64_t{0}, 2};
  bytes.clear();
  encode_nack(bytes, 1, n);
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);  // wraps around
}

TEST(MulticastCodec, BacklogRoundTrips) {
  std::string bytes;
  encode_backlog(bytes, 9, {3000, 8000});
  ASSERT_EQ(bytes.size(), kBacklogSize);
  Datagram d;
  ASSERT_EQ(decode(bytes, kMax, d), DecodeError::none);
  EXPECT_EQ(d.type, Type::backlog);
  EXPECT_EQ(d.sender, 9u);
  EXPECT_EQ(d.backlog.queued, 3000u);
  EXPECT_EQ(d.backlog.capacity, 8000u);
}

TEST(MulticastCodec, BadBacklogReportsAreRefused) {
  std::string good;
  encode_backlog(good, 1, {5, 5});
  Datagram d;
  EXPECT_EQ(decode(good.substr(0, kBacklogSize - 1), kMax, d), DecodeError::truncated);
  EXPECT_EQ(decode(good + "x", kMax, d), DecodeError::malformed);
  std::string flagged = good;
  flagged[6] = 1;
  EXPECT_EQ(decode(flagged, kMax, d), DecodeError::malformed);
  std::string bytes;
  encode_backlog(bytes, 1, {6, 5});  // more queued than the buffer holds
  EXPECT_EQ(decode(bytes, kMax, d), DecodeError::malformed);
  bytes.clear();
  encode_backlog(bytes, 1, {0, 0});  // no buffer
  EXPECT_EQ(decode(bytes, kMax, d), DecodeError::malformed);
}

TEST(MulticastCodec, BadAnnouncementsAreRefused) {
  std::string good;
  encode_announce(good, 1, {5, 5});
  Datagram d;
  EXPECT_EQ(decode_of(good, d), DecodeError::none);
  EXPECT_EQ(decode_of(good + "x", d), DecodeError::malformed);
  std::string bytes = good;
  bytes[6] = 1;
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);
  bytes.clear();
  encode_announce(bytes, 1, {5, 6});  // oldest after next
  EXPECT_EQ(decode_of(bytes, d), DecodeError::malformed);
}

TEST(MulticastCodec, ErrorNamesAreDropReasons) {
  EXPECT_EQ(error_name(DecodeError::truncated), "truncated");
  EXPECT_EQ(error_name(DecodeError::foreign), "foreign");
  EXPECT_EQ(error_name(DecodeError::version), "version");
  EXPECT_EQ(error_name(DecodeError::malformed), "malformed");
  EXPECT_EQ(error_name(DecodeError::oversized), "oversized");
}

}  // namespace
}  // namespace psycho::multicast

namespace psycho::multicast {
namespace {

std::string packed_of(const std::vector<MessageParts>& messages, std::uint64_t seq) {
  std::string out;
  start_packed(out, 0x42);
  std::uint64_t n = 0;
  for (const auto& m : messages) append_record(out, m, Trace{0x99, ++n, 3, 7});
  finish_packed(out, seq);
  return out;
}

TEST(MulticastCodec, PackedDatagramsCarryWholeMessagesInOrder) {
  const std::vector<MessageParts> sent = {
      {"a.b", "", "", "1"}, {"c", "inbox.9", "NATS/1.0\r\nX: y\r\n\r\n", "two"}, {"d", "", "", ""}};
  const std::string bytes = packed_of(sent, 77);
  EXPECT_EQ(bytes.size(),
            kPackedHeaderSize + packed_size(sent[0]) + packed_size(sent[1]) + packed_size(sent[2]));
  Datagram d;
  ASSERT_EQ(decode_of(bytes, d), DecodeError::none);
  EXPECT_EQ(d.type, Type::packed);
  EXPECT_EQ(d.sender, 0x42u);
  EXPECT_EQ(d.data.seq, 77u);
  std::vector<std::string> got;
  for_each_record(d.chunk, [&](const DataHeader& h, std::string_view message) {
    EXPECT_EQ(h.trace.node_id, 0x99u);
    EXPECT_EQ(h.trace.hops, 3);
    EXPECT_EQ(h.trace.bus, 7u);
    got.push_back(std::to_string(h.trace.seq) + ":" +
                  std::string(message.substr(0, h.subject_size)) + "|" +
                  std::string(message.substr(h.subject_size, h.reply_size)) + "|" +
                  std::string(message.substr(h.subject_size + h.reply_size)));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"1:a.b||1", "2:c|inbox.9|NATS/1.0\r\nX: y\r\n\r\ntwo",
                                           "3:d||"}));
}

TEST(MulticastCodec, APackedDatagramIsRefusedWholeWhenAnyRecordIsWrong) {
  const std::string good = packed_of({{"a", "", "", "xy"}, {"b", "", "", "z"}}, 5);
  Datagram d;
  // One byte short of its last record, or one byte over.
  EXPECT_EQ(decode_of(good.substr(0, good.size() - 1), d), DecodeError::truncated);
  EXPECT_EQ(decode_of(good + "!", d), DecodeError::malformed);
  // A record count of zero; a reserved byte set; a record without a subject.
  std::string bad = good;
  bad[kCommonHeaderSize + 8] = bad[kCommonHeaderSize + 9] = 0;
  EXPECT_EQ(decode_of(bad, d), DecodeError::malformed);
  bad = good;
  bad[kCommonHeaderSize + 11] = 1;
  EXPECT_EQ(decode_of(bad, d), DecodeError::malformed);
  const std::string empty_subject = packed_of({{"", "", "", "x"}}, 1);
  EXPECT_EQ(decode_of(empty_subject, d), DecodeError::malformed);
  // More records announced than there are.
  bad = good;
  bad[kCommonHeaderSize + 9] = 3;
  EXPECT_EQ(decode_of(bad, d), DecodeError::truncated);
  // A message above the receiver's max_message, even packed.
  EXPECT_EQ(decode_of(good, d, 2), DecodeError::oversized);
  // Flags other than retransmission.
  bad = good;
  bad[6] = 0x02;
  EXPECT_EQ(decode_of(bad, d), DecodeError::malformed);
}

std::vector<std::string> patterns_in(const Interest& in) {
  std::vector<std::string> out;
  for_each_pattern(in.patterns, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

TEST(MulticastCodec, InterestRoundTrips) {
  const std::vector<std::string> patterns = {"orders.*.new", "_INBOX.>", "a"};
  std::string bytes;
  encode_interest(bytes, 0x0102030405060708ull, 42, false, patterns);
  ASSERT_EQ(bytes.size(), kInterestHeaderSize + 2 + 12 + 2 + 8 + 2 + 1);
  EXPECT_EQ(bytes[5], 5);  // type
  Datagram d;
  ASSERT_EQ(decode_of(bytes, d), DecodeError::none);
  EXPECT_EQ(d.type, Type::interest);
  EXPECT_EQ(d.sender, 0x0102030405060708ull);
  EXPECT_EQ(d.interest.generation, 42u);
  EXPECT_FALSE(d.interest.everything);
  EXPECT_EQ(d.interest.count, 3u);
  EXPECT_EQ(patterns_in(d.interest), patterns);

  std::string everything;
  encode_interest(everything, 7, 43, true, patterns);  // the list is left out
  ASSERT_EQ(everything.size(), kInterestHeaderSize);
  ASSERT_EQ(decode_of(everything, d), DecodeError::none);
  EXPECT_TRUE(d.interest.everything);
  EXPECT_EQ(d.interest.count, 0u);
}

TEST(MulticastCodec, BadInterestIsRefused) {
  std::string good;
  encode_interest(good, 7, 1, false, {"a.b", "c.*"});
  Datagram d;
  for (std::size_t cut = kCommonHeaderSize; cut < good.size(); ++cut) {
    EXPECT_EQ(decode_of(good.substr(0, cut), d), DecodeError::truncated) << cut;
  }
  auto with = [&](std::size_t offset, char value) {
    std::string bytes = good;
    bytes[offset] = value;
    return bytes;
  };
  EXPECT_EQ(decode_of(good + "x", d), DecodeError::malformed);     // bytes after the last
  EXPECT_EQ(decode_of(with(6, 0x02), d), DecodeError::malformed);  // unknown flag
  EXPECT_EQ(decode_of(with(6, 0x01), d), DecodeError::malformed);  // everything, yet a list
  EXPECT_EQ(decode_of(with(27, 1), d), DecodeError::malformed);    // reserved
  EXPECT_EQ(decode_of(with(30, '>'), d), DecodeError::malformed);  // "a.b" -> ">.b"
  EXPECT_EQ(decode_of(with(31, ' '), d), DecodeError::malformed);  // "a b"
  EXPECT_EQ(decode_of(with(25, 3), d), DecodeError::truncated);    // claims a third
  std::string empty_pattern;
  encode_interest(empty_pattern, 7, 1, false, {"a"});
  empty_pattern[29] = 0;  // its length
  empty_pattern.pop_back();
  EXPECT_EQ(decode_of(empty_pattern, d), DecodeError::malformed);
  std::string too_many;
  encode_interest(too_many, 7, 1, false, std::vector<std::string>(kMaxInterestPatterns + 1, "a"));
  EXPECT_EQ(decode_of(too_many, d), DecodeError::malformed);
}

}  // namespace
}  // namespace psycho::multicast
