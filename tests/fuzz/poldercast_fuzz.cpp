// libFuzzer target for the PolderCast wire decoder, which reads what any peer on the
// overlay sends. Checks that decoding never crashes or reads out of bounds (ASan), and that
// the encoding is canonical: whatever decodes re-encodes to exactly the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/poldercast/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace psycho::poldercast;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_publication = 64 * 1024;  // small, so the bounds are reached
  Message m;
  if (decode(input, limits, m) != DecodeError::none) return 0;
  std::string again;
  encode(m, again);
  if (again != input) {
    std::fprintf(stderr, "poldercast_fuzz: a decoded message re-encodes differently\n");
    std::abort();
  }
  return 0;
}
