#include "adapters/nats/headers.hpp"

#include "adapters/nats/raw_message.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
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

TEST(NatsHeaders, BlocksAreBuilt) {
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

// A message with these headers, set through nats.c's map (as nats.c holds a block it has
// parsed): take_headers rebuilds the block from the map.
struct ReceivedMessage {
  explicit ReceivedMessage(std::initializer_list<std::pair<const char*, const char*>> headers)
      : msg(new_message()) {
    for (const auto& [key, value] : headers) EXPECT_EQ(natsMsgHeader_Add(msg, key, value), NATS_OK);
  }
  ~ReceivedMessage() { natsMsg_Destroy(msg); }
  natsMsg* msg;
};

// take_headers, with the block it gives copied into `block`.
std::optional<Trace> take(natsMsg* msg, std::string& block) {
  std::string scratch = "old";
  std::string_view headers;
  const auto trace = take_headers(msg, scratch, headers);
  block.assign(headers);
  return trace;
}

TEST(NatsHeaders, ReceivedHeadersBecomeABlockAndTheTraceAPart) {
  ReceivedMessage m({{"Psycho-Origin", "00000000000000ab"},
                     {"psycho-msg-id", "00000000000000ab-7"},
                     {"Psycho-Hops", "2"},
                     {"K", "one"},
                     {"K", "two"}});
  std::string block = "old";
  const auto trace = take(m.msg, block);
  EXPECT_EQ(block, "NATS/1.0\r\nK: one\r\nK: two\r\n\r\n");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->node_id, 0xABu);
  EXPECT_EQ(trace->seq, 7u);
  EXPECT_EQ(trace->hops, 2);  // as received: the import path adds the hop
}

TEST(NatsHeaders, TheStatusLineGoesBackOnTheFirstLine) {
  ReceivedMessage m({{"Status", "503"}, {"Description", "No Responders"}});
  std::string block;
  EXPECT_FALSE(take(m.msg, block));
  EXPECT_EQ(block, "NATS/1.0 503 No Responders\r\n\r\n");
  ReceivedMessage bare({{"Status", "404"}});
  EXPECT_FALSE(take(bare.msg, block));
  EXPECT_EQ(block, "NATS/1.0 404\r\n\r\n");
}

// nats.c files a status line under "Status" and "Description"; a publisher's own headers of
// those names are headers, not a status.
TEST(NatsHeaders, HeadersNamedStatusThatAreNoStatusCodeStayHeaders) {
  ReceivedMessage m({{"Status", "active"}, {"Description", "a job"}, {"K", "v"}});
  std::string block;
  EXPECT_FALSE(take(m.msg, block));
  EXPECT_NE(block.find("NATS/1.0\r\n"), std::string::npos) << block;
  EXPECT_NE(block.find("Status: active\r\n"), std::string::npos) << block;
  EXPECT_NE(block.find("Description: a job\r\n"), std::string::npos) << block;
  EXPECT_NE(block.find("K: v\r\n"), std::string::npos) << block;
}

TEST(NatsHeaders, AnIncompleteOrMalformedTraceMakesAPlainPublication) {
  std::string block;
  ReceivedMessage partial({{"Psycho-Origin", "00000000000000ab"}, {"Psycho-Hops", "2"}});
  EXPECT_FALSE(take(partial.msg, block));
  EXPECT_EQ(block, "");  // trace headers never reach clients, even unused
  ReceivedMessage malformed({{"Psycho-Origin", "00000000000000ab"},
                             {"Psycho-Msg-Id", "00000000000000ac-7"},
                             {"Psycho-Hops", "2"}});
  EXPECT_FALSE(take(malformed.msg, block));
}

TEST(NatsHeaders, NoHeadersNoBlock) {
  ReceivedMessage m({});
  std::string block = "old";
  EXPECT_FALSE(take(m.msg, block));
  EXPECT_EQ(block, "");
}

// A message as nats.c's parser makes it from what arrived: the block kept as bytes.
struct RawMessage {
  RawMessage(std::string_view block, std::string_view payload, std::string_view reply = "") {
    EXPECT_EQ(nats_Open(-1), NATS_OK);
    body.assign(block).append(payload);
    EXPECT_EQ(make_raw_message(&msg, "subject", reply, body, block.size()), NATS_OK);
  }
  ~RawMessage() { natsMsg_Destroy(msg); }
  std::string body;
  natsMsg* msg = nullptr;
};

TEST(NatsRawHeaders, AReceivedBlockIsReadAsTheBytesThatArrived) {
  const std::string_view block = "NATS/1.0 503 No Responders\r\nB: 2\r\na: 1\r\nB: 3\r\n\r\n";
  for (const std::string_view reply : {"", "_INBOX.x"}) {
    RawMessage m(block, "data", reply);
    const auto raw = received_header_block(m.msg);
    ASSERT_TRUE(raw);
    EXPECT_EQ(*raw, block);
    EXPECT_EQ(std::string_view(natsMsg_GetData(m.msg)), "data");
    std::string scratch;
    std::string_view headers;
    EXPECT_FALSE(take_headers(m.msg, scratch, headers));
    EXPECT_EQ(headers, block);  // order, case, repeats and the status line as they came
  }
  RawMessage none("", "data");
  EXPECT_FALSE(received_header_block(none.msg));
  std::string scratch;
  std::string_view headers = "old";
  EXPECT_FALSE(take_headers(none.msg, scratch, headers));
  EXPECT_EQ(headers, "");
}

// Asking nats.c for a header parses the block in place; the bytes are no longer the block,
// and the map answers instead.
TEST(NatsRawHeaders, ABlockNatsParsedIsReadFromItsMap) {
  RawMessage m("NATS/1.0\r\nK: v\r\n\r\n", "data");
  const char* value = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(m.msg, "K", &value), NATS_OK);
  EXPECT_FALSE(received_header_block(m.msg));
  std::string block;
  EXPECT_FALSE(take(m.msg, block));
  EXPECT_EQ(block, "NATS/1.0\r\nK: v\r\n\r\n");
}

TEST(NatsRawHeaders, TraceHeadersAreSplitOffAndTheRestKeptInOrder) {
  std::string scratch;
  std::string_view headers;
  const auto trace = split_trace(
      "NATS/1.0\r\nZ: 1\r\nPsycho-Trace: 00000000000000ab-7-2\r\nA: 2\r\n\r\n", scratch, headers);
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->node_id, 0xABu);
  EXPECT_EQ(trace->seq, 7u);
  EXPECT_EQ(trace->hops, 2);
  EXPECT_EQ(headers, "NATS/1.0\r\nZ: 1\r\nA: 2\r\n\r\n");
  // Only the trace: the message had no headers of its own.
  EXPECT_TRUE(
      split_trace("NATS/1.0\r\npsycho-trace: 00000000000000ab-7-2\r\n\r\n", scratch, headers));
  EXPECT_EQ(headers, "");
  // The legacy three are read and never shown.
  EXPECT_TRUE(
      split_trace("NATS/1.0\r\nPsycho-Origin: 00000000000000ab\r\nK: v\r\n"
                  "Psycho-Msg-Id: 00000000000000ab-7\r\nPsycho-Hops: 1\r\n\r\n",
                  scratch, headers));
  EXPECT_EQ(headers, "NATS/1.0\r\nK: v\r\n\r\n");
  // A status with no headers stays a status.
  EXPECT_FALSE(split_trace("NATS/1.0 404 No Messages\r\n\r\n", scratch, headers));
  EXPECT_EQ(headers, "NATS/1.0 404 No Messages\r\n\r\n");
  // A block with no headers that no gateway added stays a block, as NATS delivers it.
  EXPECT_FALSE(split_trace("NATS/1.0\r\n\r\n", scratch, headers));
  EXPECT_EQ(headers, "NATS/1.0\r\n\r\n");
  // Every Psycho-* name is a gateway's: never shown, known or not.
  EXPECT_FALSE(split_trace("NATS/1.0\r\nPsycho-Other: 1\r\nK: v\r\n\r\n", scratch, headers));
  EXPECT_EQ(headers, "NATS/1.0\r\nK: v\r\n\r\n");
}

TEST(NatsRawHeaders, WhatIsPublishedKeepsTheClientsBlockAndAddsTheTrace) {
  const std::string body = "NATS/1.0\r\nZ: 1\r\nz: 2\r\nZ: 3\r\n\r\npayload";
  const std::string_view headers = std::string_view(body).substr(0, body.size() - 7);
  const std::string_view payload = std::string_view(body).substr(headers.size());
  std::string scratch;
  // Nothing to change: the message's own bytes.
  auto out = outgoing_body(headers, payload, "", "", scratch);
  EXPECT_EQ(out.bytes.data(), body.data());
  EXPECT_EQ(out.bytes.size(), body.size());
  EXPECT_EQ(out.header_size, headers.size());
  // The trace goes last; a client's own trace header never goes out.
  const std::string forged = "NATS/1.0\r\nPsycho-Trace: 0000000000000001-1-1\r\nZ: 1\r\n\r\n";
  out = outgoing_body(forged, "p", "00000000000000ab-7-1", "", scratch);
  EXPECT_EQ(out.bytes, "NATS/1.0\r\nZ: 1\r\nPsycho-Trace: 00000000000000ab-7-1\r\n\r\np");
  EXPECT_EQ(out.header_size, out.bytes.size() - 1);
  // No block of its own: one is made for the trace. JetStream gets the message's identity.
  out = outgoing_body("", "p", "", "00000000000000ab-7", scratch);
  EXPECT_EQ(out.bytes, "NATS/1.0\r\nNats-Msg-Id: 00000000000000ab-7\r\n\r\np");
  out = outgoing_body("NATS/1.0\r\nnats-msg-id: mine\r\nK: v\r\n\r\n", "p", "",
                      "00000000000000ab-7", scratch);
  EXPECT_EQ(out.bytes, "NATS/1.0\r\nK: v\r\nNats-Msg-Id: 00000000000000ab-7\r\n\r\np");
  // A status line goes out as the client wrote it.
  out = outgoing_body("NATS/1.0 503\r\n\r\n", "", "00000000000000ab-7-1", "", scratch);
  EXPECT_EQ(out.bytes, "NATS/1.0 503\r\nPsycho-Trace: 00000000000000ab-7-1\r\n\r\n");
}

// What max_payload() holds back for the bridge's own headers covers the longest it adds.
TEST(NatsRawHeaders, TheRoomHeldBackForAddedHeadersIsEnoughAndNoMore) {
  TraceValues longest;
  format_trace(Trace{~std::uint64_t{0}, ~std::uint64_t{0}, 255, 0}, longest);
  std::string scratch;
  for (const bool trace : {false, true}) {
    for (const bool msg_id : {false, true}) {
      const auto out =
          outgoing_body("", "p", trace ? longest.trace : "", msg_id ? longest.msg_id : "", scratch);
      EXPECT_LE(out.bytes.size() - 1, added_header_bytes(trace, msg_id)) << trace << msg_id;
      EXPECT_GE(out.bytes.size() - 1 + 4, added_header_bytes(trace, msg_id)) << trace << msg_id;
    }
  }
  EXPECT_EQ(added_header_bytes(false, false), 0u);
}

// Made by make_raw_message, a message goes out with its block byte for byte: nats.c encodes
// it back as it was (what the publish path relies on).
TEST(NatsRawHeaders, ARawMessageKeepsItsBlockWhenReadThroughNats) {
  RawMessage m("NATS/1.0\r\nB: 2\r\na: 1\r\nB: 3\r\n\r\n", "data");
  const char** values = nullptr;
  int count = 0;
  ASSERT_EQ(natsMsgHeader_Values(m.msg, "B", &values, &count), NATS_OK);
  ASSERT_EQ(count, 2);
  EXPECT_STREQ(values[0], "2");
  EXPECT_STREQ(values[1], "3");
  std::free(static_cast<void*>(values));
}

}  // namespace
}  // namespace psycho::nats
