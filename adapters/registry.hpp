// The explicit table of adapters: section name -> factory, built in one function
// (builtin_adapters) rather than by static self-registration, so what a binary contains is
// visible in one place and initialisation order never matters.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho {

struct AdapterFactory {
  std::string name;  // its config section, e.g. "nats"
  // Parses and validates the section (config::Section) and builds the adapter; errors name
  // file:line:col. Must not connect anywhere: that is start()'s job.
  std::function<Result<std::unique_ptr<Adapter>>(const config::AdapterSection&)> create;
  // Command-line shortcuts into its section, e.g. `--nats URL` -> nats.servers; each
  // adapter's config unit declares its own (command_line_flags()), beside parse_config.
  std::vector<config::AdapterFlag> flags;
};

// The usual AdapterFactory::create: parse the section with `parse` (returning a Result of
// the adapter's config), then build an AdapterT from that config.
template <class AdapterT, class Parse>
auto create_with(Parse parse) {
  return [parse](const config::AdapterSection& section) -> Result<std::unique_ptr<Adapter>> {
    auto config = parse(section);
    if (!config) return fail(config.error());
    return std::unique_ptr<Adapter>(std::make_unique<AdapterT>(std::move(config.value())));
  };
}

class AdapterRegistry {
 public:
  void add(AdapterFactory factory);
  std::vector<std::string> names() const;
  std::vector<config::AdapterFlag> flags() const;
  // Builds one adapter per configured section, in configuration order. Fails with every
  // section's problems, one per line, not only the first section's.
  Result<std::vector<std::unique_ptr<Adapter>>> create_all(
      const std::vector<config::AdapterSection>& sections) const;

 private:
  std::vector<AdapterFactory> factories_;
};

// Every adapter compiled into this gateway.
AdapterRegistry builtin_adapters();

}  // namespace psycho
