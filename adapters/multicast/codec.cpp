#include "adapters/multicast/codec.hpp"

#include <cstring>

#include "adapters/wire_bytes.hpp"
#include "core/subject.hpp"

namespace psycho::multicast {

namespace {

ByteWriter put_common(std::string& out, Type type, std::uint8_t flags, std::uint64_t sender) {
  ByteWriter w(out);
  w.bytes({kMagic.data(), kMagic.size()});
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u8(flags);
  w.u8(0);  // key id: set when sealed (datagram_auth.hpp)
  w.u64(sender);
  return w;
}

// The data header after the common header, in wire order: the one list encode_data() and
// decode_data() share. `io(field)` writes or reads each field; the reserved ones are zero.
template <class Header, class IO>
void data_fields(Header& h, std::uint8_t& reserved8, std::uint16_t& reserved16, IO&& io) {
  io(h.seq);
  record_fields(h, reserved8, reserved16, io);
  io(h.index);
  io(h.count);
  io(h.offset);
}

DecodeError decode_data(std::string_view bytes, std::size_t max_message, Datagram& out) noexcept {
  if (bytes.size() < kDataHeaderSize) return DecodeError::truncated;
  if ((out.flags & ~kFlagRetransmit) != 0) return DecodeError::malformed;
  ByteReader r(bytes.substr(kCommonHeaderSize));
  DataHeader& h = out.data;
  std::uint8_t reserved8 = 0;
  std::uint16_t reserved16 = 0;
  data_fields(h, reserved8, reserved16, [&](auto& field) { r.read(field); });
  if (!r.ok()) return DecodeError::truncated;
  out.chunk = bytes.substr(kDataHeaderSize);
  if (reserved8 != 0 || reserved16 != 0) return DecodeError::malformed;
  const std::uint64_t total = h.message_size();
  if (total > max_message) return DecodeError::oversized;
  if (h.subject_size == 0 || h.count == 0 || h.index >= h.count || h.seq < h.index) {
    return DecodeError::malformed;
  }
  const std::uint64_t end = std::uint64_t{h.offset} + out.chunk.size();
  const bool last = h.index + 1 == h.count;
  // Every fragment carries at least one byte (so count <= size), the first starts the
  // message, the last ends it, and none reaches past it.
  if (end > total || (last ? end != total : out.chunk.empty()) ||
      (h.index == 0) != (h.offset == 0)) {
    return DecodeError::malformed;
  }
  if (h.count > 1 && h.count > total) return DecodeError::malformed;
  return DecodeError::none;
}

// What NACK and packed datagrams have after the common header: a 64-bit value (the target,
// the sequence), a count and a reserved 16-bit field.
bool read_counted(ByteReader& r, std::uint64_t& value, std::uint16_t& count,
                  std::uint16_t& reserved) noexcept {
  r.u64(value);
  r.u16(count);
  r.u16(reserved);
  return r.ok();
}

DecodeError decode_packed(std::string_view bytes, std::size_t max_message, Datagram& out) noexcept {
  if (bytes.size() < kPackedHeaderSize) return DecodeError::truncated;
  if ((out.flags & ~kFlagRetransmit) != 0) return DecodeError::malformed;
  ByteReader r(bytes.substr(kCommonHeaderSize));
  std::uint16_t count = 0, reserved = 0;
  if (!read_counted(r, out.data.seq, count, reserved)) return DecodeError::truncated;
  if (reserved != 0 || count == 0) return DecodeError::malformed;
  out.data.count = 1;
  out.data.index = 0;
  out.chunk = bytes.substr(kPackedHeaderSize);
  // Every record is checked here, so that a datagram is taken or refused whole.
  std::string_view rest = out.chunk;
  DataHeader h;
  std::string_view message;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (const DecodeError e = next_record(rest, h, message); e != DecodeError::none) return e;
    if (h.message_size() > max_message) return DecodeError::oversized;
  }
  return rest.empty() ? DecodeError::none : DecodeError::malformed;
}

DecodeError decode_nack(std::string_view bytes, Datagram& out) noexcept {
  if (bytes.size() < kNackHeaderSize) return DecodeError::truncated;
  if (out.flags != 0) return DecodeError::malformed;
  ByteReader r(bytes.substr(kCommonHeaderSize));
  std::uint16_t n = 0, reserved = 0;
  if (!read_counted(r, out.nack.target, n, reserved)) return DecodeError::truncated;
  if (reserved != 0 || n == 0 || n > kMaxNackRanges) return DecodeError::malformed;
  if (bytes.size() < kNackHeaderSize + n * kNackRangeSize) return DecodeError::truncated;
  if (bytes.size() > kNackHeaderSize + n * kNackRangeSize) return DecodeError::malformed;
  ByteReader ranges(bytes.substr(kNackHeaderSize));
  out.nack.range_count = n;
  for (std::size_t i = 0; i < n; ++i) {
    NackRange& range = out.nack.ranges[i];
    if (!ranges.u64(range.first) || !ranges.u32(range.count)) return DecodeError::truncated;
    if (range.count == 0 || range.first + range.count < range.first) return DecodeError::malformed;
  }
  return DecodeError::none;
}

DecodeError decode_announce(std::string_view bytes, Datagram& out) noexcept {
  if (bytes.size() < kAnnounceSize) return DecodeError::truncated;
  if (out.flags != 0 || bytes.size() > kAnnounceSize) return DecodeError::malformed;
  ByteReader r(bytes.substr(kCommonHeaderSize));
  if (!r.u64(out.announce.next_seq) || !r.u64(out.announce.oldest_seq)) {
    return DecodeError::truncated;
  }
  if (out.announce.oldest_seq > out.announce.next_seq) return DecodeError::malformed;
  return DecodeError::none;
}

DecodeError decode_backlog(std::string_view bytes, Datagram& out) noexcept {
  if (bytes.size() < kBacklogSize) return DecodeError::truncated;
  if (out.flags != 0 || bytes.size() > kBacklogSize) return DecodeError::malformed;
  ByteReader r(bytes.substr(kCommonHeaderSize));
  if (!r.u32(out.backlog.queued) || !r.u32(out.backlog.capacity)) return DecodeError::truncated;
  if (out.backlog.capacity == 0 || out.backlog.queued > out.backlog.capacity) {
    return DecodeError::malformed;
  }
  return DecodeError::none;
}

DecodeError decode_interest(std::string_view bytes, Datagram& out) noexcept {
  if (bytes.size() < kInterestHeaderSize) return DecodeError::truncated;
  if ((out.flags & ~kFlagEverything) != 0) return DecodeError::malformed;
  ByteReader r(bytes.substr(kCommonHeaderSize));
  std::uint16_t count = 0, reserved = 0;
  Interest& in = out.interest;
  if (!read_counted(r, in.generation, count, reserved)) return DecodeError::truncated;
  in.everything = (out.flags & kFlagEverything) != 0;
  if (reserved != 0 || count > kMaxInterestPatterns || (in.everything && count != 0)) {
    return DecodeError::malformed;
  }
  in.count = count;
  in.patterns = bytes.substr(kInterestHeaderSize);
  std::string_view rest = in.patterns, pattern;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (const DecodeError e = next_pattern(rest, pattern); e != DecodeError::none) return e;
  }
  return rest.empty() ? DecodeError::none : DecodeError::malformed;
}

}  // namespace

DecodeError decode(std::string_view bytes, std::size_t max_message, Datagram& out,
                   bool authenticated) noexcept {
  if (bytes.size() < kMagic.size() ||
      std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    return DecodeError::foreign;
  }
  if (bytes.size() < kCommonHeaderSize) return DecodeError::truncated;
  ByteReader r(bytes.substr(kMagic.size()));
  std::uint8_t version = 0, type = 0;
  r.u8(version);
  r.u8(type);
  r.u8(out.flags);
  r.u8(out.key_id);  // checked before decoding (datagram_auth.hpp)
  r.u64(out.sender);
  if (!r.ok()) return DecodeError::truncated;
  if (version != kVersion) return DecodeError::version;
  if ((out.key_id != 0) != authenticated) return DecodeError::malformed;
  switch (type) {
    case static_cast<std::uint8_t>(Type::data):
      out.type = Type::data;
      return decode_data(bytes, max_message, out);
    case static_cast<std::uint8_t>(Type::nack):
      out.type = Type::nack;
      return decode_nack(bytes, out);
    case static_cast<std::uint8_t>(Type::announce):
      out.type = Type::announce;
      return decode_announce(bytes, out);
    case static_cast<std::uint8_t>(Type::packed):
      out.type = Type::packed;
      return decode_packed(bytes, max_message, out);
    case static_cast<std::uint8_t>(Type::interest):
      out.type = Type::interest;
      return decode_interest(bytes, out);
    case static_cast<std::uint8_t>(Type::backlog):
      out.type = Type::backlog;
      return decode_backlog(bytes, out);
    default:
      return DecodeError::malformed;
  }
}

void encode_data(std::string& out, std::uint64_t sender, std::uint8_t flags, const DataHeader& h,
                 std::string_view chunk) {
  ByteWriter w = put_common(out, Type::data, flags, sender);
  std::uint8_t zero8 = 0;
  std::uint16_t zero16 = 0;
  data_fields(h, zero8, zero16, [&](auto field) { w.uint(field, sizeof field); });
  w.bytes(chunk);
}

void encode_nack(std::string& out, std::uint64_t sender, const Nack& nack) {
  ByteWriter w = put_common(out, Type::nack, 0, sender);
  w.u64(nack.target);
  w.u16(static_cast<std::uint16_t>(nack.range_count));
  w.u16(0);
  for (std::size_t i = 0; i < nack.range_count; ++i) {
    w.u64(nack.ranges[i].first);
    w.u32(nack.ranges[i].count);
  }
}

void encode_announce(std::string& out, std::uint64_t sender, const Announce& announce) {
  ByteWriter w = put_common(out, Type::announce, 0, sender);
  w.u64(announce.next_seq);
  w.u64(announce.oldest_seq);
}

void encode_backlog(std::string& out, std::uint64_t sender, const Backlog& backlog) {
  ByteWriter w = put_common(out, Type::backlog, 0, sender);
  w.u32(backlog.queued);
  w.u32(backlog.capacity);
}

void encode_interest(std::string& out, std::uint64_t sender, std::uint64_t generation,
                     bool everything, const std::vector<std::string>& patterns) {
  ByteWriter w = put_common(out, Type::interest, everything ? kFlagEverything : 0, sender);
  w.u64(generation);
  w.u16(everything ? 0 : static_cast<std::uint16_t>(patterns.size()));
  w.u16(0);
  if (everything) return;
  for (const auto& p : patterns) {
    w.u16(static_cast<std::uint16_t>(p.size()));
    w.bytes(p);
  }
}

DecodeError next_pattern(std::string_view& patterns, std::string_view& pattern) noexcept {
  ByteReader r(patterns);
  std::uint16_t size = 0;
  if (!r.u16(size) || !r.bytes(size, pattern)) return DecodeError::truncated;
  if (!is_valid_pattern(pattern)) return DecodeError::malformed;
  patterns.remove_prefix(patterns.size() - r.remaining());
  return DecodeError::none;
}

DecodeError next_record(std::string_view& records, DataHeader& h,
                        std::string_view& bytes) noexcept {
  ByteReader r(records);
  std::uint8_t reserved8 = 0;
  std::uint16_t reserved16 = 0;
  record_fields(h, reserved8, reserved16, [&](auto& field) { r.read(field); });
  if (!r.ok()) return DecodeError::truncated;
  if (reserved8 != 0 || reserved16 != 0 || h.subject_size == 0) return DecodeError::malformed;
  if (!r.bytes(static_cast<std::size_t>(h.message_size()), bytes)) return DecodeError::truncated;
  records.remove_prefix(records.size() - r.remaining());
  return DecodeError::none;
}

void start_packed(std::string& out, std::uint64_t sender, std::uint8_t flags) {
  ByteWriter w = put_common(out, Type::packed, flags, sender);
  w.u64(0);  // seq: finish_packed()
  w.u16(0);  // records: counted by append_record()
  w.u16(0);
}

void append_record(std::string& out, const MessageParts& m, const Trace& trace) {
  DataHeader h = header_of(m, trace);
  ByteWriter w(out);
  std::uint8_t zero8 = 0;
  std::uint16_t zero16 = 0;
  record_fields(h, zero8, zero16, [&](auto field) { w.uint(field, sizeof field); });
  w.bytes(m.subject);
  w.bytes(m.reply);
  w.bytes(m.headers);
  w.bytes(m.payload);
  char* count = out.data() + kCommonHeaderSize + 8;
  store_be(load_be(count, 2) + 1, 2, count);
}

void finish_packed(std::string& out, std::uint64_t seq) {
  store_be(seq, 8, out.data() + kCommonHeaderSize);
}

std::uint32_t fragment_count(std::uint64_t message_size, std::size_t max_datagram) noexcept {
  const std::size_t chunk = max_datagram - kDataHeaderSize;
  if (message_size <= chunk) return 1;
  return static_cast<std::uint32_t>((message_size + chunk - 1) / chunk);
}

}  // namespace psycho::multicast
