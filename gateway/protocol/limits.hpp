// Protocol limits shared by the parser, the sessions and the INFO line.
#pragma once

#include <cstddef>

namespace psycho::protocol {

struct Limits {
  // Longest control line (op name and arguments, without the line end) a peer may send.
  std::size_t max_control_line = 4 * 1024;
  // Largest PUB/HPUB body (headers plus payload); announced to clients in INFO.
  std::size_t max_payload = 1024 * 1024;
};

}  // namespace psycho::protocol
