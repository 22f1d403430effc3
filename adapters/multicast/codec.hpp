// The multicast datagram format, version 1 (docs/multicast.md): pure encode and decode, no
// sockets, no clocks, so every field and every rejection path is unit-tested and fuzzed.
//
// Every datagram starts with a 16-byte common header (magic "PSMC", version, type, flags, a
// reserved zero byte, the sending gateway's node id); integers are big-endian. Six types:
//  - data: one fragment of one message, with the message's Trace and its section lengths;
//  - packed: whole messages, as many as fit, each with its Trace and section lengths (a
//    small message costs a 36-byte record, not a datagram: loopback and NICs top out at a
//    rate of datagrams, whatever their size);
//  - nack: "node N, please send these sequences again";
//  - announce: presence, plus the sender's sequence window (for tail-loss detection);
//  - interest: the subject patterns the sender wants (or "everything"), sent with each
//    announce and at once when they change, so that senders skip what nobody wants;
//  - backlog: "my socket buffer is filling": the receiver's congestion report, which every
//    sender's pacer takes as a sign to slow down before the buffer overflows (pacer.hpp).
// decode() never reads outside the given bytes and never allocates; what it returns views
// into them.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/wire_bytes.hpp"
#include "core/message.hpp"

namespace psycho::multicast {

inline constexpr std::array<char, 4> kMagic = {'P', 'S', 'M', 'C'};
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kCommonHeaderSize = 16;
inline constexpr std::size_t kTypeOffset = 5;    // of the datagram's type, in the common header
inline constexpr std::size_t kSenderOffset = 8;  // of the sender's node id, in the common header
inline constexpr std::size_t kDataHeaderSize = 72;
inline constexpr std::size_t kNackHeaderSize = 28;
inline constexpr std::size_t kNackRangeSize = 12;
inline constexpr std::size_t kAnnounceSize = 32;
inline constexpr std::size_t kBacklogSize = 24;       // common header, queued, capacity
inline constexpr std::size_t kPackedHeaderSize = 28;  // common header, seq, record count
inline constexpr std::size_t kRecordHeaderSize = 36;
inline constexpr std::size_t kInterestHeaderSize = 28;  // common header, generation, count
// Patterns per interest datagram; a gateway that wants more announces coarser ones.
inline constexpr std::size_t kMaxInterestPatterns = 512;
// Ranges per NACK datagram: enough for any real loss pattern, small enough for any MTU.
inline constexpr std::size_t kMaxNackRanges = 32;

enum class Type : std::uint8_t {
  data = 1,
  nack = 2,
  announce = 3,
  packed = 4,
  interest = 5,
  backlog = 6
};

// Data flags.
inline constexpr std::uint8_t kFlagRetransmit = 0x01;  // sent again in answer to a NACK
// Interest flags.
inline constexpr std::uint8_t kFlagEverything = 0x01;  // wants every subject; lists none

// One fragment of a message. The message's bytes are subject | reply | headers | payload,
// cut into chunks; `offset` is where this datagram's chunk starts in that run.
struct DataHeader {
  std::uint64_t seq = 0;  // the sender's datagram sequence (repair), not Trace::seq
  Trace trace;            // of the message, as the sender routed it
  std::uint16_t subject_size = 0, reply_size = 0;
  std::uint32_t headers_size = 0, payload_size = 0;
  std::uint32_t index = 0, count = 1;  // fragment index and count
  std::uint32_t offset = 0;

  std::uint64_t message_size() const noexcept {
    return std::uint64_t{subject_size} + reply_size + headers_size + payload_size;
  }
  // The sequence of the message's first fragment: identifies it for reassembly.
  std::uint64_t first_seq() const noexcept { return seq - index; }
};

struct NackRange {
  std::uint64_t first = 0;
  std::uint32_t count = 0;
};

struct Nack {
  std::uint64_t target = 0;  // the node whose datagrams are missing
  std::array<NackRange, kMaxNackRanges> ranges{};
  std::size_t range_count = 0;
};

struct Announce {
  std::uint64_t next_seq = 0;    // the sequence the sender's next data datagram will carry
  std::uint64_t oldest_seq = 0;  // the oldest one it can still send again (= next_seq: none)
};

// How full the reporting receiver's socket buffer was (bytes, as the kernel counts them).
struct Backlog {
  std::uint32_t queued = 0;
  std::uint32_t capacity = 0;  // never 0, and at least `queued`
};

// Three quarters or more: the receiver holds back for a subscriber of its own and has little
// room left before it overflows (docs/multicast.md, "Pacing").
inline bool nearly_full(const Backlog& b) noexcept {
  return std::uint64_t{b.queued} * 4 >= std::uint64_t{b.capacity} * 3;
}

// What a gateway wants from the group. A newer generation replaces what was known.
struct Interest {
  std::uint64_t generation = 0;
  bool everything = false;
  std::size_t count = 0;
  std::string_view patterns;  // `count` patterns, checked: for_each_pattern() reads them
};

struct Datagram {
  Type type = Type::data;
  std::uint8_t flags = 0;
  std::uint8_t key_id = 0;   // 0: unkeyed; else the group key that authenticated it
  std::uint64_t sender = 0;  // node id of the gateway that sent this datagram
  DataHeader data;           // packed: only seq is set
  std::string_view chunk;    // data: this fragment's bytes; packed: the records, checked
  Nack nack;
  Announce announce;
  Interest interest;
  Backlog backlog;
};

// Why a datagram was refused; the names are drop reasons (docs/multicast.md).
enum class DecodeError {
  none,
  truncated,  // shorter than its headers say
  foreign,    // not our magic: some other application on the group
  version,    // our magic, a version this build does not speak
  malformed,  // unknown type or flags, non-zero reserved bytes, inconsistent lengths
  oversized,  // announces a message above the receiver's max_message
  count
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(DecodeError::count)>
    kDecodeErrorNames = {"none", "truncated", "foreign", "version", "malformed", "oversized"};
inline std::string_view error_name(DecodeError e) noexcept {
  return e < DecodeError::count ? kDecodeErrorNames[static_cast<std::size_t>(e)] : "malformed";
}

// Decodes `bytes`; `max_message` bounds subject + reply + headers + payload. A keyed
// datagram is decoded without its trailer once authenticated (datagram_auth.hpp), with
// `authenticated` set; otherwise a key id is `malformed`.
DecodeError decode(std::string_view bytes, std::size_t max_message, Datagram& out,
                   bool authenticated = false) noexcept;

// The sender named in a datagram's common header; 0 when it has none.
inline std::uint64_t sender_of(std::string_view bytes) noexcept {
  if (bytes.size() < kCommonHeaderSize ||
      bytes.substr(0, kMagic.size()) != std::string_view(kMagic.data(), kMagic.size())) {
    return 0;
  }
  return load_be(bytes.data() + kSenderOffset, 8);
}

// Whether a datagram's common header says it carries messages (data or packed): the
// receiving thread waits for a congested subscriber only before those (a NACK, an
// announcement or a report goes on at once). Unchecked, like sender_of: decode() decides.
inline bool carries_messages(std::string_view bytes) noexcept {
  if (bytes.size() < kCommonHeaderSize) return false;
  const auto type = static_cast<std::uint8_t>(bytes[kTypeOffset]);
  return type == static_cast<std::uint8_t>(Type::data) ||
         type == static_cast<std::uint8_t>(Type::packed);
}

// The records of a packed datagram that decode() accepted (`d.chunk`): calls
// visit(const DataHeader&, std::string_view message_bytes) for each, in order.
template <class Visit>
void for_each_record(std::string_view records, Visit&& visit);

// Appends one datagram to `out`.
void encode_data(std::string& out, std::uint64_t sender, std::uint8_t flags, const DataHeader& h,
                 std::string_view chunk);
void encode_nack(std::string& out, std::uint64_t sender, const Nack& nack);
void encode_announce(std::string& out, std::uint64_t sender, const Announce& announce);
void encode_backlog(std::string& out, std::uint64_t sender, const Backlog& backlog);
// `patterns`: valid subject patterns, at most kMaxInterestPatterns, ignored when `everything`.
void encode_interest(std::string& out, std::uint64_t sender, std::uint64_t generation,
                     bool everything, const std::vector<std::string>& patterns);
// The patterns of an interest datagram that decode() accepted: visit(std::string_view).
template <class Visit>
void for_each_pattern(std::string_view patterns, Visit&& visit);
// The bytes encode_interest() takes for one pattern.
inline std::size_t interest_size(std::string_view pattern) noexcept { return 2 + pattern.size(); }

// Packing: start_packed() begins a packed datagram in `out` (which must be empty),
// append_record() adds one whole message, finish_packed() sets its sequence. A message packs
// when packed_size() fits what is left of the datagram.
void start_packed(std::string& out, std::uint64_t sender, std::uint8_t flags = 0);
void append_record(std::string& out, const MessageParts& m, const Trace& trace);
void finish_packed(std::string& out, std::uint64_t seq);
inline std::size_t packed_size(const MessageParts& m) noexcept {
  return kRecordHeaderSize + m.subject.size() + m.reply.size() + m.headers.size() +
         m.payload.size();
}

// A message's parts (subject as it is named on the fabric) as datagrams of at most
// `max_datagram` bytes with sequences from `first_seq` on: calls next() once per fragment, in
// order, for the std::string& to write it into (cleared here; its capacity is reused), so a
// fragment is written once, where it will be sent from. Returns the number of fragments.
// The caller has checked the sizes (subject and reply below 64 KiB, the whole below 4 GiB);
// `max_datagram` must exceed kDataHeaderSize.
template <class Next>
std::uint32_t fragment(const MessageParts& m, const Trace& trace, std::uint64_t sender,
                       std::uint64_t first_seq, std::size_t max_datagram, Next&& next);

// How many fragments a message of `message_size` bytes takes.
std::uint32_t fragment_count(std::uint64_t message_size, std::size_t max_datagram) noexcept;

// ---------------------------------------------------------------------------------------

// What a record's header holds, in wire order (shared with the data header, where the same
// fields stand between seq and the fragment's index): `io(field)` writes or reads each
// field; the reserved ones are zero.
template <class Header, class IO>
void record_fields(Header& h, std::uint8_t& reserved8, std::uint16_t& reserved16, IO&& io) {
  io(h.trace.node_id);
  io(h.trace.seq);
  io(h.trace.bus);
  io(h.trace.hops);
  io(reserved8);
  io(h.subject_size);
  io(h.reply_size);
  io(reserved16);
  io(h.headers_size);
  io(h.payload_size);
}

// Reads the record at the front of `records` into `h` and `bytes` and consumes it
// (decode() checks every record with it before any is delivered).
DecodeError next_record(std::string_view& records, DataHeader& h, std::string_view& bytes) noexcept;

// Reads the pattern at the front of `patterns` and consumes it.
DecodeError next_pattern(std::string_view& patterns, std::string_view& pattern) noexcept;

template <class Visit>
void for_each_pattern(std::string_view patterns, Visit&& visit) {
  std::string_view p;
  while (!patterns.empty() && next_pattern(patterns, p) == DecodeError::none) visit(p);
}

template <class Visit>
void for_each_record(std::string_view records, Visit&& visit) {
  DataHeader h;
  std::string_view bytes;
  while (!records.empty() && next_record(records, h, bytes) == DecodeError::none) visit(h, bytes);
}

// The trace and section sizes of a message, as a data header or a record carries them.
inline DataHeader header_of(const MessageParts& m, const Trace& trace) noexcept {
  DataHeader h;
  h.trace = trace;
  h.subject_size = static_cast<std::uint16_t>(m.subject.size());
  h.reply_size = static_cast<std::uint16_t>(m.reply.size());
  h.headers_size = static_cast<std::uint32_t>(m.headers.size());
  h.payload_size = static_cast<std::uint32_t>(m.payload.size());
  return h;
}

template <class Next>
std::uint32_t fragment(const MessageParts& m, const Trace& trace, std::uint64_t sender,
                       std::uint64_t first_seq, std::size_t max_datagram, Next&& next) {
  DataHeader h = header_of(m, trace);
  h.count = fragment_count(h.message_size(), max_datagram);
  const std::size_t chunk_size = max_datagram - kDataHeaderSize;
  const std::array<std::string_view, 4> parts = {m.subject, m.reply, m.headers, m.payload};
  std::size_t part = 0, in_part = 0;
  for (std::uint32_t i = 0; i < h.count; ++i) {
    h.seq = first_seq + i;
    h.index = i;
    h.offset = static_cast<std::uint32_t>(std::uint64_t{i} * chunk_size);
    std::string& buffer = next();
    buffer.clear();
    encode_data(buffer, sender, 0, h, {});
    // Chunks run across the section boundaries.
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, h.message_size() - h.offset));
    while (want > 0) {
      while (in_part == parts[part].size()) ++part, in_part = 0;
      const std::size_t take = std::min(want, parts[part].size() - in_part);
      buffer.append(parts[part].substr(in_part, take));
      in_part += take;
      want -= take;
    }
  }
  return h.count;
}

}  // namespace psycho::multicast
