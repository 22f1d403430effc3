// Floods for the flow-control tests: a publisher as fast as its client can write, and a
// tally that proves every message arrived, exactly once.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "raw_client.hpp"

namespace psycho::testing {

// The i-th payload of a flood: i in decimal, zero-padded to `size` bytes (at least 8).
std::string flood_payload(std::size_t i, std::size_t size);
// `count` PUBs on `subject` as one block of bytes, with flood_payload(i, size).
std::string flood(const std::string& subject, std::size_t count, std::size_t size);

class FloodTally {
 public:
  explicit FloodTally(std::size_t count) : seen_(count, false) {}
  // One received payload.
  void add(std::string_view payload);
  std::size_t received() const noexcept { return distinct_; }
  std::size_t duplicates() const noexcept { return duplicates_; }
  // Payloads that came after a higher one: a flood from one publisher arrives in order.
  std::size_t out_of_order() const noexcept { return out_of_order_; }
  // Every payload arrived (whatever else came too).
  bool all_received() const noexcept { return distinct_ == seen_.size(); }
  bool complete() const noexcept {
    return distinct_ == seen_.size() && duplicates_ == 0 && malformed_ == 0;
  }
  // "99998 of 100000, 0 duplicates, 0 malformed, 0 out of order, first missing: 17", for
  // failure messages.
  std::string summary() const;

 private:
  std::vector<bool> seen_;
  std::size_t distinct_ = 0, duplicates_ = 0, malformed_ = 0, out_of_order_ = 0;
  std::size_t highest_ = 0;  // the highest payload seen, plus one
};

// Reads the MSG frames `client` receives into `tally` until it is complete, or no message
// has arrived for `quiet`, or `timeout` has passed.
void receive_flood(RawClient& client, FloodTally& tally, std::chrono::milliseconds timeout,
                   std::chrono::milliseconds quiet = std::chrono::seconds(10));
// The same as a slow subscriber that keeps reading: one read (at most 64 KiB) every `pause`.
void receive_flood_slowly(RawClient& client, FloodTally& tally, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds pause);

}  // namespace psycho::testing
