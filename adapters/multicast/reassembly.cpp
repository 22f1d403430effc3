#include "adapters/multicast/reassembly.hpp"

namespace psycho::multicast {

std::size_t Reassembler::cost_of(const DataHeader& h) noexcept {
  // The message, its fragment bitmap and the bookkeeping around it, so that many tiny
  // messages are bounded as well as a few large ones.
  return static_cast<std::size_t>(h.message_size()) + h.count / 8 + 256;
}

bool Reassembler::same_shape(const DataHeader& a, const DataHeader& b) noexcept {
  return a.count == b.count && a.subject_size == b.subject_size && a.reply_size == b.reply_size &&
         a.headers_size == b.headers_size && a.payload_size == b.payload_size &&
         a.trace.node_id == b.trace.node_id && a.trace.seq == b.trace.seq;
}

std::optional<Assembled> Reassembler::add(std::uint64_t sender, const DataHeader& h,
                                          std::string_view chunk, Clock::time_point now) {
  const Key key{sender, h.first_seq()};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    const std::size_t cost = cost_of(h);
    if (!make_room(cost)) {
      ++evicted_;
      ++dropped_by_sender_[sender];
      return std::nullopt;
    }
    Entry e;
    e.header = h;
    e.header.seq = h.first_seq();
    e.header.index = 0;
    e.header.offset = 0;
    e.bytes.resize(static_cast<std::size_t>(h.message_size()));
    e.have.assign(h.count, false);
    e.deadline = now + timeout_;
    e.cost = cost;
    bytes_ += cost;
    by_age_.emplace(e.deadline, key);
    it = entries_.emplace(key, std::move(e)).first;
  } else if (!same_shape(it->second.header, h)) {
    ++inconsistent_;
    return std::nullopt;
  }
  Entry& e = it->second;
  if (e.have[h.index]) return std::nullopt;  // a retransmission of what we hold
  e.have[h.index] = true;
  ++e.received;
  e.bytes.replace(h.offset, chunk.size(), chunk);
  if (e.received < e.header.count) return std::nullopt;
  Assembled done{e.header, std::move(e.bytes)};
  drop(it);
  return done;
}

bool Reassembler::make_room(std::size_t cost) {
  if (cost > max_bytes_) return false;
  while (bytes_ + cost > max_bytes_ && !by_age_.empty()) {
    auto it = entries_.find(by_age_.begin()->second);
    ++evicted_;
    ++dropped_by_sender_[it->first.first];
    drop(it);
  }
  return true;
}

void Reassembler::drop(std::map<Key, Entry>::iterator it) {
  bytes_ -= it->second.cost;
  by_age_.erase({it->second.deadline, it->first});
  entries_.erase(it);
}

void Reassembler::expire(Clock::time_point now) {
  while (!by_age_.empty() && by_age_.begin()->first <= now) {
    auto it = entries_.find(by_age_.begin()->second);
    ++timed_out_;
    ++dropped_by_sender_[it->first.first];
    drop(it);
  }
}

void Reassembler::forget(std::uint64_t sender) {
  for (auto it = entries_.lower_bound({sender, 0});
       it != entries_.end() && it->first.first == sender;) {
    drop(it++);
  }
  dropped_by_sender_.erase(sender);
}

std::uint64_t Reassembler::dropped_from(std::uint64_t sender) const {
  const auto it = dropped_by_sender_.find(sender);
  return it == dropped_by_sender_.end() ? 0 : it->second;
}

}  // namespace psycho::multicast
