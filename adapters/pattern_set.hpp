// A set of subject patterns that answers one question fast: does any of them match this
// subject? For a sender that skips what nobody wants (multicast interest): built when the
// wanted patterns change, asked for every message. Patterns share a token trie, so asking
// costs a few hash lookups per token whatever the number of patterns, and never allocates.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/string_hash.hpp"

namespace psycho {

class PatternSet {
 public:
  PatternSet();
  ~PatternSet();
  PatternSet(PatternSet&&) noexcept;
  PatternSet& operator=(PatternSet&&) noexcept;

  // `pattern` must be a valid subject pattern (core/subject.hpp).
  void add(std::string_view pattern);
  bool matches(std::string_view subject) const noexcept;
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

 private:
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> literal;
    std::unique_ptr<Node> star;  // `*`: any one token
    bool rest = false;           // `>`: one or more tokens, whatever they are
    bool end = false;            // a pattern ends here
  };
  static bool matches(const Node& node, std::string_view rest) noexcept;

  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
};

}  // namespace psycho
