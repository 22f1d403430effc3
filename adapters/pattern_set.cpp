#include "adapters/pattern_set.hpp"

#include "core/subject.hpp"

namespace psycho {

PatternSet::PatternSet() : root_(std::make_unique<Node>()) {}
PatternSet::~PatternSet() = default;
PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;

void PatternSet::add(std::string_view pattern) {
  Node* node = root_.get();
  bool ended = false;
  for_each_token(pattern, [&](std::string_view token) {
    if (ended) return;
    if (token == ">") {
      node->rest = true;
      ended = true;
      return;
    }
    std::unique_ptr<Node>* child = nullptr;
    if (token == "*") {
      child = &node->star;
    } else {
      auto it = node->literal.find(token);
      if (it == node->literal.end()) it = node->literal.emplace(std::string(token), nullptr).first;
      child = &it->second;
    }
    if (!*child) *child = std::make_unique<Node>();
    node = child->get();
  });
  if (!ended) node->end = true;
  ++size_;
}

bool PatternSet::matches(std::string_view subject) const noexcept {
  return size_ > 0 && matches(*root_, subject);
}

// `rest`: the tokens still to match, never empty (a subject has at least one token).
bool PatternSet::matches(const Node& node, std::string_view rest) noexcept {
  if (node.rest) return true;
  const std::size_t dot = rest.find('.');
  const std::string_view token = rest.substr(0, dot);
  const bool last = dot == std::string_view::npos;
  auto next = [&](const Node& child) {
    return last ? child.end : matches(child, rest.substr(dot + 1));
  };
  if (auto it = node.literal.find(token); it != node.literal.end() && next(*it->second)) {
    return true;
  }
  return node.star && next(*node.star);
}

}  // namespace psycho
