// The subscription index: a trie over subject tokens with `*` and `>` branches.
//
// Not thread-safe by itself; the Router guards it with a reader/writer lock.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/subscriber.hpp"

namespace psycho {

struct SubscriptionEntry {
  std::shared_ptr<Subscriber> subscriber;
  std::string queue;  // empty: a plain subscription
};

class SubjectTrie {
 public:
  SubjectTrie();
  ~SubjectTrie();

  // Returns false when the subscriber already holds (pattern, queue).
  bool insert(std::string_view pattern, std::shared_ptr<Subscriber> subscriber,
              std::string_view queue);
  // Returns false when there was no such subscription.
  bool remove(std::string_view pattern, const Subscriber& subscriber, std::string_view queue);

  // Calls visit(const SubscriptionEntry&) for every subscription matching a literal subject.
  template <class F>
  void match(std::string_view subject, F&& visit) const {
    Visitor v(&visit, [](void* f, const SubscriptionEntry& e) { (*static_cast<F*>(f))(e); });
    match_impl(subject, v);
  }

  std::size_t size() const noexcept { return size_; }
  // Whether the subscriptions of exactly `pattern` are found through a hash index, as they
  // are past a few dozen: what keeps SUB and UNSUB on a crowded subject O(1). For tests.
  bool indexed(std::string_view pattern) const;

 private:
  struct Node;
  struct Visitor {
    void* fn;
    void (*call)(void*, const SubscriptionEntry&);
    Visitor(void* f, void (*c)(void*, const SubscriptionEntry&)) : fn(f), call(c) {}
    void operator()(const SubscriptionEntry& e) const { call(fn, e); }
  };

  void match_impl(std::string_view subject, const Visitor& visit) const;

  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
};

}  // namespace psycho
