// The group keys of a keyed multicast group (docs/multicast.md#keys): read from a file that
// only its owner (and group) may read, such as a mounted Kubernetes Secret. One key a line,
// `ID SECRET`: ID 1-255 (it travels in every datagram, so two keys can be valid at once while
// they rotate), SECRET at least 32 bytes as hex or base64. The first line is the key this
// gateway sends with; every listed key is accepted. Blank lines and `#` comments are
// skipped. Errors name the file and line but never repeat a secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace psycho::multicast {

struct GroupKey {
  std::uint8_t id = 0;
  std::string secret;  // raw bytes, at least kMinSecretSize
  bool operator==(const GroupKey&) const = default;
};

inline constexpr std::size_t kMinSecretSize = 32;
inline constexpr std::size_t kMaxGroupKeys = 16;

// The keys in `text` (the contents of `file`, named in errors), the sending key first.
Result<std::vector<GroupKey>> parse_group_keys(std::string_view text, const std::string& file);

// Reads and parses `path`. Refused when anyone outside the file's owner and group may read
// it, or anyone but its owner may write it: a key that others can read is not secret, and
// one that others can write is not ours.
Result<std::vector<GroupKey>> read_group_keys(const std::string& path);

}  // namespace psycho::multicast
