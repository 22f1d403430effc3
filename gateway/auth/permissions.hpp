// Per-user subject permissions: what a client may publish to, subscribe to, and receive.
//
// Each direction has an allow list and a deny list of subject patterns; an empty allow list
// allows everything, and deny wins. A subscription is refused when no allow pattern covers
// it or a deny pattern covers all of it; a subscription that only overlaps a deny pattern
// (`orders.>` against deny `orders.admin.>`) is accepted, and the denied subjects are
// filtered out when messages are delivered, whether they come from clients or adapters.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace psycho::auth {

struct SubjectRules {
  std::vector<std::string> allow;  // empty: everything
  std::vector<std::string> deny;
};

class Permissions {
 public:
  Permissions() = default;  // everything allowed
  Permissions(SubjectRules publish, SubjectRules subscribe, bool allow_responses,
              std::chrono::milliseconds response_expiry = std::chrono::minutes(1));

  bool may_publish(std::string_view subject) const noexcept;
  bool may_subscribe(std::string_view pattern) const noexcept;
  // Whether a message on `subject` may be delivered to the client.
  bool may_receive(std::string_view subject) const noexcept;
  // False when may_receive is true for every subject (so deliveries need no check).
  bool filters_delivery() const noexcept { return filters_delivery_; }
  // A client may answer requests it received from someone else, once each and within
  // response_expiry, even where it may not publish otherwise.
  bool allow_responses() const noexcept { return allow_responses_; }
  std::chrono::milliseconds response_expiry() const noexcept { return response_expiry_; }
  bool restricted() const noexcept;

 private:
  SubjectRules publish_, subscribe_;
  bool allow_responses_ = false;
  std::chrono::milliseconds response_expiry_{std::chrono::minutes(1)};
  bool filters_delivery_ = false;
};

}  // namespace psycho::auth
