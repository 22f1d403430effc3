#include "adapters/poldercast/subject_holds.hpp"

#include <algorithm>

#include "adapters/outbound_queue.hpp"

namespace psycho::poldercast {

void SubjectHolds::held_up(std::string_view subject, const std::string& address) {
  auto it = holds_.find(subject);
  if (it == holds_.end()) {
    it = holds_.emplace(std::string(subject), Hold{}).first;
    WriterLock lock(mutex_);
    held_.emplace(subject);
    held_count_.store(held_.size(), std::memory_order_relaxed);
  }
  auto& links = it->second.links;
  if (std::find(links.begin(), links.end(), address) == links.end()) links.push_back(address);
}

void SubjectHolds::hold(std::string_view subject, MessagePtr message) {
  auto it = holds_.find(subject);
  bytes_ += OutboundQueue::cost_of(message);
  it->second.waiting.push_back(std::move(message));
}

std::vector<std::string> SubjectHolds::release(
    const std::function<bool(const std::string&)>& holds_up) {
  std::vector<std::string> released;
  for (auto it = holds_.begin(); it != holds_.end();) {
    auto& links = it->second.links;
    if (links.empty()) {  // released before, and still waiting to be taken
      released.push_back((it++)->first);
      continue;
    }
    std::erase_if(links, [&](const std::string& address) { return !holds_up(address); });
    if (!links.empty()) {
      ++it;
    } else if (it->second.waiting.empty()) {
      forget(it++);
    } else {
      released.push_back((it++)->first);
    }
  }
  return released;
}

bool SubjectHolds::take(const std::string& subject, std::size_t max_count, std::size_t max_bytes,
                        const std::function<void(const Message&)>& each) {
  auto it = holds_.find(subject);
  if (it == holds_.end() || !it->second.links.empty()) return false;
  // `each` may publish, and a link may hold the subject up again (held_up(), same entry):
  // then the rest waits.
  const auto& links = it->second.links;
  auto& waiting = it->second.waiting;
  std::size_t count = 0, taken_bytes = 0;
  while (!waiting.empty() && links.empty() && count < max_count && taken_bytes < max_bytes) {
    const MessagePtr m = std::move(waiting.front());
    waiting.pop_front();
    const std::size_t cost = OutboundQueue::cost_of(m);
    bytes_ -= cost;
    taken_bytes += cost;
    ++count;
    each(*m);
  }
  if (waiting.empty() && links.empty()) forget(it);
  return count > 0;
}

void SubjectHolds::take_everything(const std::function<void(const Message&)>& each) {
  for (auto it = holds_.begin(); it != holds_.end();) {
    for (const auto& m : it->second.waiting) each(*m);
    forget(it++);
  }
  bytes_ = 0;
}

bool SubjectHolds::holds(std::string_view subject) const {
  if (!any()) return false;
  ReaderLock lock(mutex_);
  return held_.contains(subject);
}

void SubjectHolds::forget(Holds::iterator it) {
  {
    WriterLock lock(mutex_);
    held_.erase(it->first);
    held_count_.store(held_.size(), std::memory_order_relaxed);
  }
  holds_.erase(it);
}

}  // namespace psycho::poldercast
