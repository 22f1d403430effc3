#include "adapters/nats/headers.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace psycho::nats {
namespace {

TEST(NatsHeaders, TraceRoundTrips) {
  TraceValues v;
  format_trace(Trace{0xABCDEF0123456789ull, 42, 3, 0}, v);
  EXPECT_STREQ(v.trace, "abcdef0123456789-42-3");
  EXPECT_STREQ(v.msg_id, "abcdef0123456789-42");
  const auto t = parse_trace(v.trace);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->node_id, 0xABCDEF0123456789ull);
  EXPECT_EQ(t->seq, 42u);
  EXPECT_EQ(t->hops, 3);

  format_trace(Trace{~0ull, ~0ull, 255, 0}, v);  // the longest values fit
  EXPECT_STREQ(v.trace, "ffffffffffffffff-18446744073709551615-255");
  ASSERT_TRUE(parse_trace(v.trace));
  EXPECT_EQ(parse_trace(v.trace)->seq, ~0ull);
}

TEST(NatsHeaders, MalformedTracesAreRefused) {
  for (const char* value : {"", "1", "1-1", "-1-0", "1--0", "1-1-", "zz-1-0", "1-x-0", "1-1-256",
                            "1-1--1", "0-1-0", "1 -1-0", "1-1-0-0", "1-1-0 "}) {
    EXPECT_FALSE(parse_trace(value)) << value;
  }
  EXPECT_TRUE(parse_trace("1-1-0"));
}

TEST(NatsHeaders, TheThreeHeadersOfOlderGatewaysAreStillRead) {
  const auto t = parse_legacy_trace("abcdef0123456789", "abcdef0123456789-42", "3");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->node_id, 0xABCDEF0123456789ull);
  EXPECT_EQ(t->seq, 42u);
  EXPECT_EQ(t->hops, 3);
  const char* cases[][3] = {
      {"", "1-1", "0"},  {"zz", "zz-1", "0"}, {"1", "2-1", "0"},  // ids disagree
      {"1", "1-", "0"},  {"1", "1-x", "0"},   {"1", "1-1", "256"}, {"1", "1-1", "-1"},
      {"0", "0-1", "0"}, {"1", "11", "0"},    {"1 ", "1-1", "0"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse_legacy_trace(c[0], c[1], c[2])) << c[0] << " " << c[1] << " " << c[2];
  }
}

TEST(NatsHeaders, TraceHeaderNamesIgnoreCase) {
  EXPECT_EQ(trace_header_kind("psycho-trace"), TraceHeader::trace);
  EXPECT_EQ(trace_header_kind("psycho-origin"), TraceHeader::legacy_origin);
  EXPECT_EQ(trace_header_kind("PSYCHO-MSG-ID"), TraceHeader::legacy_msg_id);
  EXPECT_EQ(trace_header_kind("Psycho-Hops"), TraceHeader::legacy_hops);
  EXPECT_EQ(trace_header_kind("Psycho-Hop"), TraceHeader::none);
}

TEST(NatsHeaders, BlocksAreReadAndBuilt) {
  std::vector<std::pair<std::string, std::string>> seen;
  for_each_header("NATS/1.0\r\nA: 1\r\nB:2\r\nnot a header\r\nC:  three \r\n\r\n",
                  [&](std::string_view k, std::string_view v) { seen.emplace_back(k, v); });
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"A", "1"}, {"B", "2"}, {"C", "three "}}));
  for_each_header("", [&](std::string_view, std::string_view) { FAIL(); });

  std::string block;
  HeaderBlockBuilder b;
  b.begin(block, "");
  b.add(block, "K", "v\r\nInjected: yes");
  b.end(block);
  EXPECT_EQ(block, "NATS/1.0\r\nK: v  Injected: yes\r\n\r\n");
  HeaderBlockBuilder empty;
  empty.begin(block, "");
  empty.end(block);
  EXPECT_EQ(block, "");
  HeaderBlockBuilder status;
  status.begin(block, "503");
  status.end(block);
  EXPECT_EQ(block, "NATS/1.0 503\r\n\r\n");
}

// nats.c's messages need the library open (a connection opens it); once per process.
natsMsg* new_message() {
  static const natsStatus opened = nats_Open(-1);
  EXPECT_EQ(opened, NATS_OK);
  natsMsg* msg = nullptr;
  EXPECT_EQ(natsMsg_Create(&msg, "subject", nullptr, "data", 4), NATS_OK);
  return msg;
}

// A message as nats.c hands it to a subscription callback, with these headers.
struct ReceivedMessage {
  explicit ReceivedMessage(std::initializer_list<std::pair<const char*, const char*>> headers)
      : msg(new_message()) {
    for (const auto& [key, value] : headers) EXPECT_EQ(natsMsgHeader_Add(msg, key, value), NATS_OK);
  }
  ~ReceivedMessage() { natsMsg_Destroy(msg); }
  natsMsg* msg;
};

TEST(NatsHeaders, ReceivedHeadersBecomeABlockAndTheTraceAPart) {
  ReceivedMessage m({{"Psycho-Origin", "00000000000000ab"},
                     {"psycho-msg-id", "00000000000000ab-7"},
                     {"Psycho-Hops", "2"},
                     {"K", "one"},
                     {"K", "two"}});
  std::string block = "old";
  const auto trace = take_headers(m.msg, block);
  EXPECT_EQ(block, "NATS/1.0\r\nK: one\r\nK: two\r\n\r\n");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->node_id, 0xABu);
  EXPECT_EQ(trace->seq, 7u);
  EXPECT_EQ(trace->hops, 2);  // as received: the import path adds the hop
}

TEST(NatsHeaders, TheStatusLineGoesBackOnTheFirstLine) {
  ReceivedMessage m({{"Status", "503"}, {"Description", "No Responders"}});
  std::string block;
  EXPECT_FALSE(take_headers(m.msg, block));
  EXPECT_EQ(block, "NATS/1.0 503 No Responders\r\n\r\n");
  ReceivedMessage bare({{"Status", "404"}});
  EXPECT_FALSE(take_headers(bare.msg, block));
  EXPECT_EQ(block, "NATS/1.0 404\r\n\r\n");
}

// nats.c files a status line under "Status" and "Description"; a publisher's own headers of
// those names are headers, not a status.
TEST(NatsHeaders, HeadersNamedStatusThatAreNoStatusCodeStayHeaders) {
  ReceivedMessage m({{"Status", "active"}, {"Description", "a job"}, {"K", "v"}});
  std::string block;
  EXPECT_FALSE(take_headers(m.msg, block));
  EXPECT_NE(block.find("NATS/1.0\r\n"), std::string::npos) << block;
  EXPECT_NE(block.find("Status: active\r\n"), std::string::npos) << block;
  EXPECT_NE(block.find("Description: a job\r\n"), std::string::npos) << block;
  EXPECT_NE(block.find("K: v\r\n"), std::string::npos) << block;
}

TEST(NatsHeaders, AnIncompleteOrMalformedTraceMakesAPlainPublication) {
  std::string block;
  ReceivedMessage partial({{"Psycho-Origin", "00000000000000ab"}, {"Psycho-Hops", "2"}});
  EXPECT_FALSE(take_headers(partial.msg, block));
  EXPECT_EQ(block, "");  // trace headers never reach clients, even unused
  ReceivedMessage malformed({{"Psycho-Origin", "00000000000000ab"},
                             {"Psycho-Msg-Id", "00000000000000ac-7"},
                             {"Psycho-Hops", "2"}});
  EXPECT_FALSE(take_headers(malformed.msg, block));
}

TEST(NatsHeaders, NoHeadersNoBlock) {
  ReceivedMessage m({});
  std::string block = "old";
  EXPECT_FALSE(take_headers(m.msg, block));
  EXPECT_EQ(block, "");
}

}  // namespace
}  // namespace psycho::nats
