// One simulated scenario: build the overlay from a cold start, measure ring correctness per
// cycle, then publish the same batch under PolderCast and each baseline, then (optionally)
// kill a fraction of the nodes and measure recovery, then (optionally) churn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/network.hpp"
#include "sim/report.hpp"

namespace psycho::sim {

struct ScenarioOptions {
  std::string name = "social";
  std::string workload = "social";  // or "heavy"
  std::size_t nodes = 1000;
  std::size_t follows = 10;            // social: topics followed per node
  std::size_t topics = 10000;          // heavy: topics in all
  std::size_t topics_per_node = 1000;  // heavy
  double zipf = 1.0;
  std::size_t warmup_cycles = 30;
  std::size_t publications = 300;  // per measured batch
  double fail = 0;                 // fraction killed at once after the warm-up
  std::size_t recovery_cycles = 15;
  double churn = 0;  // fraction replaced every cycle in the churn phase
  std::size_t churn_cycles = 20;
  bool baselines = true;
  std::size_t mesh_degree = 6;
  NodeOptions node;
  NetworkOptions network;
};

Report run_scenario(const ScenarioOptions& options);

}  // namespace psycho::sim
