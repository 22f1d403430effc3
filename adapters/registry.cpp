#include "adapters/registry.hpp"

#include <algorithm>

#include "adapters/multicast/multicast_adapter.hpp"
#include "adapters/nats/nats_adapter.hpp"
#include "adapters/poldercast/poldercast_adapter.hpp"

namespace psycho {

void AdapterRegistry::add(AdapterFactory factory) { factories_.push_back(std::move(factory)); }

std::vector<std::string> AdapterRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& f : factories_) names.push_back(f.name);
  return names;
}

std::vector<config::AdapterFlag> AdapterRegistry::flags() const {
  std::vector<config::AdapterFlag> flags;
  for (const auto& f : factories_) flags.insert(flags.end(), f.flags.begin(), f.flags.end());
  return flags;
}

Result<std::vector<std::unique_ptr<Adapter>>> AdapterRegistry::create_all(
    const std::vector<config::AdapterSection>& sections) const {
  std::vector<std::unique_ptr<Adapter>> adapters;
  // Every section is tried, so that --check-config names every adapter's problem at once.
  std::string problems;
  const auto note = [&](const std::string& problem) {
    problems += (problems.empty() ? "" : "\n") + problem;
  };
  for (const auto& section : sections) {
    auto it = std::find_if(factories_.begin(), factories_.end(),
                           [&](const AdapterFactory& f) { return f.name == section.name; });
    if (it == factories_.end()) {
      note("adapter '" + section.name + "' is not built into this gateway");
      continue;
    }
    auto adapter = it->create(section);
    if (!adapter) {
      note(adapter.error());
      continue;
    }
    adapters.push_back(std::move(adapter.value()));
  }
  if (!problems.empty()) return fail(problems);
  return adapters;
}

AdapterRegistry builtin_adapters() {
  AdapterRegistry registry;
  // One registry.add(...) line per adapter.
  registry.add(nats::adapter_factory());
  registry.add(multicast::adapter_factory());
  registry.add(poldercast::adapter_factory());
  return registry;
}

}  // namespace psycho
