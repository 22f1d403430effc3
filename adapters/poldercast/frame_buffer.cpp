#include "adapters/poldercast/frame_buffer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "adapters/wire_bytes.hpp"

namespace psycho::poldercast {

namespace {

// The length prefix of the frame that starts at `p`.
std::size_t frame_length(const char* p) {
  return static_cast<std::size_t>(load_be(p, FrameBuffer::kHeader));
}

}  // namespace

FrameBuffer::FrameBuffer(std::size_t max_frame) : max_frame_(max_frame), buffer_(kInitial) {}

std::span<char> FrameBuffer::space() {
  const std::size_t held = end_ - begin_;
  const std::size_t keep = busy_ ? kBusy : kInitial;
  if (buffer_.size() > keep && held <= keep) {
    // A large frame was taken out, or the link is quiet again: give the memory back rather
    // than keep it per link.
    std::vector<char> small(keep);
    std::memcpy(small.data(), buffer_.data() + begin_, held);
    buffer_.swap(small);
  } else if (begin_ > 0 && held > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, held);
  }
  begin_ = 0;
  end_ = held;
  // Full means the frame is larger than the buffer (next() took out any whole one): double
  // it, but never past the frame, so that only bytes that arrived can make it grow.
  if (end_ == buffer_.size()) {
    const std::size_t grown = std::min(needed(), 2 * buffer_.size());
    if (grown > buffer_.size()) reallocate(grown);
  } else if (busy_ && buffer_.size() < kBusy) {
    // The peer sent all that fitted and likely more: bytes that arrived, so the rule holds.
    reallocate(std::min(2 * buffer_.size(), kBusy));
  }
  offered_ = buffer_.size() - end_;
  return {buffer_.data() + end_, offered_};
}

FrameBuffer::Next FrameBuffer::next(std::string_view& frame) {
  while (end_ - begin_ >= kHeader) {
    const std::size_t length = frame_length(buffer_.data() + begin_);
    if (length > max_frame_) return Next::oversized;
    if (end_ - begin_ < kHeader + length) return Next::more;
    frame = {buffer_.data() + begin_ + kHeader, length};
    begin_ += kHeader + length;
    if (length > 0) return Next::frame;
  }
  return Next::more;
}

std::size_t FrameBuffer::needed() const {
  if (end_ - begin_ < kHeader) return kHeader;
  return kHeader + std::min(frame_length(buffer_.data() + begin_), max_frame_);
}

void FrameBuffer::reallocate(std::size_t size) {
  // A new vector of exactly `size`: resize() may reserve up to twice what it is asked for.
  std::vector<char> next(size);
  std::memcpy(next.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  buffer_.swap(next);
}

}  // namespace psycho::poldercast
