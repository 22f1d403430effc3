#include "poldercast/wire.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace psycho::poldercast {
namespace {

Profile profile(std::uint64_t id, std::size_t topics = 2) {
  Profile p{id, "10.0.0." + std::to_string(id % 250) + ":4250", false, {}};
  for (std::size_t i = 0; i < topics; ++i) {
    p.topics.push_back({0xABCD0000 + i, static_cast<std::uint8_t>(i % 3)});
  }
  return p;
}

WireMessage round_trip(const WireMessage& m) {
  std::string wire;
  encode(m, wire);
  WireMessage back;
  EXPECT_EQ(decode(wire, Limits{}, back), DecodeError::none) << static_cast<int>(m.type);
  return back;
}

// A publication with every field away from its default, each byte telling which it is.
Publication every_field_set() {
  Publication p;
  for (std::uint8_t i = 0; i < 16; ++i) p.msg_id[i] = static_cast<std::uint8_t>(0xE0 + i);
  p.topic = 0x1112131415161718;
  p.origin = 0x2122232425262728;
  p.seq = 0x3132333435363738;
  p.bus = 0x41424344;
  p.hops = 5;
  p.overlay_hops = 0x0607;
  p.direct = true;
  p.reply_address = "r:2";
  p.subject = "sub";
  p.reply = "in";
  p.headers = "H";
  p.payload = "pay";
  p.signer.fill(0x5E);
  p.signature.fill(0x51);
  p.batch.depth = 1;
  p.batch.index = 1;
  p.batch.path[0].fill(0xBA);
  return p;
}

TEST(PolderCastWire, EveryGossipTypeRoundTrips) {
  for (Type t : {Type::cyclon_request, Type::cyclon_response, Type::vicinity_request,
                 Type::vicinity_response, Type::rings_request, Type::rings_response}) {
    WireMessage m;
    m.type = t;
    m.sender = profile(7);
    for (std::uint16_t i = 0; i < 10; ++i) m.entries.push_back({profile(100 + i, i), i});
    m.entries.back().profile.partial = true;
    EXPECT_EQ(round_trip(m), m);
  }
}

TEST(PolderCastWire, PublishFindSubscriberAndLeaveRoundTrip) {
  WireMessage pub;
  pub.type = Type::publish;
  pub.sender = profile(1);
  pub.publication = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                     0x1234,
                     0xBEEF,
                     42,
                     7,
                     3,
                     17,
                     true,
                     "10.0.0.1:4250",
                     "orders.new",
                     "_INBOX.x",
                     "NATS/1.0\r\nA: 1\r\n\r\n",
                     std::string(100000, 'p'),
                     {},
                     {},
                     {}};
  pub.publication.signer.fill(0xAB);
  pub.publication.signature.fill(0xCD);
  pub.publication.batch.depth = 2;
  pub.publication.batch.index = 3;
  pub.publication.batch.path[0].fill(0x11);
  pub.publication.batch.path[1].fill(0x22);
  EXPECT_EQ(round_trip(pub), pub);
  for (std::size_t depth : {0, 2, 8}) {  // sized exactly for what it writes, after what is there
    WireMessage sized = pub;
    sized.publication.batch.depth = static_cast<std::uint8_t>(depth);
    sized.publication.batch.index = 0;
    for (std::size_t level = depth; level < kMaxBatchDepth; ++level) {
      sized.publication.batch.path[level] = {};  // not sent, so decoded as zero
    }
    std::string out = "kept";
    encode(sized, out);
    EXPECT_EQ(out.size(), 4 + publication_wire_size(sized.sender, sized.publication))
        << "depth " << depth;
    EXPECT_EQ(out.substr(0, 4), "kept");
    EXPECT_EQ(round_trip(sized), sized) << "depth " << depth;
  }
  // The signature covers every field but the relays' hop count (and the topic, the
  // subject's hash), and changes with each of them.
  const std::string content = signed_content(pub.publication);
  Publication hops = pub.publication;
  hops.overlay_hops = 99;
  EXPECT_EQ(signed_content(hops), content);
  for (auto change : std::vector<std::function<void(Publication&)>>{
           [](Publication& p) { p.msg_id[15] ^= 1; }, [](Publication& p) { p.origin ^= 1; },
           [](Publication& p) { p.seq ^= 1; }, [](Publication& p) { p.bus ^= 1; },
           [](Publication& p) { p.hops ^= 1; }, [](Publication& p) { p.direct = false; },
           [](Publication& p) { p.reply_address += "x"; }, [](Publication& p) { p.subject += "x"; },
           [](Publication& p) { p.reply += "x"; }, [](Publication& p) { p.headers += "x"; },
           [](Publication& p) { p.payload += "x"; }, [](Publication& p) { p.signer[0] ^= 1; }}) {
    Publication changed = pub.publication;
    change(changed);
    EXPECT_NE(signed_content(changed), content);
  }
  // A proof deeper than a batch can be, or an index outside its tree, is refused.
  for (auto bad : std::vector<std::function<void(Publication&)>>{
           [](Publication& p) { p.batch.depth = kMaxBatchDepth + 1; },
           [](Publication& p) { p.batch.index = 4; }}) {
    WireMessage m = pub;
    bad(m.publication);
    std::string bytes;
    encode(m, bytes);
    WireMessage decoded;
    EXPECT_EQ(decode(bytes, Limits{}, decoded), DecodeError::bad_value);
  }
  WireMessage find;
  find.type = Type::find_subscriber;
  find.sender = profile(2);
  find.topic = 99;
  find.ttl = 14;
  find.entries = {{profile(2), 0}};
  EXPECT_EQ(round_trip(find), find);
  // A walk names exactly one origin.
  std::string wire;
  find.entries.push_back({profile(3), 0});
  encode(find, wire);
  WireMessage out;
  EXPECT_EQ(decode(wire, Limits{}, out), DecodeError::bad_value);
  WireMessage found;
  found.type = Type::find_subscriber_response;
  found.sender = profile(3);
  found.topic = 99;
  found.entries = {{profile(4), 0}};
  EXPECT_EQ(round_trip(found), found);
  for (Type t : {Type::leave, Type::ping, Type::pong}) {
    WireMessage bare;
    bare.type = t;
    bare.sender = profile(5, 0);
    EXPECT_EQ(round_trip(bare), bare);
  }
}

// A publication's bytes, spelled out field by field as docs/poldercast.md lists them: the
// encoder may change how it writes, never what.
TEST(PolderCastWire, APublicationIsTheBytesTheFormatNames) {
  WireMessage m;
  m.type = Type::publish;
  m.sender = {0x0102030405060708, "h:1", true, {{0xA1A2A3A4A5A6A7A8, 2}}};
  m.publication = every_field_set();

  auto be = [](std::uint64_t v, int width) {
    std::string out;
    for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return out;
  };
  std::string expected = "PC";
  expected += be(3, 1) + be(7, 1);                                         // version, publish
  expected += be(0x0102030405060708, 8) + be(3, 1) + "h:1";                // sender id, address
  expected += be(1, 1) + be(1, 2) + be(0xA1A2A3A4A5A6A7A8, 8) + be(2, 1);  // partial, topics
  expected += be(0x1112131415161718, 8) + be(0x0607, 2);                   // topic, overlay hops
  for (int i = 0; i < 16; ++i) expected += be(0xE0 + i, 1);                // id
  expected += be(0x2122232425262728, 8) + be(0x3132333435363738, 8) + be(0x41424344, 4);
  expected += be(5, 1) + be(1, 1);  // hops, direct
  expected += be(3, 1) + "r:2" + be(3, 2) + "sub" + be(2, 2) + "in";
  expected += be(1, 4) + "H" + be(3, 4) + "pay";
  expected += std::string(32, '\x5E') + std::string(64, '\x51');  // signer, signature
  expected += be(1, 1) + be(1, 2) + std::string(32, '\xBA');      // depth, index, path
  std::string wire;
  encode(m, wire);
  EXPECT_EQ(wire, expected);
  EXPECT_EQ(round_trip(m), m);
}

// The node decodes every message into one scratch WireMessage: a batch proof shorter than the
// one before leaves none of its levels behind.
TEST(PolderCastWire, AShorterProofLeavesNothingOfTheLongerOneBefore) {
  WireMessage m;
  m.type = Type::publish;
  m.sender = profile(1);
  m.publication.subject = "s";
  m.publication.batch.depth = kMaxBatchDepth;
  for (auto& level : m.publication.batch.path) level.fill(0x5A);
  std::string deep;
  encode(m, deep);
  m.publication.batch.depth = 2;
  for (std::size_t level = 2; level < kMaxBatchDepth; ++level) m.publication.batch.path[level] = {};
  std::string shallow;
  encode(m, shallow);
  WireMessage scratch;
  ASSERT_EQ(decode(deep, Limits{}, scratch), DecodeError::none);
  ASSERT_EQ(decode(shallow, Limits{}, scratch), DecodeError::none);
  EXPECT_EQ(scratch, m);
}

TEST(PolderCastWire, AReusedMessageKeepsNothingOfTheFrameBefore) {
  std::vector<WireMessage> frames(5);
  frames[0].type = Type::vicinity_request;
  frames[0].entries = {{profile(10), 1}, {profile(11), 2}};
  frames[1].type = Type::publish;
  frames[1].publication.subject = "orders.new";
  frames[1].publication.payload = "x";
  frames[2].type = Type::find_subscriber;
  frames[2].topic = 5;
  frames[2].ttl = 3;
  frames[2].entries = {{profile(12), 0}};
  frames[3].type = Type::signal;
  frames[3].data = "offer";
  frames[4].type = Type::ping;
  WireMessage reused;  // as the node and the browser links decode: into one scratch message
  for (int round = 0; round < 2; ++round) {
    for (auto& frame : frames) {
      frame.sender = profile(1);
      std::string wire;
      encode(frame, wire);
      ASSERT_EQ(decode(wire, Limits{}, reused), DecodeError::none);
      EXPECT_EQ(reused, round_trip(frame)) << static_cast<int>(frame.type);
    }
  }
}

// A publication refilled batch after batch: as good as new, with its small buffers kept and
// its large ones let go.
TEST(PolderCastWire, AResetPublicationIsNewButKeepsItsSmallBuffers) {
  Publication p = every_field_set();
  p.reply_address = "127.0.0.1:4000";
  p.subject = "orders.created.in.the.west";
  p.reply = "_INBOX.abcdefghijklmnop";
  p.headers = std::string(40, 'h');
  p.payload = std::string(100, 'x');
  const char* const payload_buffer = p.payload.data();
  reset_keeping_buffers(p, 1024);
  EXPECT_EQ(p, Publication{});
  EXPECT_EQ(p.payload.data(), payload_buffer);  // the same buffer, emptied
  EXPECT_GE(p.payload.capacity(), 100u);
  EXPECT_GE(p.headers.capacity(), 40u);

  p.payload = std::string(4096, 'y');
  reset_keeping_buffers(p, 1024);
  EXPECT_EQ(p, Publication{});
  EXPECT_LT(p.payload.capacity(), 1024u);  // let go, not kept for the next batch
}

TEST(PolderCastWire, SignalsCarryOpaqueBytesWithinTheGossipLimit) {
  WireMessage signal;
  signal.type = Type::signal;
  signal.sender = profile(6, 0);
  signal.data = std::string("{\"sdp\":\"v=0\"}\0\xff", 16);
  EXPECT_EQ(round_trip(signal), signal);
  signal.data.assign(17 * 1024, 'x');
  std::string wire;
  encode(signal, wire);
  WireMessage out;
  EXPECT_EQ(decode(wire, Limits{}, out), DecodeError::too_large);
}

TEST(PolderCastWire, EveryRefusalHasItsReason) {
  WireMessage m;
  m.type = Type::cyclon_request;
  m.sender = profile(7);
  m.entries = {{profile(8), 1}};
  std::string good;
  encode(m, good);
  WireMessage out;
  const Limits limits;
  // Cut anywhere: truncated, never a crash.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(decode(good.substr(0, n), limits, out), DecodeError::truncated) << n;
  }
  EXPECT_EQ(decode(good + "x", limits, out), DecodeError::trailing_bytes);
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(decode(bad, limits, out), DecodeError::bad_magic);
  bad = good;
  bad[2] = 1;  // the version before publications were signed
  EXPECT_EQ(decode(bad, limits, out), DecodeError::bad_version);
  bad = good;
  bad[3] = 0;
  EXPECT_EQ(decode(bad, limits, out), DecodeError::bad_type);
  bad[3] = 13;
  EXPECT_EQ(decode(bad, limits, out), DecodeError::bad_type);
  // A priority above 2 (the sender's first topic: after magic, version, type, id, address,
  // flags), and an unknown profile flag.
  bad = good;
  const std::size_t flags_at = 4 + 8 + 1 + m.sender.address.size();
  bad[flags_at + 1 + 2 + 8] = 3;
  EXPECT_EQ(decode(bad, limits, out), DecodeError::bad_value);
  bad = good;
  bad[flags_at] = 2;
  EXPECT_EQ(decode(bad, limits, out), DecodeError::bad_value);
  // Lists and strings above the limits.
  Limits tight;
  tight.max_entries = 0;
  EXPECT_EQ(decode(good, tight, out), DecodeError::too_large);
  tight = Limits{};
  tight.max_topics = 1;
  EXPECT_EQ(decode(good, tight, out), DecodeError::too_large);
  tight = Limits{};
  tight.max_address = 3;
  EXPECT_EQ(decode(good, tight, out), DecodeError::too_large);
  tight = Limits{};
  tight.max_gossip_message = good.size() - 1;
  EXPECT_EQ(decode(good, tight, out), DecodeError::too_large);
}

TEST(PolderCastWire, AClaimedLengthBeyondTheDataIsTruncatedNotAnAllocation) {
  WireMessage m;
  m.type = Type::publish;
  m.sender = profile(1, 0);
  m.publication.payload = "abc";
  std::string wire;
  encode(m, wire);
  // Claim a 1 GiB payload in the last length field (4 bytes before the 3 payload bytes,
  // which the signer's key and signature and a batch proof of depth 0 follow).
  wire[wire.size() - 3 - 96 - 7] = 0x40;
  WireMessage out;
  EXPECT_EQ(decode(wire, Limits{}, out), DecodeError::too_large);
  Limits big;
  big.max_publication = std::size_t{1} << 31;
  EXPECT_EQ(decode(wire, big, out), DecodeError::truncated);
}

}  // namespace
}  // namespace psycho::poldercast
