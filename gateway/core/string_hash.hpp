// A transparent hash so that unordered containers keyed by std::string can be searched with
// a std::string_view (a view into a read buffer) without building a string first.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace psycho {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace psycho
