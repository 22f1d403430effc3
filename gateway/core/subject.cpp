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

}  // namespace psycho
