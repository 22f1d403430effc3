// libFuzzer target for the CONNECT JSON reader, which reads credentials from untrusted
// clients before they are authenticated. Checks that it never crashes or reads out of
// bounds (ASan), that a failed parse leaves the options untouched, and that parsing what it
// accepted is stable (the same input gives the same options twice).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "protocol/connect_options.hpp"

namespace {

using psycho::protocol::ConnectOptions;

bool same(const ConnectOptions& a, const ConnectOptions& b) {
  return a.verbose == b.verbose && a.echo == b.echo && a.headers == b.headers &&
         a.pedantic == b.pedantic && a.name == b.name && a.user == b.user && a.pass == b.pass &&
         a.auth_token == b.auth_token && a.hmac_ts == b.hmac_ts &&
         a.hmac_nonce == b.hmac_nonce && a.hmac_sig == b.hmac_sig;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "connect_fuzz: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  ConnectOptions before;
  before.name = "unchanged";
  ConnectOptions first = before;
  const auto ec = psycho::protocol::parse_connect_options(json, first);
  if (ec) {
    check(same(first, before), "a failed parse changed the options");
    return 0;
  }
  ConnectOptions second = before;
  check(!psycho::protocol::parse_connect_options(json, second), "accepted once, refused twice");
  check(same(first, second), "the same input gave different options");
  return 0;
}
