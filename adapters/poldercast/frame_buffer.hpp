// Reassembles the stream transport's frames (a 4-byte big-endian length, then the bytes)
// from whatever pieces a socket delivers. Memory follows the bytes that actually arrived,
// never the length a peer announces: the buffer starts small, grows geometrically only
// when it is full (up to the frame being read, at most max_frame + 4), and goes back to
// its initial size once a large frame has been taken out. A peer that announces a
// megabyte and sends four bytes costs kInitial bytes. A busy link, whose reads fill all the
// room they are given, reads up to kBusy at a time (its buffer doubles towards it with
// each full read, and goes back once a read leaves room): at 16 KiB a read took only about
// seventy small publications, and each read is a system call and a burst for the router.
//
// Use: read into space(), commit() what arrived, then call next() until it answers
// `more` (or `oversized`: the peer is broken, drop it). Frames are views into the buffer,
// valid until the next space().
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace psycho::poldercast {

class FrameBuffer {
 public:
  static constexpr std::size_t kHeader = 4;
  static constexpr std::size_t kInitial = 16 << 10;
  static constexpr std::size_t kBusy = 64 << 10;

  explicit FrameBuffer(std::size_t max_frame);

  // Where the next read writes: never empty once next() has answered `more`.
  std::span<char> space();
  // `n` bytes were written at the start of space().
  void commit(std::size_t n) {
    end_ += n;
    busy_ = n == offered_;
  }

  enum class Next { frame, more, oversized };
  // Takes out the next whole frame; zero-length frames are skipped. `more`: what is left
  // is the start of a frame. `oversized`: the next prefix announces more than max_frame.
  Next next(std::string_view& frame);

  // Bytes of a frame that has not arrived whole are held.
  bool partial() const { return end_ > begin_; }
  // A link that finished its handshake takes frames up to the data limit from then on.
  void set_max_frame(std::size_t max_frame) { max_frame_ = max_frame; }
  // What the buffer costs.
  std::size_t capacity() const { return buffer_.capacity(); }

 private:
  // The whole size of the frame that starts at begin_ (only its prefix while that is short).
  std::size_t needed() const;
  void reallocate(std::size_t size);

  std::size_t max_frame_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // [begin_, end_) not yet taken out
  std::size_t offered_ = 0;          // the size of the last space()
  bool busy_ = false;                // the last read filled it
};

}  // namespace psycho::poldercast
