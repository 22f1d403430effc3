// libFuzzer target for the multicast datagram codec and what a receiver does with what it
// decodes. Each input is one datagram, decoded with a small max_message, and checks that:
//  - decode never reads outside the input (ASan) and a refused datagram says why;
//  - every record of an accepted packed datagram has the size it announces;
//  - an accepted datagram encodes back to exactly the same bytes (one canonical form, so no
//    field is silently ignored);
//  - fed to a Reassembler with a small memory bound and to a ReceiveTracker, neither grows
//    past its bounds, a reassembled message has the size its header announced, no datagram
//    adds more loss than max_seq_jump allows and no NACK asks for more than
//    max_nack_datagrams.
// The state persists across inputs, so sequences of datagrams are exercised too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/multicast/codec.hpp"
#include "adapters/multicast/reassembly.hpp"
#include "adapters/multicast/repair.hpp"

namespace {

using namespace psycho::multicast;
using namespace std::chrono_literals;

constexpr std::size_t kMaxMessage = 4096;
constexpr std::size_t kMemory = 16384;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "multicast_fuzz: %s\n", what);
    std::abort();
  }
}

std::string reencode(const Datagram& d) {
  std::string out;
  switch (d.type) {
    case Type::data:
      encode_data(out, d.sender, d.flags, d.data, d.chunk);
      break;
    case Type::nack:
      encode_nack(out, d.sender, d.nack);
      break;
    case Type::announce:
      encode_announce(out, d.sender, d.announce);
      break;
    case Type::packed:
      start_packed(out, d.sender, d.flags);
      for_each_record(d.chunk, [&](const DataHeader& h, std::string_view bytes) {
        const std::size_t headers_at = h.subject_size + h.reply_size;
        append_record(out,
                      {bytes.substr(0, h.subject_size), bytes.substr(h.subject_size, h.reply_size),
                       bytes.substr(headers_at, h.headers_size),
                       bytes.substr(headers_at + h.headers_size)},
                      h.trace);
      });
      finish_packed(out, d.data.seq);
      break;
  }
  return out;
}

RepairSettings small_repair() {
  RepairSettings s;
  s.max_missing = 64;
  s.max_nacks = 2;
  s.max_seq_jump = 1000;
  s.max_nack_datagrams = 40;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Reassembler reassembler(kMemory, 50ms);
  static ReceiveTracker tracker(small_repair());
  static Clock::time_point now = Clock::time_point{} + 1h;
  now += 1ms;

  const std::string input(reinterpret_cast<const char*>(data), size);
  Datagram d;
  const DecodeError e = decode(input, kMaxMessage, d);
  if (e != DecodeError::none) {
    check(error_name(e) != "none", "a refusal without a reason");
    return 0;
  }
  check(reencode(d) == input, "decode/encode is not a round trip");

  // What one datagram may add to the loss: a jump (at most max_seq_jump) plus what an
  // announcement's oldest_seq gives up of the tracked ones.
  const std::uint64_t lost_before = tracker.lost() + tracker.missing();
  if (d.type == Type::announce) tracker.on_announce(d.announce, now);
  if (d.type == Type::data || d.type == Type::packed) tracker.on_data(d.data.seq, now);
  check(tracker.lost() + tracker.missing() <= lost_before + 1000, "a jump beyond max_seq_jump");
  if (d.type == Type::packed) {
    for_each_record(d.chunk, [](const DataHeader& h, std::string_view bytes) {
      check(h.message_size() <= kMaxMessage && bytes.size() == h.message_size(),
            "a packed record larger than announced or than max_message");
    });
  }
  if (d.type != Type::data) return 0;
  check(d.data.message_size() <= kMaxMessage, "oversized message accepted");
  Nack nack;
  while (tracker.due(now, nack)) {
    check(nack.range_count <= kMaxNackRanges, "NACK too long");
    std::uint64_t asked = 0;
    for (std::size_t r = 0; r < nack.range_count; ++r) asked += nack.ranges[r].count;
    check(asked <= 40, "NACK asks for more than max_nack_datagrams");
  }
  check(tracker.missing() <= 64, "missing sequences unbounded");
  if (d.data.count > 1) {
    if (auto done = reassembler.add(d.sender, d.data, d.chunk, now)) {
      check(done->bytes.size() == done->header.message_size(), "reassembled size differs");
    }
  }
  reassembler.expire(now);
  check(reassembler.bytes() <= kMemory, "reassembly memory unbounded");
  return 0;
}
