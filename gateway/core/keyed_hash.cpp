#include "core/keyed_hash.hpp"

#include <random>

namespace psycho {

const HashKey& process_hash_key() {
  // A function-local static: initialised once, thread-safely, on first use.
  static const HashKey key = [] {
    std::random_device random;
    auto word = [&random] { return (static_cast<std::uint64_t>(random()) << 32) ^ random(); };
    return HashKey{word(), word()};
  }();
  return key;
}

}  // namespace psycho
