// What a reload (SIGHUP, or the configuration file changing) may change in a running
// gateway. Limits, users and permissions, secrets and logging change live; listeners, TLS,
// sizes that clients were told in INFO, worker count and adapter sections need a restart, and
// a reload that touches any of them is refused whole (the running configuration stays).
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace psycho::config {

struct ReloadPlan {
  std::vector<std::string> needs_restart;  // keys that differ but cannot change live
  std::vector<std::string> live;           // keys that differ and will change
};

ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace psycho::config
