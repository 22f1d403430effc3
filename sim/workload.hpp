// Who subscribes to what in a simulated run.
//  - social: one topic per node ("user.<i>", its owner subscribes), and every node follows
//    `follows` other topics drawn by Zipf popularity, as in a social graph;
//  - heavy: `topics` topics drawn by Zipf popularity, `per_node` of them at every node, so that
//    nodes hold thousands of rings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace psycho::sim {

struct Workload {
  std::vector<std::string> subjects;                // by topic index
  std::vector<std::vector<std::uint32_t>> of_node;  // topic indexes, by node index
};

class Zipf {
 public:
  Zipf(std::size_t n, double s);
  std::size_t operator()(std::mt19937_64& rng) const;  // 0 .. n-1, 0 the most popular

 private:
  std::vector<double> cumulative_;
};

Workload social_workload(std::size_t nodes, std::size_t follows, double zipf, std::mt19937_64& rng);
Workload heavy_workload(std::size_t nodes, std::size_t topics, std::size_t per_node, double zipf,
                        std::mt19937_64& rng);

// `count` distinct topic indexes drawn from `popularity`, none equal to `except`.
std::vector<std::uint32_t> draw_topics(const Zipf& popularity, std::size_t topics,
                                       std::size_t count, std::size_t except, std::mt19937_64& rng);

}  // namespace psycho::sim
