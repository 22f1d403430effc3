// The example adapter: two "gateways" (recording hosts) bridged by one in-process fabric.
#include "adapters/loopback/loopback_adapter.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "recording_host.hpp"

namespace psycho::loopback {
namespace {

std::unique_ptr<Adapter> from_yaml(LoopbackFabric& fabric, const std::string& yaml) {
  AdapterRegistry registry;
  registry.add(adapter_factory(fabric));
  auto made = registry.create_all({{"loopback", YAML::Load(yaml), "test.yaml"}});
  EXPECT_TRUE(made) << made.error();
  return made ? std::move(made.value().front()) : nullptr;
}

MessagePtr published(std::string_view subject, Trace trace = {11, 1, 0, 0}) {
  return make_message({subject, "_INBOX.r", "", "hello"}, 1, trace);
}

// Two gateways, west (origin 3) and east (origin 4), on one fabric.
class LoopbackTest : public ::testing::Test {
 protected:
  void bridge(const std::string& west_yaml, const std::string& east_yaml) {
    west = from_yaml(fabric, west_yaml);
    east = from_yaml(fabric, east_yaml);
    ASSERT_TRUE(west && east);
    west->set_origin_id(3);
    east->set_origin_id(4);
    ASSERT_TRUE(west->start(west_host));
    ASSERT_TRUE(east->start(east_host));
  }

  LoopbackFabric fabric;
  RecordingHost west_host, east_host;
  std::unique_ptr<Adapter> west, east;
};

TEST_F(LoopbackTest, WhatOneGatewaySendsTheOtherInjectsOneHopFurther) {
  bridge("{}", "{}");
  ASSERT_TRUE(west->exports("a.b"));
  west->send(published("a.b"));
  EXPECT_TRUE(west_host.injected.empty());  // never back to the sender
  ASSERT_EQ(east_host.injected.size(), 1u);
  const Message& m = *east_host.injected[0];
  EXPECT_EQ(m.subject(), "a.b");
  EXPECT_EQ(m.reply(), "_INBOX.r");
  EXPECT_EQ(m.payload(), "hello");
  EXPECT_EQ(m.origin(), 4u);
  EXPECT_EQ(m.trace().node_id, 11u);
  EXPECT_EQ(m.trace().hops, 1);
  EXPECT_EQ(west->status().traffic.messages_out, 1u);
  EXPECT_EQ(east->status().traffic.messages_in, 1u);
  EXPECT_EQ(east->status().traffic.bytes_in, 5u);
}

TEST_F(LoopbackTest, PrefixesRenameOnTheWayAndListsFilter) {
  bridge("{export_prefix: west}", "{import_prefix: west, import: [orders.>]}");
  west->send(published("orders.new"));
  west->send(published("prices.eur"));
  ASSERT_EQ(east_host.injected.size(), 1u);
  EXPECT_EQ(east_host.injected[0]->subject(), "orders.new");
  EXPECT_EQ(east->status().traffic.dropped.at("not_imported"), 1u);
}

TEST_F(LoopbackTest, AMalformedMessageIsCountedNotInjected) {
  bridge("{}", "{}");
  west->send(make_message({"a.b", "", "NATS/1.0\r\nno end", "x"}, 1, {11, 2, 0, 0}));
  EXPECT_TRUE(east_host.injected.empty());
  EXPECT_EQ(east->status().traffic.dropped.at("malformed"), 1u);
}

TEST_F(LoopbackTest, AStoppedAdapterHearsNothing) {
  bridge("{}", "{}");
  east->stop(std::chrono::milliseconds(0));
  EXPECT_FALSE(east->status().ready);
  west->send(published("a.b"));
  EXPECT_TRUE(east_host.injected.empty());
}

TEST_F(LoopbackTest, AnUnknownKeyIsAConfigurationError) {
  AdapterRegistry registry;
  registry.add(adapter_factory(fabric));
  auto made = registry.create_all({{"loopback", YAML::Load("{subjectz: [a]}"), "test.yaml"}});
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("subjectz"), std::string::npos) << made.error();
}

// Every section's problem is reported, not only the first one's (--check-config relies on it).
TEST_F(LoopbackTest, EverySectionsProblemIsReported) {
  AdapterRegistry registry;
  registry.add(adapter_factory(fabric));
  auto made = registry.create_all({{"loopback", YAML::Load("{subjectz: [a]}"), "one.yaml"},
                                   {"nope", YAML::Load("{}"), "two.yaml"},
                                   {"loopback", YAML::Load("{exportz: [b]}"), "three.yaml"}});
  ASSERT_FALSE(made);
  for (const char* problem : {"subjectz", "'nope' is not built into", "exportz"}) {
    EXPECT_NE(made.error().find(problem), std::string::npos) << made.error();
  }
}

}  // namespace
}  // namespace psycho::loopback
