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
  std::optional<std::string> check_config;  // validate this file and exit
  bool stdio = false;
  bool help = false;
  bool version = false;
  // Flags that adapters register (for example `--nats URL`): (name without "--", value).
  std::vector<std::pair<std::string, std::string>> adapter_flags;
};

// Accepts `--flag value` and `--flag=value`. `adapter_flag_names` are extra flags (without
// "--") that take a value. Unknown flags and missing values are errors.
Result<CommandLine> parse_command_line(int argc, const char* const* argv,
                                       const std::vector<std::string>& adapter_flag_names = {});

std::string usage_text();

// Loads the file given with --config (or starts from the defaults), then applies the flags.
// In --stdio mode the TCP, WebSocket and admin listeners are off unless the file or a flag
// turns them on: an application that spawns the gateway as its private subprocess should
// not collide with another copy over ports.
Result<Config> resolve_config(const CommandLine& command_line,
                              const std::vector<std::string>& adapter_names);

}  // namespace psycho::config
