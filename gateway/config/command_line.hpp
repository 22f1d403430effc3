// psycho-gateway's command line. Flags override the configuration file.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::config {

struct CommandLine {
  std::optional<std::string> config_file;
  std::optional<std::string> listen, websocket, admin, name;
  std::optional<std::string> websocket_static;  // --websocket-static DIR
  // --ports-file PATH: once every listener is open, the bound ports are written there as
  // JSON (net/ports_file.hpp), so that listeners can be given port 0.
  std::optional<std::string> ports_file;
  // --check-config FILE: the caller validates FILE (load_config_file, then the adapters'
  // factories) and exits 0 or 1; nothing is started.
  std::optional<std::string> check_config;
  bool stdio = false;
  bool help = false;
  bool version = false;
  // Flags that adapters register (for example `--nats URL`): (name without "--", value), in
  // command-line order; a flag given twice appears twice.
  std::vector<std::pair<std::string, std::string>> adapter_flags;
};

// How an adapter's flag lands in the configuration: `--<flag> VALUE` sets `<section>.<key>`
// to VALUE (to a list when the flag is repeated), overriding the file; when the file has no
// such section one is created, which enables the adapter. The adapter then validates the
// value like any other (config::Section, with ${VAR} expansion).
struct AdapterFlag {
  std::string flag;     // without "--", e.g. "nats"
  std::string section;  // e.g. "nats"
  std::string key;      // e.g. "servers"
  std::string help;     // for usage_text(), e.g. "URL     connect to this NATS server"
};
std::vector<std::string> flag_names(const std::vector<AdapterFlag>& adapter_flags);

// Accepts `--flag value` and `--flag=value`. `adapter_flag_names` are extra flags (without
// "--") that take a value. Unknown flags, values given to --stdio/--help/--version, and
// missing values are errors. A value that starts with "--" must use the `=` form, so that a
// forgotten value cannot swallow the next flag.
Result<CommandLine> parse_command_line(int argc, const char* const* argv,
                                       const std::vector<std::string>& adapter_flag_names = {});

std::string usage_text(const std::vector<AdapterFlag>& adapter_flags = {});

// Loads the file given with --config (or starts from the defaults), then applies the flags.
// In --stdio mode the TCP, WebSocket and admin listeners are off unless the file or a flag
// sets them: an application that spawns the gateway as its private subprocess must not
// collide over ports with another copy. Every entry of `command_line.adapter_flags` needs
// its AdapterFlag in `adapter_flags`.
Result<Config> resolve_config(const CommandLine& command_line,
                              const std::vector<std::string>& adapter_names,
                              const std::vector<AdapterFlag>& adapter_flags = {});

}  // namespace psycho::config
