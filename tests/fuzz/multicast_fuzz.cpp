// libFuzzer target for the multicast datagram codec and what a receiver does with what it
// decodes. Each input is one datagram, decoded with a small max_message, and checks that:
//  - decode never reads outside the input (ASan) and a refused datagram says why;
//  - every record of an accepted packed datagram has the size it announces;
//  - an accepted datagram encodes back to exactly the same bytes (one canonical form, so no
//    field is silently ignored);
//  - the patterns of an accepted interest datagram, fitted into a smaller budget, are each
//    still wanted (coarser, never narrower), and what the group is then found to want
//    matches every one of them;
//  - fed to a Reassembler with a small memory bound (which skips odd senders' messages, as a
//    gateway skips what it does not want) and to a ReceiveTracker, neither grows
//    past its bounds, a reassembled message has the size its header announced, no datagram
//    adds more loss than max_seq_jump allows and no NACK asks for more than
//    max_nack_datagrams.
//  - keyed (docs/multicast.md#keys, with fixed test keys, authenticated and encrypted): the
//    input as received is opened without ever crashing, and opens only if it is ours and
//    unkeyed-looking at no gateway; an accepted unkeyed datagram, sealed, opens once to the
//    same bytes and decodes (authenticated) to the same datagram, is then a replay, and with
//    any one byte changed does not open; the replay windows stay within their bound.
// The state persists across inputs, so sequences of datagrams are exercised too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/multicast/codec.hpp"
#include "adapters/multicast/datagram_auth.hpp"
#include "adapters/multicast/group_interest.hpp"
#include "adapters/multicast/reassembly.hpp"
#include "adapters/multicast/repair.hpp"
#include "core/subject.hpp"

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

std::vector<std::string> patterns_of(const Interest& interest) {
  std::vector<std::string> out;
  for_each_pattern(interest.patterns, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

bool subject_matches_any(const std::vector<std::string>& patterns, const std::string& subject,
                         bool everything) {
  return everything || std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) {
           return psycho::subject_matches(p, subject);
         });
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
        append_record(
            out,
            {bytes.substr(0, h.subject_size), bytes.substr(h.subject_size, h.reply_size),
             bytes.substr(headers_at, h.headers_size), bytes.substr(headers_at + h.headers_size)},
            h.trace);
      });
      finish_packed(out, d.data.seq);
      break;
    case Type::interest:
      encode_interest(out, d.sender, d.interest.generation, d.interest.everything,
                      patterns_of(d.interest));
      break;
    case Type::backlog:
      encode_backlog(out, d.sender, d.backlog);
      break;
  }
  return out;
}

void check_interest(const Interest& interest) {
  const auto patterns = patterns_of(interest);
  const OwnInterest fitted = fit_interest(patterns, 64);
  std::size_t bytes = 0;
  for (const auto& q : fitted.patterns) bytes += interest_size(q);
  check(bytes <= 64 && fitted.patterns.size() <= kMaxInterestPatterns, "fitted past its budget");
  GroupInterest group(true);
  group.joined(1);
  group.update(1, interest);
  const auto wanted = group.wanted();
  for (const auto& p : patterns) {
    check(fitted.everything ||
              std::any_of(fitted.patterns.begin(), fitted.patterns.end(),
                          [&](const auto& q) { return psycho::pattern_covers(q, p); }),
          "fitting left a wanted pattern out");
    // A pattern's own literal instance (wildcards as plain tokens) is a subject it matches.
    std::string subject = p;
    for (auto& c : subject) c = (c == '*' || c == '>') ? 'x' : c;
    check(wanted->wants(subject) == subject_matches_any(patterns, subject, interest.everything),
          "the group's answer differs from its patterns'");
  }
}

// Each mode with its fixed key; what an input opens or seals under it.
struct Keyed {
  std::shared_ptr<const KeyRing> ring;
  Opener opener{8};
  Sealer sealer;
  std::atomic<std::uint64_t> counter{1};
};

void check_keyed(Keyed& k, const std::string& input, const Datagram& unkeyed, bool accepted) {
  std::string_view plain;
  const AuthError received = k.opener.open(k.ring, input, plain);
  // Nothing can carry a valid tag but what the sealer made; what is not ours passes on.
  check(received != AuthError::none || sender_of(input) == 0 || input[4] != kVersion,
        "a datagram opened without being sealed");
  check(k.opener.senders() <= 8, "replay windows unbounded");
  if (!accepted) return;
  std::string sealed = input;
  k.sealer.seal(k.ring, k.counter, sealed);
  check(sealed.size() == input.size() + kTrailerSize, "the trailer has another size");
  check(k.opener.open(k.ring, sealed, plain) == AuthError::none, "a sealed datagram did not open");
  std::string expected = input;
  expected[kKeyIdOffset] = sealed[kKeyIdOffset];
  check(plain == expected, "opened to other bytes");
  Datagram d;
  check(decode(plain, kMaxMessage, d, true) == DecodeError::none && d.key_id == 7 &&
            d.type == unkeyed.type && d.sender == unkeyed.sender,
        "a sealed datagram decodes otherwise");
  check(k.opener.open(k.ring, sealed, plain) == AuthError::replayed, "a replay opened");
  // One changed byte, anywhere the input chooses (but the magic and version: not ours then).
  std::string altered = sealed;
  const std::size_t at =
      5 + (input.size() * 31 + static_cast<unsigned char>(input.back())) % (altered.size() - 5);
  altered[at] = static_cast<char>(altered[at] ^ 0x5a);
  check(k.opener.open(k.ring, altered, plain) != AuthError::none, "an altered datagram opened");
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

  static const std::vector<GroupKey> kKeys = {{7, std::string(32, 'k')}};
  static Keyed authenticated{std::make_shared<const KeyRing>(kKeys, false)};
  static Keyed encrypted{std::make_shared<const KeyRing>(kKeys, true)};

  const std::string input(reinterpret_cast<const char*>(data), size);
  Datagram d;
  const DecodeError e = decode(input, kMaxMessage, d);
  if (size > 0) {
    check_keyed(authenticated, input, d, e == DecodeError::none);
    check_keyed(encrypted, input, d, e == DecodeError::none);
  }
  if (e != DecodeError::none) {
    check(error_name(e) != "none", "a refusal without a reason");
    return 0;
  }
  check(reencode(d) == input, "decode/encode is not a round trip");
  if (d.type == Type::interest) check_interest(d.interest);

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
  if (d.data.count > 1 && d.data.index == 0 && (d.sender & 1) != 0) {
    reassembler.skip(d.sender, d.data, now);  // odd senders' messages are not wanted here
  } else if (d.data.count > 1) {
    if (auto done = reassembler.add(d.sender, d.data, d.chunk, now)) {
      check(done->bytes.size() == done->header.message_size(), "reassembled size differs");
    }
  }
  reassembler.expire(now);
  check(reassembler.bytes() <= kMemory, "reassembly memory unbounded");
  return 0;
}
