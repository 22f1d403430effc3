#include "core/subject.hpp"

namespace psycho {
namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Checks the shape shared by patterns and literals; `allow_wildcards` decides about * and >.
bool valid_tokens(std::string_view subject, bool allow_wildcards) noexcept {
  if (subject.empty()) return false;
  for (char c : subject) {
    if (is_blank(c) || c == '\0') return false;
  }
  bool ok = true;
  bool seen_full_wildcard = false;
  for_each_token(subject, [&](std::string_view token) {
    if (token.empty() || seen_full_wildcard) ok = false;
    if (token == "*" || token == ">") {
      if (!allow_wildcards) ok = false;
      if (token == ">") seen_full_wildcard = true;
    }
  });
  return ok;
}

}  // namespace

bool is_valid_pattern(std::string_view subject) noexcept { return valid_tokens(subject, true); }

bool is_valid_publish_subject(std::string_view subject) noexcept {
  return valid_tokens(subject, false);
}

bool has_wildcard(std::string_view pattern) noexcept {
  bool wild = false;
  for_each_token(pattern, [&](std::string_view t) { wild = wild || t == "*" || t == ">"; });
  return wild;
}

bool subject_matches(std::string_view pattern, std::string_view subject) noexcept {
  while (true) {
    const std::size_t pd = pattern.find('.');
    const std::string_view ptoken = pattern.substr(0, pd);
    if (ptoken == ">") return !subject.empty();
    const std::size_t sd = subject.find('.');
    const std::string_view stoken = subject.substr(0, sd);
    if (ptoken != "*" && ptoken != stoken) return false;
    if (pd == std::string_view::npos || sd == std::string_view::npos) {
      return pd == std::string_view::npos && sd == std::string_view::npos;
    }
    pattern.remove_prefix(pd + 1);
    subject.remove_prefix(sd + 1);
  }
}

namespace {

// Takes the first token off `s` (and the dot after it); "" when `s` is empty.
std::string_view pop_token(std::string_view& s) noexcept {
  const std::size_t dot = s.find('.');
  const std::string_view token = s.substr(0, dot);
  s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  return token;
}

}  // namespace

std::string intersect_patterns(std::string_view a, std::string_view b) {
  std::string out;
  auto append = [&out](std::string_view tokens) {
    if (!out.empty()) out += '.';
    out += tokens;
  };
  while (!a.empty() && !b.empty()) {
    // `>` stands for one or more tokens: whatever the other side has left, if anything.
    if (a == ">") {
      append(b);
      return out;
    }
    if (b == ">") {
      append(a);
      return out;
    }
    const std::string_view ta = pop_token(a);
    const std::string_view tb = pop_token(b);
    if (ta == "*") {
      append(tb);
    } else if (tb == "*" || ta == tb) {
      append(ta);
    } else {
      return {};
    }
  }
  return a.empty() && b.empty() ? out : std::string();
}

bool pattern_covers(std::string_view wide, std::string_view narrow) noexcept {
  while (!wide.empty() && !narrow.empty()) {
    if (wide == ">") return true;
    const std::string_view tw = pop_token(wide);
    const std::string_view tn = pop_token(narrow);
    if (tn == ">") return false;  // wide has a single token here, narrow may have many
    if (tw != "*" && tw != tn) return false;
  }
  return wide.empty() && narrow.empty();
}

}  // namespace psycho
