#include "sim/workload.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace psycho::sim {

Zipf::Zipf(std::size_t n, double s) : cumulative_(n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
    cumulative_[i] = sum;
  }
  for (auto& c : cumulative_) c /= sum;
}

std::size_t Zipf::operator()(std::mt19937_64& rng) const {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()),
                               cumulative_.size() - 1);
}

std::vector<std::uint32_t> draw_topics(const Zipf& popularity, std::size_t topics,
                                       std::size_t count, std::size_t except,
                                       std::mt19937_64& rng) {
  count = std::min(count, topics - (except < topics ? 1 : 0));
  std::unordered_set<std::uint32_t> chosen;
  // Rejection sampling; past a few thousand misses, fill uniformly so it always ends.
  for (std::size_t misses = 0; chosen.size() < count && misses < 100 * count + 1000;) {
    const auto t = static_cast<std::uint32_t>(popularity(rng));
    if (t == except || !chosen.insert(t).second) ++misses;
  }
  for (std::uint32_t t = 0; chosen.size() < count && t < topics; ++t) {
    if (t != except) chosen.insert(t);
  }
  std::vector<std::uint32_t> out(chosen.begin(), chosen.end());
  std::sort(out.begin(), out.end());
  return out;
}

Workload social_workload(std::size_t nodes, std::size_t follows, double zipf,
                         std::mt19937_64& rng) {
  Workload w;
  for (std::size_t i = 0; i < nodes; ++i) w.subjects.push_back("user." + std::to_string(i));
  // Popularity rank is a random permutation of the users, not their index.
  std::vector<std::uint32_t> rank(nodes);
  for (std::uint32_t i = 0; i < nodes; ++i) rank[i] = i;
  std::shuffle(rank.begin(), rank.end(), rng);
  const Zipf popularity(nodes, zipf);
  w.of_node.resize(nodes);
  for (std::size_t i = 0; i < nodes; ++i) {
    auto& mine = w.of_node[i];
    mine.push_back(static_cast<std::uint32_t>(i));
    for (auto r : draw_topics(popularity, nodes, follows + 1, nodes, rng)) {
      if (rank[r] != i && mine.size() <= follows) mine.push_back(rank[r]);
    }
  }
  return w;
}

Workload heavy_workload(std::size_t nodes, std::size_t topics, std::size_t per_node, double zipf,
                        std::mt19937_64& rng) {
  Workload w;
  for (std::size_t t = 0; t < topics; ++t) w.subjects.push_back("topic." + std::to_string(t));
  const Zipf popularity(topics, zipf);
  w.of_node.resize(nodes);
  for (std::size_t i = 0; i < nodes; ++i) {
    w.of_node[i] = draw_topics(popularity, topics, per_node, topics, rng);
  }
  return w;
}

}  // namespace psycho::sim
