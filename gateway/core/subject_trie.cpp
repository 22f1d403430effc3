#include "core/subject_trie.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "core/keyed_hash.hpp"
#include "core/string_hash.hpp"
#include "core/subject.hpp"

namespace psycho {

namespace {

// A node's subscriptions stay a plain vector while they are few; past this many, an index
// says where each one sits, so that subscribing and unsubscribing stay O(1) with 100,000
// subscribers on one subject (a linear search would make that quadratic).
constexpr std::size_t kIndexedAt = 32;

struct EntryKey {
  const Subscriber* subscriber;
  std::string queue;
  bool operator==(const EntryKey&) const = default;
};

struct EntryKeyHash {
  std::size_t operator()(const EntryKey& k) const noexcept {
    // Queue names are chosen by clients: keyed, like everything a peer chooses.
    return KeyedHash{}(reinterpret_cast<std::uintptr_t>(k.subscriber),
                       siphash<1, 3>(process_hash_key(), k.queue));
  }
};

}  // namespace

struct SubjectTrie::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> literal;
  std::unique_ptr<Node> star;  // `*`
  std::unique_ptr<Node> full;  // `>`
  std::vector<SubscriptionEntry> subs;
  std::unique_ptr<std::unordered_map<EntryKey, std::size_t, EntryKeyHash>> index;  // into subs

  bool empty() const { return literal.empty() && !star && !full && subs.empty(); }

  std::unique_ptr<Node>* child_slot(std::string_view token) {
    if (token == "*") return &star;
    if (token == ">") return &full;
    auto it = literal.find(token);
    if (it == literal.end()) it = literal.emplace(std::string(token), nullptr).first;
    return &it->second;
  }
  Node* find_child(std::string_view token) const {
    if (token == "*") return star.get();
    if (token == ">") return full.get();
    auto it = literal.find(token);
    return it == literal.end() ? nullptr : it->second.get();
  }

  // Position of (subscriber, queue) in subs, or subs.size().
  std::size_t find(const Subscriber* subscriber, std::string_view queue) const {
    if (index) {
      auto it = index->find(EntryKey{subscriber, std::string(queue)});
      return it == index->end() ? subs.size() : it->second;
    }
    for (std::size_t i = 0; i < subs.size(); ++i) {
      if (subs[i].subscriber.get() == subscriber && subs[i].queue == queue) return i;
    }
    return subs.size();
  }
  void add(std::shared_ptr<Subscriber> subscriber, std::string_view queue) {
    subs.push_back({std::move(subscriber), std::string(queue)});
    if (index) {
      index->emplace(EntryKey{subs.back().subscriber.get(), subs.back().queue}, subs.size() - 1);
    } else if (subs.size() > kIndexedAt) {
      index = std::make_unique<std::unordered_map<EntryKey, std::size_t, EntryKeyHash>>();
      for (std::size_t i = 0; i < subs.size(); ++i) {
        index->emplace(EntryKey{subs[i].subscriber.get(), subs[i].queue}, i);
      }
    }
  }
  // Swaps the last entry into the hole: order among a node's subscribers carries no meaning.
  void erase(std::size_t at) {
    if (index) index->erase(EntryKey{subs[at].subscriber.get(), subs[at].queue});
    if (at + 1 != subs.size()) {
      subs[at] = std::move(subs.back());
      if (index) (*index)[EntryKey{subs[at].subscriber.get(), subs[at].queue}] = at;
    }
    subs.pop_back();
    if (subs.empty()) index.reset();
  }
};

SubjectTrie::SubjectTrie() : root_(std::make_unique<Node>()) {}
SubjectTrie::~SubjectTrie() = default;

bool SubjectTrie::insert(std::string_view pattern, std::shared_ptr<Subscriber> subscriber,
                         std::string_view queue) {
  Node* node = root_.get();
  for_each_token(pattern, [&](std::string_view token) {
    std::unique_ptr<Node>* slot = node->child_slot(token);
    if (!*slot) *slot = std::make_unique<Node>();
    node = slot->get();
  });
  if (node->find(subscriber.get(), queue) != node->subs.size()) return false;
  node->add(std::move(subscriber), queue);
  ++size_;
  return true;
}

bool SubjectTrie::indexed(std::string_view pattern) const {
  const Node* node = root_.get();
  for_each_token(pattern, [&](std::string_view token) {
    if (node != nullptr) node = node->find_child(token);
  });
  return node != nullptr && node->index != nullptr;
}

bool SubjectTrie::remove(std::string_view pattern, const Subscriber& subscriber,
                         std::string_view queue) {
  // Walk down remembering the path so that emptied nodes can be pruned bottom-up.
  std::vector<std::pair<Node*, std::string_view>> path;
  Node* node = root_.get();
  bool found = true;
  for_each_token(pattern, [&](std::string_view token) {
    if (!found) return;
    Node* child = node->find_child(token);
    if (child == nullptr) {
      found = false;
      return;
    }
    path.emplace_back(node, token);
    node = child;
  });
  if (!found) return false;
  const std::size_t at = node->find(&subscriber, queue);
  if (at == node->subs.size()) return false;
  node->erase(at);
  --size_;
  for (auto p = path.rbegin(); p != path.rend(); ++p) {
    Node* parent = p->first;
    Node* child = parent->find_child(p->second);
    if (!child->empty()) break;
    if (p->second == "*") {
      parent->star.reset();
    } else if (p->second == ">") {
      parent->full.reset();
    } else {
      parent->literal.erase(parent->literal.find(p->second));
    }
  }
  return true;
}

namespace {

template <class NodeT, class Visit>
void match_node(const NodeT* node, std::string_view rest, bool at_end, const Visit& visit) {
  if (at_end) {
    for (const auto& e : node->subs) visit(e);
    return;
  }
  const std::size_t dot = rest.find('.');
  const std::string_view token = rest.substr(0, dot);
  const bool last = dot == std::string_view::npos;
  const std::string_view next = last ? std::string_view{} : rest.substr(dot + 1);
  if (node->full) {
    for (const auto& e : node->full->subs) visit(e);
  }
  if (node->star) match_node(node->star.get(), next, last, visit);
  auto it = node->literal.find(token);
  if (it != node->literal.end()) match_node(it->second.get(), next, last, visit);
}

}  // namespace

void SubjectTrie::match_impl(std::string_view subject, const Visitor& visit) const {
  if (subject.empty()) return;
  match_node(root_.get(), subject, false, visit);
}

}  // namespace psycho
