#include "adapters/queue_settings.hpp"

#include <string>

namespace psycho {

void read_queue_settings(config::Section& s, QueueSettings& q) {
  s.get_size("queue_size", q.bytes, 64 << 10, std::size_t{4} << 30);
  s.get_size("queue_messages", q.messages, 16, std::size_t{1} << 30);
  std::string on_full = q.on_full == OnFull::block ? "block" : "drop";
  s.get("on_full", on_full);
  if (on_full == "block") {
    q.on_full = OnFull::block;
  } else if (on_full == "drop") {
    q.on_full = OnFull::drop;
  } else {
    s.error_at("on_full",
               "'" + s.name_of("on_full") + "' must be 'block' or 'drop', not '" + on_full + "'");
  }
  s.get_duration("block_timeout", q.block_timeout, std::chrono::milliseconds(1),
                 std::chrono::hours(1));
}

}  // namespace psycho
