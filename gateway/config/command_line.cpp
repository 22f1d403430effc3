#include "config/command_line.hpp"

#include <algorithm>
#include <string_view>

#include "config/load.hpp"
#include "config/section.hpp"

namespace psycho::config {

namespace {

struct ValueFlag {
  std::string_view name;
  std::optional<std::string> CommandLine::*target;
};

constexpr ValueFlag kValueFlags[] = {
    {"config", &CommandLine::config_file},
    {"listen", &CommandLine::listen},
    {"websocket", &CommandLine::websocket},
    {"websocket-static", &CommandLine::websocket_static},
    {"admin", &CommandLine::admin},
    {"name", &CommandLine::name},
    {"check-config", &CommandLine::check_config},
    {"ports-file", &CommandLine::ports_file},
};

struct SwitchFlag {
  std::string_view name;
  bool CommandLine::*target;
};

constexpr SwitchFlag kSwitches[] = {{"stdio", &CommandLine::stdio},
                                    {"help", &CommandLine::help},
                                    {"version", &CommandLine::version}};

template <class Table>
auto find_flag(const Table& table, std::string_view name) {
  return std::find_if(std::begin(table), std::end(table),
                      [&](const auto& f) { return f.name == name; });
}

// One argument (and maybe the next, as its value); advances `i` past what it used.
Status parse_one(int argc, const char* const* argv, int& i,
                 const std::vector<std::string>& adapter_flag_names, CommandLine& cl) {
  std::string_view arg = argv[i++];
  if (arg == "-h") arg = "--help";
  if (!arg.starts_with("--")) return fail("unexpected argument '" + std::string(arg) + "'");
  arg.remove_prefix(2);
  std::optional<std::string> value;
  if (const auto eq = arg.find('='); eq != std::string_view::npos) {
    value = std::string(arg.substr(eq + 1));
    arg = arg.substr(0, eq);
  }
  const std::string dashed = "--" + std::string(arg);
  if (auto sw = find_flag(kSwitches, arg); sw != std::end(kSwitches)) {
    if (value) return fail("option '" + dashed + "' takes no value");
    cl.*(sw->target) = true;
    return Ok{};
  }
  const auto* flag = find_flag(kValueFlags, arg);
  const bool adapter_flag = flag == std::end(kValueFlags) &&
                            std::find(adapter_flag_names.begin(), adapter_flag_names.end(), arg) !=
                                adapter_flag_names.end();
  if (flag == std::end(kValueFlags) && !adapter_flag) {
    return fail("unknown option '" + dashed + "'");
  }
  if (!value) {
    if (i >= argc || std::string_view(argv[i]).starts_with("--")) {
      return fail("option '" + dashed + "' needs a value");
    }
    value = argv[i++];
  }
  if (adapter_flag) {
    cl.adapter_flags.emplace_back(std::string(arg), std::move(*value));
  } else {
    cl.*(flag->target) = std::move(*value);
  }
  return Ok{};
}

Status apply_endpoint(const std::optional<std::string>& flag, std::string_view name,
                      Endpoint& out) {
  if (!flag) return Ok{};
  if (!parse_endpoint(*flag, out)) {
    return fail("--" + std::string(name) + ": expected host:port, [ipv6]:port or \"\", not '" +
                *flag + "'");
  }
  return Ok{};
}

AdapterSection& section_for(Config& config, const std::string& name) {
  auto it = std::find_if(config.adapters.begin(), config.adapters.end(),
                         [&](const AdapterSection& s) { return s.name == name; });
  if (it != config.adapters.end()) return *it;
  // No file position to point at: the adapter's messages then name just the key.
  return config.adapters.emplace_back(AdapterSection{name, YAML::Node(YAML::NodeType::Map), ""});
}

// Gathers each adapter flag's values (repeats make a list) and sets them in its section.
Status apply_adapter_flags(const CommandLine& cl, const std::vector<std::string>& adapter_names,
                           const std::vector<AdapterFlag>& specs, Config& config) {
  for (const auto& [flag, value] : cl.adapter_flags) {
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&name = flag](const AdapterFlag& s) { return s.flag == name; });
    if (spec == specs.end() || std::find(adapter_names.begin(), adapter_names.end(),
                                         spec->section) == adapter_names.end()) {
      return fail("option '--" + flag + "' belongs to no adapter built into this gateway");
    }
    AdapterSection& section = section_for(config, spec->section);
    if (!section.node || section.node.IsNull()) section.node = YAML::Node(YAML::NodeType::Map);
    if (!section.node.IsMap()) continue;  // the adapter reports "must be a mapping"
    std::vector<std::string> values;
    for (const auto& [other, v] : cl.adapter_flags) {
      if (other == flag) values.push_back(v);
    }
    YAML::Node node;
    for (const auto& v : values) node.push_back(v);
    section.node[spec->key] = values.size() == 1 ? YAML::Node(values.front()) : node;
  }
  return Ok{};
}

Status apply_flags(const CommandLine& cl, Config& config) {
  for (auto [flag, name, target] :
       {std::tuple{&cl.listen, "listen", &config.gateway.listen},
        std::tuple{&cl.websocket, "websocket", &config.gateway.websocket},
        std::tuple{&cl.admin, "admin", &config.gateway.admin}}) {
    if (auto st = apply_endpoint(*flag, name, *target); !st) return st;
  }
  if (cl.name) {
    if (cl.name->empty()) return fail("--name: must not be empty");
    config.gateway.name = *cl.name;
  }
  if (cl.websocket_static) config.gateway.websocket_static = *cl.websocket_static;
  if (cl.ports_file) {
    if (cl.ports_file->empty()) return fail("--ports-file: must not be empty");
    config.ports_file = *cl.ports_file;
  }
  return Ok{};
}

}  // namespace

std::vector<std::string> flag_names(const std::vector<AdapterFlag>& adapter_flags) {
  std::vector<std::string> names;
  for (const auto& f : adapter_flags) names.push_back(f.flag);
  return names;
}

std::string usage_text(const std::vector<AdapterFlag>& adapter_flags) {
  std::string text =
      "usage: psycho-gateway [options]\n"
      "       psycho-gateway passwd [--cost N]   print a bcrypt hash for gateway.auth.users\n"
      "\n"
      "  --config FILE         YAML configuration (see deploy/psycho-gateway.yaml)\n"
      "  --listen HOST:PORT    Psycho over TCP (default 127.0.0.1:4242; \"\" disables)\n"
      "  --websocket HOST:PORT Psycho over WebSocket (default 127.0.0.1:4243; \"\" disables)\n"
      "  --websocket-static DIR\n"
      "                        also serve DIR's files over HTTP on the WebSocket port\n"
      "  --admin HOST:PORT     /metrics /healthz /readyz /varz (default 127.0.0.1:9242)\n"
      "  --name NAME           server name announced in INFO\n"
      "  --stdio               serve one client on stdin/stdout (listeners off unless set)\n"
      "  --ports-file FILE     once listening, write the bound ports there as JSON\n"
      "                        (for listeners given port 0)\n"
      "  --check-config FILE   validate FILE and exit (non-zero with file:line:col on error)\n";
  for (const auto& f : adapter_flags) text += "  --" + f.flag + " " + f.help + "\n";
  text +=
      "  --version, --help\n"
      "\n"
      "Flags take `--flag value` or `--flag=value` and override the file.\n";
  return text;
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv,
                                       const std::vector<std::string>& adapter_flag_names) {
  CommandLine cl;
  for (int i = 1; i < argc;) {
    if (auto st = parse_one(argc, argv, i, adapter_flag_names, cl); !st) return fail(st.error());
  }
  return cl;
}

Result<Config> resolve_config(const CommandLine& cl, const std::vector<std::string>& adapter_names,
                              const std::vector<AdapterFlag>& adapter_flags) {
  // The stdio rule works through the defaults: a listener the file sets keeps its value,
  // even one equal to the usual default.
  Config defaults;
  if (cl.stdio) {
    defaults.stdio = true;
    defaults.gateway.listen = defaults.gateway.websocket = defaults.gateway.admin = Endpoint{};
  }
  Config config = defaults;
  if (cl.config_file) {
    auto loaded = load_config_file(*cl.config_file, adapter_names, defaults);
    if (!loaded) return fail(loaded.error());
    config = std::move(loaded.value());
  }
  if (auto st = apply_flags(cl, config); !st) return fail(st.error());
  if (auto st = apply_adapter_flags(cl, adapter_names, adapter_flags, config); !st) {
    return fail(st.error());
  }
  return config;
}

}  // namespace psycho::config
