// psycho-gateway: speaks Psycho to clients and bridges subjects onto other fabrics.
#include <cstdio>
#include <iostream>

#include "adapters/registry.hpp"
#include "config/command_line.hpp"
#include "config/load.hpp"
#include "core/log.hpp"
#include "net/server.hpp"
#include "net/version.hpp"

int main(int argc, char** argv) {
  using namespace psycho;
  const AdapterRegistry registry = builtin_adapters();
  const std::vector<std::string> adapter_names = registry.names();

  auto command_line = config::parse_command_line(argc, argv, adapter_names);
  if (!command_line) {
    std::cerr << "psycho-gateway: " << command_line.error() << "\n\n" << config::usage_text();
    return 2;
  }
  if (command_line->help) {
    std::cout << config::usage_text();
    return 0;
  }
  if (command_line->version) {
    std::cout << "psycho-gateway " << kVersion << "\n";
    return 0;
  }
  if (command_line->check_config) {
    auto checked = config::load_config_file(*command_line->check_config, adapter_names);
    if (checked)
      checked = [&]() -> Result<config::Config> {
        auto adapters = registry.create_all(checked->adapters);
        if (!adapters) return fail(adapters.error());
        return std::move(checked.value());
      }();
    if (!checked) {
      std::cerr << checked.error() << "\n";
      return 1;
    }
    std::cout << *command_line->check_config << ": configuration is valid\n";
    return 0;
  }

  auto resolved = config::resolve_config(*command_line, adapter_names);
  if (!resolved) {
    std::cerr << "psycho-gateway: " << resolved.error() << "\n";
    return 1;
  }
  log::configure(resolved->log);

  net::Server server(std::move(resolved.value()), registry);
  if (auto started = server.start(); !started) {
    log::error("cannot start", {{"reason", started.error()}});
    return 1;
  }
  return server.run();
}
