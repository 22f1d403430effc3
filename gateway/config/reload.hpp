// What a reload (SIGHUP, or the configuration file changing) may change in a running
// gateway. Limits, users and permissions, secrets and logging change live; listeners, TLS,
// sizes that clients were told in INFO, the worker count and the set of adapters need a
// restart, and a reload that touches any of them is refused whole (the running configuration
// stays). A changed adapter section is for the adapter to accept (its subject lists, say) or
// refuse.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace psycho::config {

struct ReloadPlan {
  std::vector<std::string> needs_restart;  // keys that differ but cannot change live
  std::vector<std::string> live;           // keys that differ and will change
  // Adapter sections that differ: each adapter decides (Adapter::reconfigure).
  std::vector<std::string> changed_adapters;
};

ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace psycho::config
