#include "adapters/interest_table.hpp"

#include <algorithm>

#include "core/subject.hpp"

namespace psycho {

InterestTable::Changes InterestTable::start() {
  Changes changes;
  for (const auto& p : filter_->static_fabric_patterns()) acquire(p, changes);
  return changes;
}

InterestTable::Changes InterestTable::change(std::string_view local_pattern, bool added) {
  Changes changes;
  auto it = local_.find(local_pattern);
  if (added) {
    if (it != local_.end()) return changes;  // the router reports each pattern once
    auto fabric = filter_->fabric_patterns_for(local_pattern);
    for (const auto& p : fabric) acquire(p, changes);
    local_.emplace(std::string(local_pattern), std::move(fabric));
  } else {
    if (it == local_.end()) return changes;
    for (const auto& p : it->second) release(p, changes);
    local_.erase(it);
  }
  return changes;
}

InterestTable::Changes InterestTable::refilter(std::shared_ptr<const SubjectFilter> filter) {
  Changes changes;
  const auto old_static = filter_->static_fabric_patterns();
  auto old_local = std::move(local_);
  local_.clear();
  filter_ = std::move(filter);
  for (const auto& p : filter_->static_fabric_patterns()) acquire(p, changes);
  for (const auto& [pattern, fabric] : old_local) {
    auto now = filter_->fabric_patterns_for(pattern);
    for (const auto& p : now) acquire(p, changes);
    local_.emplace(pattern, std::move(now));
  }
  for (const auto& p : old_static) release(p, changes);
  for (const auto& [pattern, fabric] : old_local) {
    for (const auto& p : fabric) release(p, changes);
  }
  return changes;
}

// Interest changes are rare next to the lookups of owns() and covers(): holding the lock
// for the whole change keeps the rule simple (live_ only under mutex_) at no real cost.
void InterestTable::acquire(const std::string& fabric_pattern, Changes& changes) {
  WriterLock lock(mutex_);
  if (auto found = by_pattern_.find(fabric_pattern); found != by_pattern_.end()) {
    ++live_.at(found->second).refs;
    return;
  }
  const SubscriptionId id = next_id_++;
  Live entry{fabric_pattern, 1, {}};
  for (const auto& [other_id, other] : live_) {
    if (!intersect_patterns(other.pattern, fabric_pattern).empty()) {
      entry.older_overlaps.push_back(other_id);
    }
  }
  if (!entry.older_overlaps.empty()) overlapping_.fetch_add(1, std::memory_order_relaxed);
  live_.emplace(id, std::move(entry));
  by_pattern_.emplace(fabric_pattern, id);
  changes.subscribe.emplace_back(id, fabric_pattern);
}

void InterestTable::release(const std::string& fabric_pattern, Changes& changes) {
  auto found = by_pattern_.find(fabric_pattern);
  if (found == by_pattern_.end()) return;
  const SubscriptionId id = found->second;
  WriterLock lock(mutex_);
  if (--live_.at(id).refs > 0) return;
  by_pattern_.erase(found);
  if (!live_.at(id).older_overlaps.empty()) overlapping_.fetch_sub(1, std::memory_order_relaxed);
  live_.erase(id);
  for (auto& [other_id, other] : live_) {
    auto& older = other.older_overlaps;
    const auto was_empty = older.empty();
    older.erase(std::remove(older.begin(), older.end(), id), older.end());
    if (!was_empty && older.empty()) overlapping_.fetch_sub(1, std::memory_order_relaxed);
  }
  changes.unsubscribe.push_back(id);
}

bool InterestTable::owns(SubscriptionId id, std::string_view fabric_subject) const {
  // The usual case, no two subscriptions overlap, costs no lock.
  if (overlapping_.load(std::memory_order_relaxed) == 0) return true;
  ReaderLock lock(mutex_);
  auto it = live_.find(id);
  if (it == live_.end()) return false;
  for (const SubscriptionId older : it->second.older_overlaps) {
    auto o = live_.find(older);
    if (o != live_.end() && subject_matches(o->second.pattern, fabric_subject)) return false;
  }
  return true;
}

bool InterestTable::covers(std::string_view fabric_subject) const {
  ReaderLock lock(mutex_);
  return std::any_of(live_.begin(), live_.end(), [&](const auto& entry) {
    return subject_matches(entry.second.pattern, fabric_subject);
  });
}

std::size_t InterestTable::size() const {
  ReaderLock lock(mutex_);
  return live_.size();
}

std::vector<std::pair<InterestTable::SubscriptionId, std::string>> InterestTable::live() const {
  ReaderLock lock(mutex_);
  std::vector<std::pair<SubscriptionId, std::string>> out;
  for (const auto& [id, entry] : live_) out.emplace_back(id, entry.pattern);
  return out;
}

std::vector<std::string> InterestTable::patterns() const {
  ReaderLock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [id, entry] : live_) out.push_back(entry.pattern);
  return out;
}

}  // namespace psycho
