// Flags, and how they combine with the file: flags win; --stdio turns default listeners off.
#include "config/command_line.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

namespace psycho::config {
namespace {

const std::vector<std::string> kAdapters = {"nats", "multicast"};
const std::vector<AdapterFlag> kAdapterFlags = {
    {"nats", "nats", "servers", "URL            connect to this NATS server"},
    {"multicast-group", "multicast", "group", "ADDR  join this group"},
};

// A temporary config file, removed at the end of the test.
class TempConfig {
 public:
  explicit TempConfig(const std::string& yaml) {
    const int fd = ::mkstemp(path_.data());
    if (fd >= 0) ::close(fd);
    std::ofstream(path_) << yaml;
  }
  ~TempConfig() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_ = "/tmp/psycho-cl-test-XXXXXX";
};

Result<CommandLine> parse(std::vector<std::string> args,
                          const std::vector<std::string>& adapter_flags = {}) {
  std::vector<const char*> argv = {"psycho-gateway"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data(), adapter_flags);
}

Result<Config> resolve(std::vector<std::string> args) {
  auto cl = parse(std::move(args), flag_names(kAdapterFlags));
  if (!cl) return fail(cl.error());
  return resolve_config(*cl, kAdapters, kAdapterFlags);
}

TEST(CommandLine, EveryFlagInBothForms) {
  auto cl =
      parse({"--config", "a.yaml", "--listen=1.2.3.4:1", "--websocket", "", "--admin=", "--name",
             "n", "--stdio", "--check-config=c.yaml", "--help", "--version"});
  ASSERT_TRUE(cl) << cl.error();
  EXPECT_EQ(cl->config_file, "a.yaml");
  EXPECT_EQ(cl->listen, "1.2.3.4:1");
  EXPECT_EQ(cl->websocket, "");
  EXPECT_EQ(cl->admin, "");
  EXPECT_EQ(cl->name, "n");
  EXPECT_EQ(cl->check_config, "c.yaml");
  EXPECT_TRUE(cl->stdio && cl->help && cl->version);
  auto none = parse({});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->config_file || none->listen || none->check_config || none->stdio);
  auto h = parse({"-h"});
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->help);
}

TEST(CommandLine, Rejections) {
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"--lisen", "x"}, "unknown option '--lisen'"},
      {{"--nats", "x"}, "unknown option '--nats'"},  // not registered in this call
      {{"--config"}, "option '--config' needs a value"},
      {{"--config", "--stdio"}, "option '--config' needs a value"},
      {{"--stdio=yes"}, "option '--stdio' takes no value"},
      {{"--help=1"}, "option '--help' takes no value"},
      {{"config.yaml"}, "unexpected argument 'config.yaml'"},
      {{"-c", "x"}, "unexpected argument '-c'"},
      {{"--"}, "unknown option '--'"},
  };
  for (const auto& [args, error] : cases) {
    auto cl = parse(args);
    ASSERT_FALSE(cl) << error;
    EXPECT_EQ(cl.error(), error);
  }
  auto dashes = parse({"--name=--odd"});
  ASSERT_TRUE(dashes) << "the = form takes any value";
  EXPECT_EQ(dashes->name, "--odd");
}

TEST(CommandLine, FlagsOverrideTheFile) {
  TempConfig file("gateway:\n  name: from-file\n  listen: 127.0.0.1:1000\n  workers: 3\n");
  auto c = resolve(
      {"--config", file.path(), "--listen=127.0.0.1:2000", "--admin", "", "--name", "from-flag"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.listen.port, 2000);
  EXPECT_EQ(c->gateway.name, "from-flag");
  EXPECT_EQ(c->gateway.workers, 3);
  EXPECT_FALSE(c->gateway.admin.enabled());
  EXPECT_TRUE(c->gateway.websocket.enabled());
  EXPECT_FALSE(c->stdio);
}

TEST(CommandLine, PortsFileNamesWhereTheBoundPortsGo) {
  auto c = resolve({"--listen", "127.0.0.1:0", "--ports-file=/tmp/gw.ports"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ports_file, "/tmp/gw.ports");
  EXPECT_EQ(resolve({}).value().ports_file, "") << "no report unless asked for";
  EXPECT_EQ(resolve({"--ports-file", ""}).error(), "--ports-file: must not be empty");
  EXPECT_EQ(parse({"--ports-file"}).error(), "option '--ports-file' needs a value");
}

TEST(CommandLine, WebSocketStaticOverridesTheFile) {
  TempConfig file("gateway:\n  websocket_static: /srv/www\n");
  auto c = resolve({"--config", file.path(), "--websocket-static", "apps"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.websocket_static, "apps");
  auto off = resolve({"--config", file.path(), "--websocket-static="});
  ASSERT_TRUE(off) << off.error();
  EXPECT_EQ(off->gateway.websocket_static, "") << "\"\" serves no files";
}

TEST(CommandLine, WithoutAFileTheDefaultsApply) {
  auto c = resolve({"--websocket", "[::1]:0"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.listen.to_string(), "127.0.0.1:4242");
  EXPECT_EQ(c->gateway.websocket.to_string(), "[::1]:0");
}

TEST(CommandLine, ResolveErrors) {
  EXPECT_EQ(resolve({"--listen", "nowhere"}).error(),
            "--listen: expected host:port, [ipv6]:port or \"\", not 'nowhere'");
  EXPECT_EQ(resolve({"--admin", "h:99999"}).error(),
            "--admin: expected host:port, [ipv6]:port or \"\", not 'h:99999'");
  EXPECT_EQ(resolve({"--name", ""}).error(), "--name: must not be empty");
  EXPECT_EQ(resolve({"--config", "/nonexistent.yaml"}).error(),
            "/nonexistent.yaml: cannot read the configuration file: No such file or directory");
  TempConfig bad("gateway:\n  listen: nowhere\n");
  EXPECT_EQ(resolve({"--config", bad.path(), "--listen", "127.0.0.1:1"}).error(),
            bad.path() +
                ":2:11: 'gateway.listen' must be host:port, [ipv6]:port or \"\" (disabled), not "
                "'nowhere'")
      << "a bad file is an error even where a flag would override it";
}

TEST(CommandLine, StdioTurnsDefaultListenersOff) {
  auto c = resolve({"--stdio"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->stdio);
  EXPECT_FALSE(c->gateway.listen.enabled());
  EXPECT_FALSE(c->gateway.websocket.enabled());
  EXPECT_FALSE(c->gateway.admin.enabled());
}

TEST(CommandLine, StdioKeepsListenersTheFlagsSet) {
  auto c = resolve({"--stdio", "--admin", "127.0.0.1:9999"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->gateway.listen.enabled());
  EXPECT_EQ(c->gateway.admin.to_string(), "127.0.0.1:9999");
}

TEST(CommandLine, StdioKeepsListenersTheFileSets) {
  // Even a value equal to the usual default counts as set.
  TempConfig file("gateway:\n  listen: 127.0.0.1:4242\n  max_pings_out: 5\n");
  auto c = resolve({"--stdio", "--config", file.path()});
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->stdio);
  EXPECT_EQ(c->gateway.listen.to_string(), "127.0.0.1:4242");
  EXPECT_FALSE(c->gateway.websocket.enabled());
  EXPECT_FALSE(c->gateway.admin.enabled());
  EXPECT_EQ(c->gateway.max_pings_out, 5);
  TempConfig without("log:\n  level: debug\n");
  auto d = resolve({"--config", without.path(), "--stdio"});
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->gateway.listen.enabled());
  EXPECT_EQ(d->log.level, LogLevel::debug);
}

TEST(CommandLine, AdapterFlagsAreCollectedInOrder) {
  auto cl = parse({"--nats", "nats://a:4222", "--listen", "h:1", "--nats=nats://b:4222"}, {"nats"});
  ASSERT_TRUE(cl) << cl.error();
  using Flag = std::pair<std::string, std::string>;
  EXPECT_EQ(cl->adapter_flags,
            (std::vector<Flag>{{"nats", "nats://a:4222"}, {"nats", "nats://b:4222"}}));
  EXPECT_EQ(cl->listen, "h:1");
}

TEST(CommandLine, AdapterFlagsCreateTheSection) {
  auto c = resolve({"--nats", "nats://127.0.0.1:4222"});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->adapters.size(), 1u);
  EXPECT_EQ(c->adapters[0].name, "nats");
  EXPECT_EQ(c->adapters[0].file, "");
  EXPECT_EQ(c->adapters[0].node["servers"].Scalar(), "nats://127.0.0.1:4222");
}

TEST(CommandLine, AdapterFlagsOverrideTheFileAndRepeatsMakeAList) {
  TempConfig file("nats:\n  servers: [nats://file:4222]\n  name: keep\nmulticast:\n");
  auto c = resolve({"--config", file.path(), "--nats", "nats://a:1", "--multicast-group",
                    "239.0.0.1:5", "--nats", "nats://b:2"});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->adapters.size(), 2u);
  const YAML::Node nats = c->adapters[0].node;
  EXPECT_EQ(c->adapters[0].file, file.path());
  ASSERT_TRUE(nats["servers"].IsSequence());
  EXPECT_EQ(nats["servers"].size(), 2u);
  EXPECT_EQ(nats["servers"][1].Scalar(), "nats://b:2");
  EXPECT_EQ(nats["name"].Scalar(), "keep");
  EXPECT_EQ(c->adapters[1].node["group"].Scalar(), "239.0.0.1:5");
}

TEST(CommandLine, AnAdapterFlagNeedsItsSpec) {
  auto cl = parse({"--nats", "x"}, {"nats"});
  ASSERT_TRUE(cl);
  EXPECT_EQ(resolve_config(*cl, kAdapters).error(),
            "option '--nats' belongs to no adapter built into this gateway");
}

TEST(CommandLine, UsageListsAdapterFlags) {
  const std::string usage = usage_text(kAdapterFlags);
  EXPECT_NE(usage.find("--check-config FILE"), std::string::npos);
  EXPECT_NE(usage.find("  --nats URL            connect to this NATS server\n"), std::string::npos)
      << usage;
  EXPECT_EQ(usage_text().find("--nats"), std::string::npos);
}

}  // namespace
}  // namespace psycho::config
