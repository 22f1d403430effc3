#include "poldercast/views.hpp"

#include <algorithm>
#include <unordered_map>

namespace psycho::poldercast {

void normalize(Profile& profile) {
  auto& t = profile.topics;
  auto by_topic = [](const TopicInterest& a, const TopicInterest& b) { return a.topic < b.topic; };
  if (!std::is_sorted(t.begin(), t.end(), by_topic)) std::sort(t.begin(), t.end(), by_topic);
  t.erase(std::unique(t.begin(), t.end(),
                      [](const auto& a, const auto& b) { return a.topic == b.topic; }),
          t.end());
}

bool subscribes(const Profile& profile, std::uint64_t topic) noexcept {
  auto it = std::lower_bound(profile.topics.begin(), profile.topics.end(), topic,
                             [](const TopicInterest& t, std::uint64_t v) { return t.topic < v; });
  return it != profile.topics.end() && it->topic == topic;
}

// --- PartialView ----------------------------------------------------------------------------

void PartialView::age_all() noexcept {
  for (auto& e : entries_) {
    if (e.age < UINT16_MAX) ++e.age;
  }
}

const Entry* PartialView::oldest() const noexcept {
  const Entry* best = nullptr;
  for (const auto& e : entries_) {
    if (best == nullptr || e.age > best->age) best = &e;
  }
  return best;
}

const Entry* PartialView::find(std::uint64_t id) const noexcept {
  for (const auto& e : entries_) {
    if (e.id() == id) return &e;
  }
  return nullptr;
}

std::vector<Entry>::iterator PartialView::at(std::uint64_t id) noexcept {
  return std::find_if(entries_.begin(), entries_.end(),
                      [&](const Entry& e) { return e.id() == id; });
}

bool PartialView::remove(std::uint64_t id) noexcept {
  auto it = at(id);
  if (it == entries_.end()) return false;
  *it = std::move(entries_.back());
  entries_.pop_back();
  return true;
}

void PartialView::refresh(const ProfilePtr& profile) noexcept {
  if (auto it = at(profile->node_id); it != entries_.end()) {
    it->profile = profile;
    it->via = 0;
  }
}

void PartialView::assign(std::vector<Entry> entries) {
  entries_ = std::move(entries);
  if (entries_.size() > capacity_) entries_.resize(capacity_);
}

std::vector<Entry> PartialView::sample(std::size_t n, std::uint64_t except,
                                       std::mt19937_64& rng) const {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    if (e.id() != except) out.push_back(e);
  }
  std::shuffle(out.begin(), out.end(), rng);
  if (out.size() > n) out.resize(n);
  return out;
}

std::size_t PartialView::merge_cyclon(const std::vector<Entry>& received,
                                      std::vector<std::uint64_t> sent, std::uint64_t self,
                                      std::size_t per_source) {
  std::size_t refused = 0;
  for (const auto& r : received) {
    if (r.id() == self) continue;
    if (auto have = at(r.id()); have != entries_.end()) {
      // Known: keep the fresher copy of its profile, unless only hearsay says so.
      if (r.age < have->age && (r.via == 0 || have->via != 0)) *have = r;
      continue;
    }
    if (r.via != 0 && static_cast<std::size_t>(std::count_if(
                          entries_.begin(), entries_.end(),
                          [&](const Entry& e) { return e.via == r.via; })) >= per_source) {
      ++refused;
      continue;
    }
    if (entries_.size() < capacity_) {
      entries_.push_back(r);
      continue;
    }
    // Full: overwrite one of the entries we sent away (they now live at the partner).
    while (!sent.empty()) {
      const std::uint64_t victim = sent.back();
      sent.pop_back();
      if (auto it = at(victim); it != entries_.end()) {
        *it = r;
        break;
      }
    }
  }
  return refused;
}

// --- Vicinity's selection --------------------------------------------------------------------

std::vector<Entry> select_for(const Profile& target, const std::vector<Entry>& candidates,
                              std::size_t count, std::mt19937_64& rng) {
  std::vector<Entry> chosen;
  if (count == 0 || candidates.empty()) return chosen;
  // For each candidate, the indexes (into target.topics) of the topics it shares.
  struct Scored {
    const Entry* entry;
    std::vector<std::uint32_t> shared;
    std::uint64_t tie;
  };
  std::vector<Scored> pool;
  pool.reserve(candidates.size());
  std::vector<Scored> strangers;
  for (const auto& c : candidates) {
    Scored s{&c, {}, rng()};
    const auto& mine = target.topics;
    const auto& theirs = c.profile->topics;
    // Both sorted: a merge walk.
    std::size_t i = 0, j = 0;
    while (i < mine.size() && j < theirs.size()) {
      if (mine[i].topic < theirs[j].topic) {
        ++i;
      } else if (theirs[j].topic < mine[i].topic) {
        ++j;
      } else {
        s.shared.push_back(static_cast<std::uint32_t>(i));
        ++i;
        ++j;
      }
    }
    (s.shared.empty() ? strangers : pool).push_back(std::move(s));
  }
  // Greedy: each round takes the best-scoring candidate; a topic already covered by `k`
  // picks counts 1/(k+1) of its weight, so the view spreads over the target's topics.
  std::vector<std::uint16_t> covered(target.topics.size(), 0);
  while (chosen.size() < count && !pool.empty()) {
    std::size_t best = 0;
    double best_score = -1;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      double score = 0;
      for (std::uint32_t t : pool[i].shared) {
        score += (1.0 + 2.0 * target.topics[t].priority) / (1.0 + covered[t]);
      }
      if (score > best_score || (score == best_score && pool[i].tie < pool[best].tie)) {
        best = i;
        best_score = score;
      }
    }
    for (std::uint32_t t : pool[best].shared) ++covered[t];
    chosen.push_back(*pool[best].entry);
    pool[best] = std::move(pool.back());
    pool.pop_back();
  }
  std::sort(strangers.begin(), strangers.end(),
            [](const Scored& a, const Scored& b) { return a.tie < b.tie; });
  for (std::size_t i = 0; chosen.size() < count && i < strangers.size(); ++i) {
    chosen.push_back(*strangers[i].entry);
  }
  return chosen;
}

void dedupe_best(std::vector<Entry>& entries, std::uint64_t self) {
  // Whether `a` is the better descriptor of one node: first-hand over hearsay, then younger.
  auto better = [](const Entry& a, const Entry& b) {
    if ((a.via == 0) != (b.via == 0)) return a.via == 0;
    return a.age < b.age;
  };
  std::unordered_map<std::uint64_t, std::size_t> at;
  std::vector<Entry> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    if (e.id() == self) continue;
    auto [it, fresh] = at.try_emplace(e.id(), out.size());
    if (fresh) {
      out.push_back(std::move(e));
    } else if (better(e, out[it->second])) {
      out[it->second] = std::move(e);
    }
  }
  entries = std::move(out);
}

std::size_t limit_hearsay(std::vector<Entry>& entries, std::size_t per_source) {
  std::unordered_map<std::uint64_t, std::size_t> told;
  const std::size_t before = entries.size();
  std::erase_if(entries, [&](const Entry& e) { return e.via != 0 && ++told[e.via] > per_source; });
  return before - entries.size();
}

}  // namespace psycho::poldercast
