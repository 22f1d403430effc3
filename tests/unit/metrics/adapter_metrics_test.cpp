#include "metrics/adapter_metrics.hpp"

#include <gtest/gtest.h>

namespace psycho::metrics {
namespace {

using Type = Sample::Type;

TEST(AdapterMetrics, AFamilyIsOneSamplePerLabelValue) {
  std::vector<Sample> s;
  add_family(s, Type::counter, "things_total", "Things.", "kind", {{"a", 1}, {"b", 2}});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "things_total");
  EXPECT_EQ(s[0].help, "Things.");
  EXPECT_EQ(s[0].type, Type::counter);
  EXPECT_EQ(s[0].labels, (LabelPairs{{"kind", "a"}}));
  EXPECT_EQ(s[0].value, 1);
  EXPECT_EQ(s[1].labels, (LabelPairs{{"kind", "b"}}));
  EXPECT_EQ(s[1].value, 2);
}

TEST(AdapterMetrics, ASampleHasNoLabels) {
  std::vector<Sample> s;
  add_sample(s, Type::gauge, "level", "Level.", 3);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].type, Type::gauge);
  EXPECT_TRUE(s[0].labels.empty());
  EXPECT_EQ(s[0].value, 3);
}

}  // namespace
}  // namespace psycho::metrics
