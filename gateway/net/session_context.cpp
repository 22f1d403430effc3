#include "net/session_context.hpp"

namespace psycho::net {

SessionContext::SessionContext(Router& r, const config::GatewayConfig& c, int workers)
    : router(r),
      config(c),
      limits{c.max_control_line, c.max_payload},
      sessions(static_cast<std::size_t>(workers)) {
  for (int i = 0; i < workers; ++i) counters.push_back(std::make_unique<metrics::WorkerCounters>());
}

}  // namespace psycho::net
