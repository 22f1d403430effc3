#include "auth/bcrypt.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

#include "config/auth.hpp"

namespace psycho::auth {

Result<std::string> bcrypt_hash(std::string_view password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // A null random source makes libcrypt read the system's random generator.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof setting) == nullptr) {
    return fail("cannot make a bcrypt salt (cost must be 4 to 31)");
  }
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  if (out == nullptr || out[0] == '*') return fail("bcrypt failed");
  return std::string(out);
}

bool bcrypt_verify(std::string_view password, const std::string& hash) {
  if (!config::is_bcrypt_hash(hash)) return false;
  auto data = std::make_unique<crypt_data>();  // about 32 KiB: not for the stack
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || std::strlen(out) != hash.size()) return false;
  return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

}  // namespace psycho::auth
