#include "adapters/import.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "recording_host.hpp"

namespace psycho {
namespace {

enum class Drop { malformed, not_imported, count };
constexpr TrafficCounters<Drop>::Names kNames = {"malformed", "not_imported"};
constexpr OriginId kOrigin = 7;

SubjectFilter import_prefixed(const std::string& yaml) {
  config::Section s(YAML::Load(yaml), "test.yaml", "test");
  SubjectFilter f = SubjectFilter::parse(s);
  EXPECT_TRUE(s.finish());
  return f;
}

class ImportTest : public ::testing::Test {
 protected:
  RecordingHost host;
  TrafficCounters<Drop> counters{kNames};
  const SubjectFilter subjects = import_prefixed("{subjects: [a.>], import_prefix: hub}");
  const Importer<Drop> checked{counters,
                               {.malformed = Drop::malformed, .not_imported = Drop::not_imported}};

  bool import(const Importer<Drop>& importer, const FabricMessage& m, Trace trace = {}) {
    return importer(host, kOrigin, subjects, m, trace);
  }
};

TEST_F(ImportTest, InjectsUnderTheLocalNameWithOneMoreHop) {
  const std::string_view headers = "NATS/1.0\r\nK: v\r\n\r\n";
  ASSERT_TRUE(import(checked, {"hub.a.b", "_INBOX.1", headers, "data"}, {9, 42, 3, 5}));
  ASSERT_EQ(host.injected.size(), 1u);
  const Message& m = *host.injected[0];
  EXPECT_EQ(m.subject(), "a.b");
  EXPECT_EQ(m.reply(), "_INBOX.1");
  EXPECT_EQ(m.headers(), headers);
  EXPECT_EQ(m.payload(), "data");
  EXPECT_EQ(m.origin(), kOrigin);
  EXPECT_EQ(m.trace().node_id, 9u);
  EXPECT_EQ(m.trace().seq, 42u);
  EXPECT_EQ(m.trace().hops, 4);
  EXPECT_EQ(m.trace().bus, 5u);  // kept: no bus of the adapter's own
  metrics::AdapterTraffic t;
  counters.fill(t);
  EXPECT_EQ(t.messages_in, 1u);
  EXPECT_EQ(t.bytes_in, headers.size() + 4);
}

// Whatever a fabric's publisher or another gateway wrote there, no client here sees a
// Psycho-* header; the rest of the block stays byte for byte, and so does an empty block.
TEST_F(ImportTest, PsychoHeadersAreTakenOutOfWhatIsImported) {
  ASSERT_TRUE(
      import(checked, {"hub.a.b", "", "NATS/1.0\r\nz: 1\r\nPsycho-Trace: x\r\nZ: 2\r\n\r\n", "p"}));
  ASSERT_TRUE(import(checked, {"hub.a.c", "", "NATS/1.0\r\npsycho-other: y\r\n\r\n", "p"}));
  ASSERT_EQ(host.injected.size(), 2u);
  EXPECT_EQ(host.injected[0]->headers(), "NATS/1.0\r\nz: 1\r\nZ: 2\r\n\r\n");
  EXPECT_EQ(host.injected[1]->headers(), "NATS/1.0\r\n\r\n");
}

TEST_F(ImportTest, HopCountStopsAt255) {
  ASSERT_TRUE(import(checked, {"hub.a.b", "", "", ""}, {9, 1, 254, 0}));
  ASSERT_TRUE(import(checked, {"hub.a.b", "", "", ""}, {9, 2, 255, 0}));
  EXPECT_EQ(host.injected[0]->trace().hops, 255);
  EXPECT_EQ(host.injected[1]->trace().hops, 255);
}

TEST_F(ImportTest, StampsTheAdaptersBus) {
  const Importer<Drop> on_bus{counters, {.not_imported = Drop::not_imported, .bus = 77}};
  ASSERT_TRUE(import(on_bus, {"hub.a.b", "", "", ""}, {9, 1, 0, 5}));
  EXPECT_EQ(host.injected[0]->trace().bus, 77u);
  EXPECT_EQ(host.injected[0]->trace().hops, 1);
}

TEST_F(ImportTest, MalformedMessagesAreCountedNotInjected) {
  const FabricMessage bad[] = {
      {"hub.a.*", "", "", ""},                      // a wildcard is no publish subject
      {"hub..a", "", "", ""},                       // an empty token
      {"hub.a.b", "re ply", "", ""},                // an invalid reply
      {"hub.a.b", "", "NATS/1.0\r\nK: v\r\n", ""},  // a header block without its end
      {"hub.a.b", "", "K: v\r\n\r\n", ""},          // nor its first line
  };
  for (const auto& m : bad) EXPECT_FALSE(import(checked, m)) << m.subject << m.reply << m.headers;
  EXPECT_TRUE(host.injected.empty());
  EXPECT_EQ(counters.dropped(Drop::malformed), std::size(bad));
  EXPECT_EQ(counters.dropped(Drop::not_imported), 0u);
}

TEST_F(ImportTest, UncheckedImportsTakeWhatTheFabricDelivered) {
  const Importer<Drop> unchecked{counters, {.not_imported = Drop::not_imported}};
  EXPECT_TRUE(import(unchecked, {"hub.a.b", "", "NATS/1.0\r\n", ""}));
  EXPECT_EQ(counters.dropped(Drop::malformed), 0u);
}

TEST_F(ImportTest, SubjectsOutsideTheImportsAreCountedNotInjected) {
  EXPECT_FALSE(import(checked, {"a.b", "", "", ""}));      // without the import prefix
  EXPECT_FALSE(import(checked, {"hub.c.d", "", "", ""}));  // not in the lists
  EXPECT_TRUE(host.injected.empty());
  EXPECT_EQ(counters.dropped(Drop::not_imported), 2u);
  metrics::AdapterTraffic t;
  counters.fill(t);
  EXPECT_EQ(t.messages_in, 0u);
}

}  // namespace
}  // namespace psycho
