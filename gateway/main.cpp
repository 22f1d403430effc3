// psycho-gateway: speaks Psycho to clients and bridges subjects onto other fabrics.
#include <iostream>
#include <string_view>

#include "adapters/registry.hpp"
#include "config/command_line.hpp"
#include "config/load.hpp"
#include "core/log.hpp"
#include "net/server.hpp"
#include "net/version.hpp"
#include "passwd.hpp"

namespace {

using namespace psycho;

// --check-config: the file must load, and every adapter must accept its section.
int check_config(const std::string& path, const AdapterRegistry& registry) {
  auto checked = config::load_config_file(path, registry.names());
  if (checked) {
    if (auto adapters = registry.create_all(checked->adapters); !adapters) {
      checked = fail(adapters.error());
    }
  }
  if (!checked) {
    std::cerr << checked.error() << "\n";
    return 1;
  }
  std::cout << path << ": configuration is valid\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "passwd") return run_passwd(argc, argv);
  const AdapterRegistry registry = builtin_adapters();
  const std::vector<config::AdapterFlag> adapter_flags = registry.flags();

  auto command_line = config::parse_command_line(argc, argv, config::flag_names(adapter_flags));
  if (!command_line) {
    std::cerr << "psycho-gateway: " << command_line.error() << "\n\n"
              << config::usage_text(adapter_flags);
    return 2;
  }
  if (command_line->help) {
    std::cout << config::usage_text(adapter_flags);
    return 0;
  }
  if (command_line->version) {
    std::cout << "psycho-gateway " << kVersion << "\n";
    return 0;
  }
  if (command_line->check_config) return check_config(*command_line->check_config, registry);

  // Before the file is read: a change after this point is one the watcher must see.
  const std::string stamp =
      command_line->config_file ? net::file_stamp(*command_line->config_file) : "";
  auto resolved = config::resolve_config(*command_line, registry.names(), adapter_flags);
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
  if (command_line->config_file) {
    // A reload reads the same file with the same flags on top, as at start.
    server.set_reload_source(
        [cl = *command_line, &registry, &adapter_flags] {
          return config::resolve_config(cl, registry.names(), adapter_flags);
        },
        *command_line->config_file, stamp);
  }
  return server.run();
}
