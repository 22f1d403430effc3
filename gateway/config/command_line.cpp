#include "config/command_line.hpp"

#include <algorithm>
#include <string_view>

#include "config/load.hpp"
#include "config/section.hpp"

namespace psycho::config {

namespace {

struct Flag {
  std::string_view name;
  std::optional<std::string> CommandLine::*target;
};

constexpr Flag kValueFlags[] = {
    {"config", &CommandLine::config_file},  {"listen", &CommandLine::listen},
    {"websocket", &CommandLine::websocket}, {"admin", &CommandLine::admin},
    {"name", &CommandLine::name},           {"check-config", &CommandLine::check_config},
};

}  // namespace

std::string usage_text() {
  return "usage: psycho-gateway [options]\n"
         "\n"
         "  --config FILE         YAML configuration (see deploy/psycho-gateway.yaml)\n"
         "  --listen HOST:PORT    Psycho over TCP (default 127.0.0.1:4242; \"\" disables)\n"
         "  --websocket HOST:PORT Psycho over WebSocket (default 127.0.0.1:4243; \"\" disables)\n"
         "  --admin HOST:PORT     /metrics /healthz /readyz /varz (default 127.0.0.1:9242)\n"
         "  --name NAME           server name announced in INFO\n"
         "  --stdio               serve one client on stdin/stdout (listeners off unless set)\n"
         "  --check-config FILE   validate FILE and exit (non-zero with file:line:col on error)\n"
         "  --version, --help\n";
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv,
                                       const std::vector<std::string>& adapter_flag_names) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      cl.help = true;
      continue;
    }
    if (arg == "--version") {
      cl.version = true;
      continue;
    }
    if (arg == "--stdio") {
      cl.stdio = true;
      continue;
    }
    if (!arg.starts_with("--")) return fail("unexpected argument '" + std::string(arg) + "'");
    arg.remove_prefix(2);
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    }
    const auto* flag = std::find_if(std::begin(kValueFlags), std::end(kValueFlags),
                                    [&](const Flag& f) { return f.name == arg; });
    const bool adapter_flag = std::find(adapter_flag_names.begin(), adapter_flag_names.end(),
                                        arg) != adapter_flag_names.end();
    if (flag == std::end(kValueFlags) && !adapter_flag) {
      return fail("unknown option '--" + std::string(arg) + "'");
    }
    if (!value) {
      if (i + 1 >= argc) return fail("option '--" + std::string(arg) + "' needs a value");
      value = argv[++i];
    }
    if (adapter_flag) {
      cl.adapter_flags.emplace_back(std::string(arg), *value);
    } else {
      cl.*(flag->target) = *value;
    }
  }
  return cl;
}

namespace {

Status apply_endpoint(const std::optional<std::string>& flag, std::string_view name,
                      Endpoint& out) {
  if (!flag) return Ok{};
  if (!parse_endpoint(*flag, out)) {
    return fail("--" + std::string(name) + ": expected host:port, [ipv6]:port or \"\", not '" +
                *flag + "'");
  }
  return Ok{};
}

}  // namespace

Result<Config> resolve_config(const CommandLine& cl,
                              const std::vector<std::string>& adapter_names) {
  Config config;
  if (cl.config_file) {
    auto loaded = load_config_file(*cl.config_file, adapter_names);
    if (!loaded) return fail(loaded.error());
    config = std::move(loaded.value());
  }
  if (cl.stdio) {
    config.stdio = true;
    // Listeners stay on only where the file set them explicitly.
    const GatewayConfig defaults;
    auto off_if_default = [](Endpoint& e, const Endpoint& d) {
      if (e.host == d.host && e.port == d.port) e = Endpoint{};
    };
    off_if_default(config.gateway.listen, defaults.listen);
    off_if_default(config.gateway.websocket, defaults.websocket);
    off_if_default(config.gateway.admin, defaults.admin);
  }
  for (auto [flag, name, target] :
       {std::tuple{&cl.listen, "listen", &config.gateway.listen},
        std::tuple{&cl.websocket, "websocket", &config.gateway.websocket},
        std::tuple{&cl.admin, "admin", &config.gateway.admin}}) {
    if (auto st = apply_endpoint(*flag, name, *target); !st) return fail(st.error());
  }
  if (cl.name) config.gateway.name = *cl.name;
  return config;
}

}  // namespace psycho::config
