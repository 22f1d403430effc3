// Turns the gateway's interest (distinct local subscription patterns, reported by the
// router) into subscriptions on a fabric that delivers one copy per matching subscription,
// as NATS does to a client:
//
// - each local pattern maps to fabric patterns through the SubjectFilter, and each fabric
//   pattern is subscribed once, with a reference count, until nobody needs it;
// - the static `import` patterns are held for the table's whole life;
// - when two live fabric subscriptions overlap (say `a.*` and `*.b`), a message matching
//   both arrives twice; owns() picks exactly one of the copies to keep: the one that came
//   through the oldest live subscription matching the subject.
//
// Not thread-safe except owns() and covers(), which may run on any thread while the owner
// thread changes the table.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/subject_filter.hpp"
#include "core/mutex.hpp"

namespace psycho {

class InterestTable {
 public:
  using SubscriptionId = std::uint64_t;

  struct Changes {
    std::vector<std::pair<SubscriptionId, std::string>> subscribe;  // id, fabric pattern
    std::vector<SubscriptionId> unsubscribe;
    bool empty() const { return subscribe.empty() && unsubscribe.empty(); }
  };

  explicit InterestTable(std::shared_ptr<const SubjectFilter> filter)
      : filter_(std::move(filter)) {}

  // The static imports; call once, first.
  Changes start();
  // A local pattern gained its first subscriber (added) or lost its last one.
  Changes change(std::string_view local_pattern, bool added);
  // The subject lists changed (a reload): maps the same local interest through `filter`.
  // Subscriptions still needed stay; new ones come before the old ones go.
  Changes refilter(std::shared_ptr<const SubjectFilter> filter);

  // Any thread: whether a message that arrived through subscription `id` on `fabric_subject`
  // is the copy to keep. Without overlaps every copy is; otherwise unknown ids (already
  // removed) own nothing.
  bool owns(SubscriptionId id, std::string_view fabric_subject) const;
  // Any thread: whether some live subscription brings in `fabric_subject`.
  bool covers(std::string_view fabric_subject) const;

  std::size_t size() const;
  std::vector<std::string> patterns() const;  // live fabric patterns, for /varz
  // Every live subscription, to subscribe again on a new connection.
  std::vector<std::pair<SubscriptionId, std::string>> live() const;

 private:
  struct Live {
    std::string pattern;
    int refs = 0;
    std::vector<SubscriptionId> older_overlaps;  // live, older, sharing some subject
  };

  void acquire(const std::string& fabric_pattern, Changes& changes);
  void release(const std::string& fabric_pattern, Changes& changes);

  std::shared_ptr<const SubjectFilter> filter_;
  std::map<std::string, std::vector<std::string>, std::less<>> local_;  // local -> fabric
  std::map<std::string, SubscriptionId, std::less<>> by_pattern_;
  mutable SharedMutex mutex_;  // live_ against owns()/covers()
  std::map<SubscriptionId, Live> live_ GUARDED_BY(mutex_);
  std::atomic<std::size_t> overlapping_{0};  // live entries with older overlaps
  SubscriptionId next_id_ = 1;
};

}  // namespace psycho
