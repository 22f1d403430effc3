// Subject rules (the NATS ones): dot-separated, non-empty tokens, no whitespace.
// A subscription pattern may use `*` (exactly one token) and `>` (one or more trailing
// tokens, last token only). A publish subject must be literal: no token is `*` or `>`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace psycho {

bool is_valid_pattern(std::string_view subject) noexcept;
bool is_valid_publish_subject(std::string_view subject) noexcept;
bool has_wildcard(std::string_view pattern) noexcept;

// Whether a literal subject matches a (valid) pattern.
bool subject_matches(std::string_view pattern, std::string_view subject) noexcept;

// The subjects two (valid) patterns both match, as one pattern, or "" when they share none:
// intersect("a.*", "*.b") == "a.b", intersect("a.>", "a.*.c") == "a.*.c".
std::string intersect_patterns(std::string_view a, std::string_view b);
// Whether every subject `narrow` matches is matched by `wide` (both valid patterns).
bool pattern_covers(std::string_view wide, std::string_view narrow) noexcept;

// Splits a subject into tokens without allocating: calls f(token) for each token in order.
template <class F>
void for_each_token(std::string_view subject, F&& f) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = subject.find('.', start);
    if (dot == std::string_view::npos) {
      f(subject.substr(start));
      return;
    }
    f(subject.substr(start, dot - start));
    start = dot + 1;
  }
}

}  // namespace psycho
