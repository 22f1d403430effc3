#include "metrics/snapshot.hpp"

#include <gtest/gtest.h>

#include <string>

namespace psycho::metrics {
namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

Snapshot with_samples(std::vector<Sample> samples) {
  Snapshot s;
  AdapterSnapshot a;
  a.name = "test";
  a.samples = std::move(samples);
  s.adapters.push_back(std::move(a));
  return s;
}

// A family is one name: samples that share it render under one HELP and TYPE wherever they
// stand in the adapter's list (Prometheus rejects a name declared twice).
TEST(Snapshot, SamplesWithOneNameFormOneFamilyWhereverTheyStand) {
  using Type = Sample::Type;
  const std::string text = render_prometheus(with_samples({
      {Type::counter, "events_total", "Events.", {{"kind", "a"}}, 1},
      {Type::gauge, "level", "Level.", {}, 7},
      {Type::counter, "events_total", "Events.", {{"kind", "b"}}, 2},
  }));
  EXPECT_EQ(occurrences(text, "# TYPE psycho_test_events_total counter"), 1u) << text;
  EXPECT_EQ(occurrences(text, "# TYPE psycho_test_level gauge"), 1u) << text;
  EXPECT_NE(text.find("psycho_test_events_total{adapter=\"test\",kind=\"a\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("psycho_test_events_total{adapter=\"test\",kind=\"b\"} 2"), std::string::npos)
      << text;
  // Families keep the order in which their names first appear.
  EXPECT_LT(text.find("# TYPE psycho_test_events_total"), text.find("# TYPE psycho_test_level"));
}

}  // namespace
}  // namespace psycho::metrics
