// The gossipsub-like baseline: for each topic, a mesh of degree about D among its live
// subscribers, built with global knowledge (so it is always converged: a best case for the
// mesh), and eager flooding: a node forwards the first copy to every mesh peer but the
// sender. A publisher outside the topic sends to D subscribers (gossipsub's fanout set).
#pragma once

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

namespace psycho::sim {

struct FloodResult {
  std::size_t reached = 0;          // subscribers reached, the publisher excluded
  std::size_t copies = 0;           // messages received, duplicates included
  std::vector<std::uint32_t> hops;  // per subscriber reached
};

class Mesh {
 public:
  Mesh(std::size_t degree, std::uint64_t seed) : degree_(degree), rng_(seed) {}
  // `members`: the topic's live subscribers (node indexes). `publisher` need not be one.
  FloodResult flood(std::uint32_t topic, const std::vector<std::uint32_t>& members,
                    std::uint32_t publisher);
  // Mean mesh degree over the topics built so far.
  double mean_degree() const;

 private:
  const std::vector<std::vector<std::uint32_t>>& mesh_of(std::uint32_t topic, std::size_t size);

  std::size_t degree_;
  std::mt19937_64 rng_;
  // topic -> adjacency by position in its member list
  std::unordered_map<std::uint32_t, std::vector<std::vector<std::uint32_t>>> meshes_;
};

}  // namespace psycho::sim
