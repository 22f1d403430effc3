#include "core/subject_trie.hpp"

#include <algorithm>
#include <functional>

#include "core/string_hash.hpp"
#include "core/subject.hpp"

namespace psycho {

struct SubjectTrie::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> literal;
  std::unique_ptr<Node> star;  // `*`
  std::unique_ptr<Node> full;  // `>`
  std::vector<SubscriptionEntry> subs;

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
  const bool exists = std::any_of(node->subs.begin(), node->subs.end(), [&](const auto& e) {
    return e.subscriber.get() == subscriber.get() && e.queue == queue;
  });
  if (exists) return false;
  node->subs.push_back({std::move(subscriber), std::string(queue)});
  ++size_;
  return true;
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
  auto it = std::find_if(node->subs.begin(), node->subs.end(), [&](const auto& e) {
    return e.subscriber.get() == &subscriber && e.queue == queue;
  });
  if (it == node->subs.end()) return false;
  node->subs.erase(it);
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
