// A transparent hash so that unordered containers keyed by std::string can be searched with
// a std::string_view (a view into a read buffer) without building a string first. Keyed
// (core/keyed_hash.hpp): the strings are subjects and names that clients choose, and with a
// fixed hash a client could fill one bucket of the trie or of a worker's match cache.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/keyed_hash.hpp"

namespace psycho {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return static_cast<std::size_t>(siphash<1, 3>(process_hash_key(), s));
  }
};

}  // namespace psycho
