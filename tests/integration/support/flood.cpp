#include "flood.hpp"

#include <algorithm>
#include <charconv>
#include <thread>

namespace psycho::testing {

std::string flood_payload(std::size_t i, std::size_t size) {
  std::string payload = std::to_string(i);
  payload.insert(0, size - payload.size(), '0');
  return payload;
}

std::string flood(const std::string& subject, std::size_t count, std::size_t size) {
  const std::string head = "PUB " + subject + " " + std::to_string(size) + "\n";
  std::string out;
  out.reserve(count * (head.size() + size + 1));
  for (std::size_t i = 0; i < count; ++i) {
    out += head;
    out += flood_payload(i, size);
    out += '\n';
  }
  return out;
}

void FloodTally::add(std::string_view payload) {
  std::size_t i = 0;
  const auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), i);
  if (ec != std::errc() || end != payload.data() + payload.size() || i >= seen_.size()) {
    ++malformed_;
    return;
  }
  if (seen_[i]) {
    ++duplicates_;
    return;
  }
  seen_[i] = true;
  ++distinct_;
  if (i + 1 < highest_) ++out_of_order_;
  highest_ = std::max(highest_, i + 1);
}

std::string FloodTally::summary() const {
  std::string s = std::to_string(distinct_) + " of " + std::to_string(seen_.size()) + ", " +
                  std::to_string(duplicates_) + " duplicates, " + std::to_string(malformed_) +
                  " malformed, " + std::to_string(out_of_order_) + " out of order";
  for (std::size_t i = 0; i < seen_.size(); ++i) {
    if (!seen_[i]) return s + ", first missing: " + std::to_string(i);
  }
  return s;
}

namespace {

// Parses the complete MSG frames at the front of `bytes` ("MSG subject [reply] size\n" then
// the payload and "\n") into `tally`; returns how many bytes they took.
std::size_t take_frames(std::string_view bytes, FloodTally& tally) {
  std::size_t at = 0;
  while (true) {
    const auto eol = bytes.find('\n', at);
    if (eol == std::string_view::npos) return at;
    const std::string_view line = bytes.substr(at, eol - at);
    if (!line.starts_with("MSG ")) {  // PONG, +OK: not ours to count
      at = eol + 1;
      continue;
    }
    std::size_t size = 0;
    const std::string_view digits = line.substr(line.rfind(' ') + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), size);
    if (bytes.size() < eol + 1 + size + 1) return at;
    tally.add(bytes.substr(eol + 1, size));
    at = eol + 1 + size + 1;
  }
}

}  // namespace

void receive_flood_slowly(RawClient& client, FloodTally& tally, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds pause) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  while (!tally.all_received() && Clock::now() < deadline) {
    client.read_once();
    client.consume(take_frames(client.pending(), tally));
    std::this_thread::sleep_for(pause);  // the pace of a slow reader, not a wait
  }
}

void receive_flood(RawClient& client, FloodTally& tally, std::chrono::milliseconds timeout,
                   std::chrono::milliseconds quiet) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  auto last_arrival = Clock::now();
  while (!tally.all_received() && Clock::now() < deadline && Clock::now() - last_arrival < quiet) {
    client.drain_for(std::chrono::milliseconds(20));
    const std::size_t before = tally.received();
    client.consume(take_frames(client.pending(), tally));
    if (tally.received() != before) last_arrival = Clock::now();
  }
}

}  // namespace psycho::testing
