// config::Section on its own, the way an adapter uses it for its section.
#include "config/section.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace psycho::config {
namespace {

Section section_of(const std::string& yaml, const std::string& path = "nats") {
  return Section(YAML::Load(yaml), "a.yaml", path);
}

std::string errors_of(const Section& s) {
  auto st = s.finish();
  return st ? "<no error>" : st.error();
}

TEST(ConfigSection, AdaptersUseItForTheirOwnSections) {
  Section s = section_of("servers: [a, b]\nreconnect_wait: 2s\ntls:\n  ca_file: x\nbogus: 1\n");
  std::vector<std::string> servers;
  std::chrono::milliseconds wait{};
  std::string ca;
  s.get("servers", servers);
  s.get_duration("reconnect_wait", wait);
  Section tls = s.child("tls");
  tls.get("ca_file", ca);
  s.adopt(tls);
  EXPECT_EQ(servers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(wait.count(), 2000);
  EXPECT_EQ(ca, "x");
  EXPECT_EQ(errors_of(s), "a.yaml:5:1: unknown key 'bogus' in 'nats'");
}

TEST(ConfigSection, EveryGetterType) {
  ::setenv("PSYCHO_T_GROUP", "239.1.1.1", 1);
  Section s = section_of(R"(
text: hello
empty:
flag: yes
small: -7
wide: -9000000000
count: 18446744073709551615
one: single
list: ["${PSYCHO_T_GROUP}:1", b]
group: ${PSYCHO_T_GROUP}:5000
off:
size: 64KiB
wait: 1m30s
raw: {x: 1}
)");
  std::string text, empty = "default";
  bool flag = false;
  int small = 0;
  std::int64_t wide = 0;
  std::uint64_t count = 0;
  std::vector<std::string> one, list;
  Endpoint group, off{"on", 1};
  std::size_t size = 0;
  std::chrono::milliseconds wait{};
  s.get("text", text);
  s.get("empty", empty);
  s.get("flag", flag);
  s.get("small", small, -10, 10);
  s.get("wide", wide);
  s.get("count", count);
  s.get("one", one);
  s.get("list", list);
  s.get("group", group);
  s.get("off", off);
  s.get_size("size", size, 0, SIZE_MAX);
  s.get_duration("wait", wait);
  YAML::Node raw = s.take("raw");
  ASSERT_TRUE(s.finish()) << s.finish().error();
  EXPECT_EQ(text, "hello");
  EXPECT_EQ(empty, "");
  EXPECT_TRUE(flag);
  EXPECT_EQ(small, -7);
  EXPECT_EQ(wide, -9'000'000'000);
  EXPECT_EQ(count, UINT64_MAX);
  EXPECT_EQ(one, std::vector<std::string>{"single"});
  EXPECT_EQ(list, (std::vector<std::string>{"239.1.1.1:1", "b"}));
  EXPECT_EQ(group.to_string(), "239.1.1.1:5000");
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(size, 65536u);
  EXPECT_EQ(wait.count(), 90'000);
  EXPECT_EQ(raw["x"].as<int>(), 1);
}

TEST(ConfigSection, AbsentKeysKeepDefaultsAndBadValuesLeaveThemAlone) {
  Section s = section_of("n: lots\nb: maybe\n");
  int n = 5, absent = 6;
  bool b = true;
  s.get("n", n, 0, 10);
  s.get("absent", absent, 0, 10);
  s.get("b", b);
  EXPECT_EQ(n, 5);
  EXPECT_EQ(absent, 6);
  EXPECT_TRUE(b);
  EXPECT_EQ(errors_of(s),
            "a.yaml:1:4: 'nats.n' must be a whole number from 0 to 10, not 'lots'\n"
            "a.yaml:2:4: 'nats.b' must be true or false, not 'maybe'");
}

TEST(ConfigSection, ErrorsNameTheExactPosition) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"n: 11\n", "a.yaml:1:4: 'nats.n' must be a whole number from -10 to 10, not '11'"},
      {"n: -11\n", "a.yaml:1:4: 'nats.n' must be a whole number from -10 to 10, not '-11'"},
      {"n:\n", "a.yaml:1:1: 'nats.n' needs a value"},
      {"n: [1]\n", "a.yaml:1:4: 'nats.n' must be a single value"},
      {"n: {a: 1}\n", "a.yaml:1:4: 'nats.n' must be a single value"},
      {"n: ${PSYCHO_T_NOPE}\n",
       "a.yaml:1:4: environment variable 'PSYCHO_T_NOPE' is not set (use ${PSYCHO_T_NOPE:-default} "
       "for a fallback)"},
      {"l: {a: 1}\n", "a.yaml:1:4: 'nats.l' must be a list"},
      {"l: [a, [b]]\n", "a.yaml:1:8: items of 'nats.l' must be single values"},
      {"l:\n  - ok\n  - ${PSYCHO_T_NOPE}\n",
       "a.yaml:3:5: environment variable 'PSYCHO_T_NOPE' is not set (use ${PSYCHO_T_NOPE:-default} "
       "for a fallback)"},
      {"sz: 2KiB\n", "a.yaml:1:5: 'nats.sz' must be between 0 and 1024 bytes, not '2KiB'"},
      {"d: 5ms\n", "a.yaml:1:4: 'nats.d' must be at least 10ms, not '5ms'"},
      {"d: 2h\n", "a.yaml:1:4: 'nats.d' must be at most 3600000ms, not '2h'"},
      {"c: 5\n", "a.yaml:1:4: 'nats.c' must be a mapping"},
      {"c:\n  x: 1\n", "a.yaml:2:3: unknown key 'x' in 'nats.c'"},
      {"n: 1\nn: 2\n", "a.yaml:2:1: duplicate key 'n' in 'nats'"},
      {"[a]: 1\n", "a.yaml:1:1: keys in 'nats' must be plain names"},
      {"sx: 1\n", "a.yaml:1:1: unknown key 'sx' in 'nats' (did you mean 'sz'?)"},
  };
  for (const auto& c : cases) {
    Section s = section_of(c.yaml);
    ::unsetenv("PSYCHO_T_NOPE");
    int n = 0;
    std::vector<std::string> l;
    std::size_t sz = 0;
    std::chrono::milliseconds d{};
    s.get("n", n, -10, 10);
    s.get("l", l);
    s.get_size("sz", sz, 0, 1024);
    s.get_duration("d", d, std::chrono::milliseconds(10), std::chrono::hours(1));
    Section child = s.child("c");
    s.adopt(child);
    EXPECT_EQ(errors_of(s), c.error) << c.yaml;
  }
}

TEST(ConfigSection, DidYouMeanPicksTheClosestKnownKey) {
  EXPECT_EQ(did_you_mean("listne", {"name", "listen", "admin"}), " (did you mean 'listen'?)");
  EXPECT_EQ(did_you_mean("server", {"servers", "serve"}), " (did you mean 'servers'?)");
  EXPECT_EQ(did_you_mean("tsl", {"tls", "log"}), "");  // short keys get one edit only
  EXPECT_EQ(did_you_mean("tl", {"tls"}), " (did you mean 'tls'?)");
  EXPECT_EQ(did_you_mean("colour", {"level", "format"}), "");
}

TEST(ConfigSection, EmptyOrMissingSectionsAreFine) {
  for (YAML::Node node : {YAML::Node(), YAML::Node(YAML::NodeType::Undefined), YAML::Load("~")}) {
    Section s(node, "a.yaml", "log");
    std::string level = "info";
    s.get("level", level);
    Section tls = s.child("tls");
    s.adopt(tls);
    EXPECT_TRUE(s.finish());
    EXPECT_EQ(level, "info");
  }
}

TEST(ConfigSection, HelpersForCrossKeyChecks) {
  Section s = section_of("a: 1\nb: 2\n", "gateway.tls");
  EXPECT_TRUE(s.has("a"));
  EXPECT_FALSE(s.has("zzz"));
  EXPECT_EQ(s.name_of("a"), "gateway.tls.a");
  int a = 0, b = 0;
  s.get("a", a, 0, 9);
  s.get("b", b, 0, 9);
  s.error_at("b", "b needs c");
  s.error_at("c", "c is missing");  // absent: points at the section
  EXPECT_EQ(errors_of(s), "a.yaml:2:4: b needs c\na.yaml:1:1: c is missing");
  EXPECT_EQ(errors_of(s), errors_of(s)) << "finish() can be called again";
}

TEST(ConfigSection, NodesWithoutAFileHaveNoPosition) {
  YAML::Node node(YAML::NodeType::Map);
  node["port"] = "x";
  Section s(node, "", "nats");
  int port = 0;
  s.get("port", port, 0, 65535);
  EXPECT_EQ(errors_of(s), "'nats.port' must be a whole number from 0 to 65535, not 'x'");
}

TEST(ConfigSection, TextWithoutAKeyTellsWhetherAnythingElseChanged) {
  const std::string a = section_of("group: 239.1.1.1:7000\nkeys: one.keys\n").text_without("keys");
  EXPECT_EQ(a, section_of("group: 239.1.1.1:7000\nkeys: two.keys\n").text_without("keys"));
  EXPECT_EQ(a, section_of("group: 239.1.1.1:7000\n").text_without("keys"));
  EXPECT_NE(a, section_of("group: 239.1.1.1:7001\nkeys: one.keys\n").text_without("keys"));
  YAML::Node original = YAML::Load("group: x\nkeys: k\n");
  Section(original, "a.yaml", "multicast").text_without("keys");
  EXPECT_TRUE(original["keys"]) << "the caller's tree is left as it was";
}

}  // namespace
}  // namespace psycho::config
