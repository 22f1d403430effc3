// bcrypt password hashes ($2b$) through the system's libcrypt (libxcrypt on Debian).
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace psycho::auth {

// A new hash of `password` with a random salt; cost 4..31 (12 takes about 0.25 s here).
Result<std::string> bcrypt_hash(std::string_view password, int cost = 12);
// Whether `password` matches `hash`. Slow on purpose (the hash's cost); constant-time in
// the comparison. False for anything that is not a bcrypt hash.
bool bcrypt_verify(std::string_view password, const std::string& hash);

}  // namespace psycho::auth
