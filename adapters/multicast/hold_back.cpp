#include "adapters/multicast/hold_back.hpp"

namespace psycho::multicast {

void HoldBack::hold(std::uint64_t node, std::uint64_t seq, std::string_view plain) {
  Sender& s = senders_[node];
  const auto [it, added] = s.datagrams.try_emplace(seq, plain);
  if (!added) return;  // the tracker lets each sequence through once; kept once regardless
  s.bytes += plain.size();
  bytes_ += plain.size();
}

bool HoldBack::take(std::uint64_t node, std::uint64_t before, std::string& plain) {
  const auto s = senders_.find(node);
  if (s == senders_.end()) return false;
  auto& datagrams = s->second.datagrams;
  if (datagrams.empty() || datagrams.begin()->first >= before) return false;
  plain = std::move(datagrams.begin()->second);
  datagrams.erase(datagrams.begin());
  s->second.bytes -= plain.size();
  bytes_ -= plain.size();
  if (datagrams.empty()) senders_.erase(s);
  return true;
}

void HoldBack::forget(std::uint64_t node) {
  const auto s = senders_.find(node);
  if (s == senders_.end()) return;
  bytes_ -= s->second.bytes;
  senders_.erase(s);
}

std::uint64_t HoldBack::largest() const noexcept {
  std::uint64_t node = 0;
  std::size_t most = 0;
  for (const auto& [n, s] : senders_) {
    if (s.bytes > most) {
      most = s.bytes;
      node = n;
    }
  }
  return node;
}

}  // namespace psycho::multicast
