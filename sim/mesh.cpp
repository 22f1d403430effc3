#include "sim/mesh.hpp"

#include <algorithm>
#include <deque>

namespace psycho::sim {

// A random graph in which every member gets `degree` links where possible: members link in
// random order to random members that still have room (gossipsub keeps D_lo <= degree <=
// D_hi; here everyone aims at D exactly).
const std::vector<std::vector<std::uint32_t>>& Mesh::mesh_of(std::uint32_t topic,
                                                             std::size_t size) {
  auto it = meshes_.find(topic);
  if (it != meshes_.end() && it->second.size() == size) return it->second;
  std::vector<std::vector<std::uint32_t>> adj(size);
  const std::size_t want = std::min(degree_, size == 0 ? 0 : size - 1);
  std::vector<std::uint32_t> order(size);
  for (std::uint32_t i = 0; i < size; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng_);
  for (auto a : order) {
    for (std::size_t tries = 0; adj[a].size() < want && tries < 8 * degree_; ++tries) {
      const auto b = static_cast<std::uint32_t>(rng_() % size);
      if (b == a || adj[b].size() >= want ||
          std::find(adj[a].begin(), adj[a].end(), b) != adj[a].end()) {
        continue;
      }
      adj[a].push_back(b);
      adj[b].push_back(a);
    }
  }
  return meshes_[topic] = std::move(adj);
}

FloodResult Mesh::flood(std::uint32_t topic, const std::vector<std::uint32_t>& members,
                        std::uint32_t publisher) {
  FloodResult r;
  if (members.empty()) return r;
  const auto& adj = mesh_of(topic, members.size());
  std::vector<int> hop(members.size(), -1);
  std::deque<std::uint32_t> queue;
  auto at = std::find(members.begin(), members.end(), publisher);
  if (at != members.end()) {
    const auto p = static_cast<std::uint32_t>(at - members.begin());
    hop[p] = 0;
    queue.push_back(p);
  } else {
    // Not a member: its fanout set, D random members.
    std::vector<std::uint32_t> pick(members.size());
    for (std::uint32_t i = 0; i < pick.size(); ++i) pick[i] = i;
    std::shuffle(pick.begin(), pick.end(), rng_);
    pick.resize(std::min(pick.size(), degree_));
    for (auto p : pick) {
      ++r.copies;
      hop[p] = 1;
      queue.push_back(p);
      ++r.reached;
      r.hops.push_back(1);
    }
  }
  // Breadth-first: every node forwards its first copy to all mesh peers but its parent.
  std::vector<int> parent(members.size(), -1);
  while (!queue.empty()) {
    const auto u = queue.front();
    queue.pop_front();
    for (auto v : adj[u]) {
      if (static_cast<int>(v) == parent[u]) continue;
      ++r.copies;
      if (hop[v] >= 0) continue;
      hop[v] = hop[u] + 1;
      parent[v] = static_cast<int>(u);
      ++r.reached;
      r.hops.push_back(static_cast<std::uint32_t>(hop[v]));
      queue.push_back(v);
    }
  }
  return r;
}

double Mesh::mean_degree() const {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& [topic, adj] : meshes_) {
    for (const auto& a : adj) {
      sum += static_cast<double>(a.size());
      ++n;
    }
  }
  return n == 0 ? 0 : sum / static_cast<double>(n);
}

}  // namespace psycho::sim
