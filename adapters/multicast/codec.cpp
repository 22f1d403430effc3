#include "adapters/multicast/codec.hpp"

#include <cstring>

namespace psycho::multicast {

namespace {

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

// Reads big-endian integers from a view whose size the caller has checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()) {}
  std::uint64_t get(int bytes) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(*p_++);
    return v;
  }
  std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() noexcept { return get(8); }

 private:
  const char* p_;
};

void put_common(std::string& out, Type type, std::uint8_t flags, std::uint64_t sender) {
  out.append(kMagic.data(), kMagic.size());
  put(out, kVersion, 1);
  put(out, static_cast<std::uint8_t>(type), 1);
  put(out, flags, 1);
  put(out, 0, 1);
  put(out, sender, 8);
}

DecodeError decode_data(std::string_view bytes, std::size_t max_message, Datagram& out) noexcept {
  if (bytes.size() < kDataHeaderSize) return DecodeError::truncated;
  if ((out.flags & ~kFlagRetransmit) != 0) return DecodeError::malformed;
  Reader r(bytes.substr(kCommonHeaderSize));
  DataHeader& h = out.data;
  h.seq = r.u64();
  h.trace.node_id = r.u64();
  h.trace.seq = r.u64();
  h.trace.bus = r.u32();
  h.trace.hops = r.u8();
  const std::uint8_t reserved8 = r.u8();
  h.subject_size = r.u16();
  h.reply_size = r.u16();
  const std::uint16_t reserved16 = r.u16();
  h.headers_size = r.u32();
  h.payload_size = r.u32();
  h.index = r.u32();
  h.count = r.u32();
  h.offset = r.u32();
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

DecodeError decode_nack(std::string_view bytes, Datagram& out) noexcept {
  if (bytes.size() < kNackHeaderSize) return DecodeError::truncated;
  if (out.flags != 0) return DecodeError::malformed;
  Reader r(bytes.substr(kCommonHeaderSize));
  out.nack.target = r.u64();
  const std::uint16_t n = r.u16();
  const std::uint16_t reserved = r.u16();
  if (reserved != 0 || n == 0 || n > kMaxNackRanges) return DecodeError::malformed;
  if (bytes.size() < kNackHeaderSize + n * kNackRangeSize) return DecodeError::truncated;
  if (bytes.size() > kNackHeaderSize + n * kNackRangeSize) return DecodeError::malformed;
  Reader ranges(bytes.substr(kNackHeaderSize));
  out.nack.range_count = n;
  for (std::size_t i = 0; i < n; ++i) {
    NackRange& range = out.nack.ranges[i];
    range.first = ranges.u64();
    range.count = ranges.u32();
    if (range.count == 0 || range.first + range.count < range.first) return DecodeError::malformed;
  }
  return DecodeError::none;
}

DecodeError decode_announce(std::string_view bytes, Datagram& out) noexcept {
  if (bytes.size() < kAnnounceSize) return DecodeError::truncated;
  if (out.flags != 0 || bytes.size() > kAnnounceSize) return DecodeError::malformed;
  Reader r(bytes.substr(kCommonHeaderSize));
  out.announce.next_seq = r.u64();
  out.announce.oldest_seq = r.u64();
  if (out.announce.oldest_seq > out.announce.next_seq) return DecodeError::malformed;
  return DecodeError::none;
}

}  // namespace

std::string_view error_name(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::none:
      return "none";
    case DecodeError::truncated:
      return "truncated";
    case DecodeError::foreign:
      return "foreign";
    case DecodeError::version:
      return "version";
    case DecodeError::malformed:
      return "malformed";
    case DecodeError::oversized:
      return "oversized";
  }
  return "malformed";
}

DecodeError decode(std::string_view bytes, std::size_t max_message, Datagram& out) noexcept {
  if (bytes.size() < kMagic.size() ||
      std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    return DecodeError::foreign;
  }
  if (bytes.size() < kCommonHeaderSize) return DecodeError::truncated;
  Reader r(bytes.substr(kMagic.size()));
  if (r.u8() != kVersion) return DecodeError::version;
  const std::uint8_t type = r.u8();
  out.flags = r.u8();
  if (r.u8() != 0) return DecodeError::malformed;
  out.sender = r.u64();
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
    default:
      return DecodeError::malformed;
  }
}

void encode_data(std::string& out, std::uint64_t sender, std::uint8_t flags, const DataHeader& h,
                 std::string_view chunk) {
  put_common(out, Type::data, flags, sender);
  put(out, h.seq, 8);
  put(out, h.trace.node_id, 8);
  put(out, h.trace.seq, 8);
  put(out, h.trace.bus, 4);
  put(out, h.trace.hops, 1);
  put(out, 0, 1);
  put(out, h.subject_size, 2);
  put(out, h.reply_size, 2);
  put(out, 0, 2);
  put(out, h.headers_size, 4);
  put(out, h.payload_size, 4);
  put(out, h.index, 4);
  put(out, h.count, 4);
  put(out, h.offset, 4);
  out.append(chunk);
}

void encode_nack(std::string& out, std::uint64_t sender, const Nack& nack) {
  put_common(out, Type::nack, 0, sender);
  put(out, nack.target, 8);
  put(out, nack.range_count, 2);
  put(out, 0, 2);
  for (std::size_t i = 0; i < nack.range_count; ++i) {
    put(out, nack.ranges[i].first, 8);
    put(out, nack.ranges[i].count, 4);
  }
}

void encode_announce(std::string& out, std::uint64_t sender, const Announce& announce) {
  put_common(out, Type::announce, 0, sender);
  put(out, announce.next_seq, 8);
  put(out, announce.oldest_seq, 8);
}

std::uint32_t fragment_count(std::uint64_t message_size, std::size_t max_datagram) noexcept {
  const std::size_t chunk = max_datagram - kDataHeaderSize;
  if (message_size <= chunk) return 1;
  return static_cast<std::uint32_t>((message_size + chunk - 1) / chunk);
}

}  // namespace psycho::multicast
