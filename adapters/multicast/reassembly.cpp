#include "adapters/multicast/reassembly.hpp"

namespace psycho::multicast {

std::size_t Reassembler::bookkeeping_of(const DataHeader& h) noexcept { return h.count / 8 + 256; }

std::size_t Reassembler::cost_of(const DataHeader& h) noexcept {
  // The message, its fragment bitmap and the bookkeeping around it, so that many tiny
  // messages are bounded as well as a few large ones.
  return static_cast<std::size_t>(h.message_size()) + bookkeeping_of(h);
}

bool Reassembler::same_shape(const DataHeader& a, const DataHeader& b) noexcept {
  return a.count == b.count && a.subject_size == b.subject_size && a.reply_size == b.reply_size &&
         a.headers_size == b.headers_size && a.payload_size == b.payload_size &&
         a.trace.node_id == b.trace.node_id && a.trace.seq == b.trace.seq;
}

Reassembler::Entries::iterator Reassembler::entry_for(std::uint64_t sender, const DataHeader& h,
                                                      bool wanted, Clock::time_point now) {
  const Key key{sender, h.first_seq()};
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (same_shape(it->second.header, h)) return it;
    ++inconsistent_;
    return entries_.end();
  }
  const std::size_t cost = wanted ? cost_of(h) : bookkeeping_of(h);
  if (!make_room(cost)) {
    ++evicted_;
    ++dropped_by_sender_[sender];
    return entries_.end();
  }
  Entry e;
  e.header = h;
  e.header.seq = h.first_seq();
  e.header.index = 0;
  e.header.offset = 0;
  if (wanted) e.bytes.resize(static_cast<std::size_t>(h.message_size()));
  e.have.assign(h.count, false);
  e.deadline = now + timeout_;
  e.cost = cost;
  e.skipped = !wanted;
  bytes_ += cost;
  by_age_.emplace(e.deadline, key);
  return entries_.emplace(key, std::move(e)).first;
}

bool Reassembler::tick(Entry& e, std::uint32_t index) {
  if (e.have[index]) return false;  // a retransmission
  e.have[index] = true;
  return ++e.received == e.header.count;
}

std::optional<Assembled> Reassembler::add(std::uint64_t sender, const DataHeader& h,
                                          std::string_view chunk, Clock::time_point now) {
  const auto it = entry_for(sender, h, true, now);
  if (it == entries_.end()) return std::nullopt;
  Entry& e = it->second;
  if (e.have[h.index]) return std::nullopt;  // a retransmission of what we hold
  if (!e.skipped) e.bytes.replace(h.offset, chunk.size(), chunk);
  if (!tick(e, h.index)) return std::nullopt;
  std::optional<Assembled> done;
  if (!e.skipped) done = Assembled{e.header, std::move(e.bytes)};
  drop(it);
  return done;
}

void Reassembler::skip(std::uint64_t sender, const DataHeader& h, Clock::time_point now) {
  const auto it = entry_for(sender, h, false, now);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!e.skipped) {  // fragments that came before this one
    e.skipped = true;
    std::string().swap(e.bytes);
    bytes_ -= e.cost - bookkeeping_of(h);
    e.cost = bookkeeping_of(h);
  }
  if (tick(e, h.index)) drop(it);
}

bool Reassembler::make_room(std::size_t cost) {
  if (cost > max_bytes_) return false;
  while (bytes_ + cost > max_bytes_ && !by_age_.empty())
    lose(entries_.find(by_age_.begin()->second), evicted_);
  return true;
}

void Reassembler::lose(Entries::iterator it, std::uint64_t& counter) {
  if (!it->second.skipped) {
    ++counter;
    ++dropped_by_sender_[it->first.first];
  }
  drop(it);
}

void Reassembler::drop(Entries::iterator it) {
  bytes_ -= it->second.cost;
  by_age_.erase({it->second.deadline, it->first});
  entries_.erase(it);
}

void Reassembler::expire(Clock::time_point now) {
  while (!by_age_.empty() && by_age_.begin()->first <= now)
    lose(entries_.find(by_age_.begin()->second), timed_out_);
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
