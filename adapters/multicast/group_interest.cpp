#include "adapters/multicast/group_interest.hpp"

#include <algorithm>

#include "core/subject.hpp"

namespace psycho::multicast {

namespace {

// Above this many patterns, covered ones are not looked for (it costs n²): coarsening
// shrinks the list first.
constexpr std::size_t kMaxCoverageCheck = 1024;

// Sorted, without duplicates and, when few enough to check, without patterns that another
// one covers.
void tidy(std::vector<std::string>& patterns) {
  std::sort(patterns.begin(), patterns.end());
  patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
  if (patterns.size() > kMaxCoverageCheck) return;
  std::vector<std::string> kept;
  for (const auto& p : patterns) {
    const bool covered = std::any_of(patterns.begin(), patterns.end(), [&](const std::string& q) {
      return q != p && pattern_covers(q, p);
    });
    if (!covered) kept.push_back(p);
  }
  patterns = std::move(kept);
}

// `pattern` cut after its first `tokens` tokens, with `>` for the rest (when there is more).
std::string cut(const std::string& pattern, std::size_t tokens) {
  std::size_t at = 0;
  for (std::size_t t = 0; t < tokens; ++t) {
    at = pattern.find('.', at);
    if (at == std::string::npos) return pattern;
    ++at;
  }
  return pattern.substr(0, at) + ">";
}

bool fits(const std::vector<std::string>& patterns, std::size_t budget) {
  if (patterns.size() > kMaxInterestPatterns) return false;
  std::size_t bytes = 0;
  for (const auto& p : patterns) bytes += interest_size(p);
  return bytes <= budget;
}

}  // namespace

OwnInterest fit_interest(std::vector<std::string> fabric_patterns, std::size_t budget) {
  OwnInterest out;
  tidy(fabric_patterns);
  for (std::size_t tokens = 3; !fits(fabric_patterns, budget); --tokens) {
    if (tokens == 0) return {true, {}};
    for (auto& p : fabric_patterns) p = cut(p, tokens);
    tidy(fabric_patterns);
  }
  if (std::find(fabric_patterns.begin(), fabric_patterns.end(), ">") != fabric_patterns.end()) {
    return {true, {}};
  }
  out.patterns = std::move(fabric_patterns);
  return out;
}

GroupInterest::GroupInterest(bool enabled) : enabled_(enabled) {
  MutexLock lock(mutex_);
  rebuild();
}

void GroupInterest::joined(std::uint64_t node) {
  MutexLock lock(mutex_);
  if (peers_.try_emplace(node).second) rebuild();
}

bool GroupInterest::update(std::uint64_t node, const Interest& interest) {
  MutexLock lock(mutex_);
  PeerWants& p = peers_[node];
  if (p.view.known && interest.generation <= p.generation) return false;
  p.generation = interest.generation;
  p.view.known = true;
  p.view.everything = interest.everything;
  p.view.patterns.clear();
  for_each_pattern(interest.patterns, [&](std::string_view s) { p.view.patterns.emplace_back(s); });
  rebuild();
  return true;
}

void GroupInterest::left(std::uint64_t node) {
  MutexLock lock(mutex_);
  if (peers_.erase(node) > 0) rebuild();
}

std::shared_ptr<const WhatTheGroupWants> GroupInterest::wanted() const {
  MutexLock lock(mutex_);
  return wanted_;
}

std::map<std::uint64_t, GroupInterest::PeerView> GroupInterest::peers() const {
  MutexLock lock(mutex_);
  std::map<std::uint64_t, PeerView> out;
  for (const auto& [node, p] : peers_) out.emplace(node, p.view);
  return out;
}

void GroupInterest::rebuild() {
  auto next = std::make_shared<WhatTheGroupWants>();
  next->everything = !enabled_;
  for (const auto& [node, p] : peers_) {
    if (next->everything) break;
    next->everything = p.view.everything;  // also while it has not said (unknown)
    for (const auto& pattern : p.view.patterns) next->patterns.add(pattern);
  }
  wanted_ = std::move(next);
}

std::shared_ptr<const WhatTheGroupWants> what_is_wanted(const OwnInterest& interest) {
  auto wanted = std::make_shared<WhatTheGroupWants>();
  wanted->everything = interest.everything;
  for (const auto& pattern : interest.patterns) wanted->patterns.add(pattern);
  return wanted;
}

}  // namespace psycho::multicast
