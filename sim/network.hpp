// psycho-sim's world: PolderCast nodes (the production code,
// poldercast/node.hpp) joined by an in-memory transport with random
// latency, on a virtual clock. Every node ticks once per cycle at its own phase; a message
// is delivered `latency` after it was sent, unless its target has died meanwhile (a crashed
// host says nothing, as on the Internet). Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "poldercast/node.hpp"

namespace psycho::sim {

using poldercast::Node;
using poldercast::NodeOptions;
using poldercast::SharedBytes;

struct NetworkOptions {
  std::int64_t cycle_ms = 1000;
  std::int64_t min_latency_ms = 5;
  std::int64_t max_latency_ms = 50;
  std::uint64_t seed = 1;
};

class Network {
 public:
  using Index = std::uint32_t;
  // Sees every message handed to a live node, before the node reads it.
  using Observer = std::function<void(Index from, Index to, const std::string& bytes)>;

  explicit Network(NetworkOptions options);
  ~Network();

  // A new live node with a random id, address "n<index>", bootstrapping from `seeds`.
  Index add(const NodeOptions& options, const std::vector<Index>& seeds);
  void kill(Index i) { hosts_[i].alive = false; }
  bool alive(Index i) const { return hosts_[i].alive; }
  Node& node(Index i) { return *hosts_[i].node; }
  const Node& node(Index i) const { return *hosts_[i].node; }
  std::size_t size() const noexcept { return hosts_.size(); }
  static std::string address(Index i) { return "n" + std::to_string(i); }

  // Runs one cycle: every live node ticks once, and messages flow meanwhile.
  void run_cycle();
  // Delivers the messages in flight (no ticks) until none are left or `max_ms` passed.
  void drain(std::int64_t max_ms);
  std::int64_t now() const noexcept { return now_; }
  void observe(Observer o) { observer_ = std::move(o); }

 private:
  class Transport;
  struct Host {
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Node> node;
    std::int64_t phase_ms = 0;
    bool alive = true;
  };
  struct Event {
    std::int64_t at;
    std::uint64_t order;  // FIFO among equal times, for determinism
    Index to, from;
    SharedBytes bytes;  // null: a tick
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  void post(Index from, const std::string& address, const SharedBytes& bytes, bool& ok);
  void run_until(std::int64_t t, bool ticks);

  NetworkOptions options_;
  std::mt19937_64 rng_;
  std::vector<Host> hosts_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint64_t order_ = 0;
  std::int64_t now_ = 0;
  Observer observer_;
};

}  // namespace psycho::sim
