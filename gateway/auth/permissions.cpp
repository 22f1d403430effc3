#include "auth/permissions.hpp"

#include <algorithm>

#include "core/subject.hpp"

namespace psycho::auth {

namespace {

bool any_matches(const std::vector<std::string>& patterns, std::string_view subject) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return subject_matches(p, subject); });
}

bool any_covers(const std::vector<std::string>& patterns, std::string_view pattern) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return pattern_covers(p, pattern); });
}

bool allows_all(const SubjectRules& rules) noexcept {
  return rules.deny.empty() &&
         (rules.allow.empty() ||
          std::find(rules.allow.begin(), rules.allow.end(), ">") != rules.allow.end());
}

}  // namespace

Permissions::Permissions(SubjectRules publish, SubjectRules subscribe, bool allow_responses,
                         std::chrono::milliseconds response_expiry)
    : publish_(std::move(publish)),
      subscribe_(std::move(subscribe)),
      allow_responses_(allow_responses),
      response_expiry_(response_expiry),
      filters_delivery_(!allows_all(subscribe_)) {}

bool Permissions::may_publish(std::string_view subject) const noexcept {
  if (any_matches(publish_.deny, subject)) return false;
  return publish_.allow.empty() || any_matches(publish_.allow, subject);
}

bool Permissions::may_subscribe(std::string_view pattern) const noexcept {
  if (any_covers(subscribe_.deny, pattern)) return false;
  return subscribe_.allow.empty() || any_covers(subscribe_.allow, pattern);
}

bool Permissions::may_receive(std::string_view subject) const noexcept {
  if (any_matches(subscribe_.deny, subject)) return false;
  return subscribe_.allow.empty() || any_matches(subscribe_.allow, subject);
}

bool Permissions::restricted() const noexcept {
  return !allows_all(publish_) || !allows_all(subscribe_);
}

}  // namespace psycho::auth
