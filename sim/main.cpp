// psycho-sim: runs the PolderCast overlay code (poldercast) on thousands of
// simulated nodes and reports how well it works, against baselines on the same workload.
// docs/poldercast.md explains the scenarios; BENCHMARKS.md has the figures.
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "sim/experiment.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: psycho-sim [options]
  --name NAME              scenario name in the report (default: social)
  --workload social|heavy  one topic per node with Zipf followers, or thousands of topics per node
  --nodes N                (1000)
  --follows K              social: topics each node follows (10)
  --topics T               heavy: topics in all (10000)
  --topics-per-node M      heavy: topics per node (1000)
  --zipf S                 popularity exponent (1.0)
  --fanout F               PolderCast fan-out (3)
  --cycles C               warm-up cycles from the cold start (30)
  --publications P         publications per measured batch (300)
  --fail FRACTION          kill this fraction after the warm-up and measure recovery (0)
  --recovery-cycles C      (15)
  --churn FRACTION         then replace this fraction every cycle (0)
  --churn-cycles C         (20)
  --no-baselines           PolderCast only
  --seed S                 (1)
  --csv FILE, --json FILE  the full report
  --expect-hit R           exit 1 unless the steady hit ratio is at least R
  --expect-rings R         exit 1 unless ring correctness after the warm-up is at least R
  --expect-recovery C      exit 1 unless the failure phase is back to 100% within C cycles
)";

bool number(std::string_view text, double& out) {
  char* end = nullptr;
  const std::string s(text);
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  psycho::sim::ScenarioOptions o;
  // The gateway caps overlay hops at 255; the simulator lifts the cap so that the ring-only
  // baseline's walks (hundreds of hops) are measured rather than cut.
  o.node.max_overlay_hops = UINT16_MAX;
  std::string csv, json;
  double expect_hit = -1, expect_rings = -1, expect_recovery = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--no-baselines") {
      o.baselines = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "psycho-sim: " << arg << " needs a value\n" << kUsage;
      return 2;
    }
    const std::string_view value = argv[++i];
    double v = 0;
    const bool is_number = number(value, v);
    auto count = [&](std::size_t& out) {
      if (!is_number || v < 0) return false;
      out = static_cast<std::size_t>(v);
      return true;
    };
    bool ok = true;
    if (arg == "--name")
      o.name = value;
    else if (arg == "--workload")
      ok = (o.workload = value) == "social" || o.workload == "heavy";
    else if (arg == "--nodes")
      ok = count(o.nodes) && o.nodes >= 2;
    else if (arg == "--follows")
      ok = count(o.follows);
    else if (arg == "--topics")
      ok = count(o.topics) && o.topics >= 1;
    else if (arg == "--topics-per-node")
      ok = count(o.topics_per_node);
    else if (arg == "--zipf")
      ok = is_number && (o.zipf = v) >= 0;
    else if (arg == "--fanout")
      ok = count(o.node.fanout) && o.node.fanout >= 1;
    else if (arg == "--cycles")
      ok = count(o.warmup_cycles);
    else if (arg == "--publications")
      ok = count(o.publications);
    else if (arg == "--fail")
      ok = is_number && (o.fail = v) >= 0 && v < 1;
    else if (arg == "--recovery-cycles")
      ok = count(o.recovery_cycles);
    else if (arg == "--churn")
      ok = is_number && (o.churn = v) >= 0 && v < 1;
    else if (arg == "--churn-cycles")
      ok = count(o.churn_cycles) && o.churn_cycles >= 1;
    else if (arg == "--seed")
      ok = is_number && (o.network.seed = static_cast<std::uint64_t>(v)) > 0;
    else if (arg == "--csv")
      csv = value;
    else if (arg == "--json")
      json = value;
    else if (arg == "--expect-hit")
      ok = is_number && (expect_hit = v) >= 0;
    else if (arg == "--expect-rings")
      ok = is_number && (expect_rings = v) >= 0;
    else if (arg == "--expect-recovery")
      ok = is_number && (expect_recovery = v) >= 0;
    else {
      std::cerr << "psycho-sim: unknown option " << arg << "\n" << kUsage;
      return 2;
    }
    if (!ok) {
      std::cerr << "psycho-sim: bad value for " << arg << ": " << value << "\n";
      return 2;
    }
  }
  if (o.workload == "heavy" && o.topics_per_node > o.topics) {
    std::cerr << "psycho-sim: --topics-per-node exceeds --topics\n";
    return 2;
  }

  const auto report = psycho::sim::run_scenario(o);
  if (!csv.empty()) {
    std::ofstream out(csv);
    report.write_csv(out);
  }
  if (!json.empty()) {
    std::ofstream out(json);
    report.write_json(out);
  }

  int status = 0;
  auto expect = [&](bool met, std::string_view what, double got) {
    if (met) return;
    std::cerr << "psycho-sim: expectation not met: " << what << " (got " << got << ")\n";
    status = 1;
  };
  if (expect_hit >= 0) {
    const double hit = report.find("polder", "steady", "hit_ratio");
    expect(hit >= expect_hit, "steady hit ratio", hit);
  }
  if (expect_rings >= 0) {
    const double rings = report.find("polder", "steady", "ring_correctness");
    expect(rings >= expect_rings, "ring correctness after the warm-up", rings);
  }
  if (expect_recovery >= 0) {
    const std::string phase = "failure_" + std::to_string(static_cast<int>(o.fail * 100)) + "pct";
    const double c = report.find("polder", phase, "cycles_to_full_hit_ratio");
    expect(c >= 0 && c <= expect_recovery, "cycles to recover a 100% hit ratio", c);
  }
  return status;
}
