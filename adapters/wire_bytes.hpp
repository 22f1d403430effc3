// Big-endian integers on the wire: the one place that knows the byte order of every binary
// format between gateways (the multicast datagram, the PolderCast message and the length
// prefix of its stream frames).
//
// ByteWriter appends to a std::string; FixedWriter fills a region sized beforehand.
// ByteReader reads from a view and never past its end: a read that does not fit returns
// false, leaves its output alone and consumes nothing, and from then on ok() is false, so
// that a run of reads whose size the caller has already checked can be tested once at the
// end. Header-only and free of I/O, so the I/O-free protocol code and the fuzzers use it
// without linking anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace psycho {

// The low `width` bytes (1..8) of `v`, most significant first, into dst[0, width).
inline void store_be(std::uint64_t v, std::size_t width, char* dst) noexcept {
  for (std::size_t i = 0; i < width; ++i) {
    dst[i] = static_cast<char>((v >> (8 * (width - 1 - i))) & 0xFF);
  }
}

// The unsigned integer of `width` bytes (1..8) at src[0, width), most significant first.
inline std::uint64_t load_be(const char* src, std::size_t width) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { uint(v, 1); }
  void u16(std::uint16_t v) { uint(v, 2); }
  void u32(std::uint32_t v) { uint(v, 4); }
  void u64(std::uint64_t v) { uint(v, 8); }
  // The low `width` bytes of `v`: a length prefix whose width the format chooses per field.
  void uint(std::uint64_t v, std::size_t width) {
    const std::size_t at = out_.size();
    out_.resize(at + width);
    store_be(v, width, out_.data() + at);
  }
  void bytes(std::string_view b) { out_.append(b); }

 private:
  std::string& out_;
};

// Writes into memory the caller has sized for exactly what is written: a pointer moved on
// per field, where ByteWriter grows its string field by field (a capacity check, a length
// and a terminator each time: part of the 17% of a publishing gateway's samples that
// encoding PolderCast publications took, BENCHMARKS.md). A write that does not fit writes
// nothing and from then on ok() is false, so a caller whose sizes disagree with its writes
// finds out instead of overrunning the region.
class FixedWriter {
 public:
  FixedWriter(char* at, std::size_t size) noexcept : at_(at), end_(at + size) {}

  void u8(std::uint8_t v) noexcept { uint(v, 1); }
  void u16(std::uint16_t v) noexcept { uint(v, 2); }
  void u32(std::uint32_t v) noexcept { uint(v, 4); }
  void u64(std::uint64_t v) noexcept { uint(v, 8); }
  void uint(std::uint64_t v, std::size_t width) noexcept {
    if (!fits(width)) return;
    store_be(v, width, at_);
    at_ += width;
  }
  void bytes(std::string_view b) noexcept {
    if (!fits(b.size())) return;
    if (!b.empty()) std::memcpy(at_, b.data(), b.size());
    at_ += b.size();
  }

  // Every write so far fitted.
  bool ok() const noexcept { return ok_; }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - at_); }

 private:
  bool fits(std::size_t n) noexcept {
    if (ok_ && remaining() >= n) return true;
    ok_ = false;
    return false;
  }

  char* at_;
  char* end_;
  bool ok_ = true;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  bool u8(std::uint8_t& v) noexcept { return read(v); }
  bool u16(std::uint16_t& v) noexcept { return read(v); }
  bool u32(std::uint32_t& v) noexcept { return read(v); }
  bool u64(std::uint64_t& v) noexcept { return read(v); }
  // An unsigned integer as wide as its type, for code generic over a field's type.
  template <class T>
  bool read(T& v) noexcept {
    std::uint64_t x = 0;
    if (!uint(sizeof(T), x)) return false;
    v = static_cast<T>(x);
    return true;
  }
  // An unsigned integer of `width` bytes (1..8).
  bool uint(std::size_t width, std::uint64_t& v) noexcept {
    if (!fits(width)) return false;
    v = load_be(data_.data() + pos_, width);
    pos_ += width;
    return true;
  }
  // The next `n` bytes, as a view into the input.
  bool bytes(std::size_t n, std::string_view& out) noexcept {
    if (!fits(n)) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // No read has failed so far.
  bool ok() const noexcept { return ok_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool at_end() const noexcept { return remaining() == 0; }

 private:
  bool fits(std::size_t n) noexcept {
    if (remaining() >= n) return true;
    ok_ = false;
    return false;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace psycho
