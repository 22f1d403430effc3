// Reading `gateway.auth` and `gateway.publish_rate` (docs/configuration.md#gatewayauth).
#pragma once

#include <string_view>

#include "config/config.hpp"
#include "config/section.hpp"

namespace psycho::config {

void read_auth(Section& gateway, AuthConfig& auth);
void read_rate(Section& parent, std::string_view key, RateLimitConfig& rate);

// Whether `hash` has the shape of a bcrypt hash ($2a$/$2b$/$2y$, cost, 53 characters).
bool is_bcrypt_hash(std::string_view hash) noexcept;

}  // namespace psycho::config
