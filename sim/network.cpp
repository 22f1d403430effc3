#include "sim/network.hpp"

#include <charconv>

namespace psycho::sim {

class Network::Transport final : public poldercast::Transport {
 public:
  Transport(Network& network, Index self) : network_(network), self_(self) {}
  bool send(const std::string& address, std::uint64_t, const SharedBytes& message) override {
    bool ok = false;
    network_.post(self_, address, message, ok);
    return ok;
  }

 private:
  Network& network_;
  Index self_;
};

Network::Network(NetworkOptions options) : options_(options), rng_(options.seed) {}
Network::~Network() = default;

Network::Index Network::add(const NodeOptions& options, const std::vector<Index>& seeds) {
  const auto i = static_cast<Index>(hosts_.size());
  Host h;
  h.transport = std::make_unique<Transport>(*this, i);
  h.node = std::make_unique<Node>(options, rng_(), address(i), *h.transport, rng_());
  std::vector<std::string> seed_addresses;
  for (auto s : seeds) seed_addresses.push_back(address(s));
  h.node->set_seeds(std::move(seed_addresses));
  h.phase_ms = static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(options_.cycle_ms));
  hosts_.push_back(std::move(h));
  return i;
}

void Network::post(Index from, const std::string& address, const SharedBytes& bytes, bool& ok) {
  Index to = 0;
  if (address.size() < 2 || address[0] != 'n' ||
      std::from_chars(address.data() + 1, address.data() + address.size(), to).ec != std::errc{} ||
      to >= hosts_.size()) {
    ok = false;
    return;
  }
  ok = true;
  const auto spread =
      static_cast<std::uint64_t>(options_.max_latency_ms - options_.min_latency_ms + 1);
  const std::int64_t latency = options_.min_latency_ms + static_cast<std::int64_t>(rng_() % spread);
  events_.push({now_ + latency, order_++, to, from, bytes});
}

void Network::run_until(std::int64_t t, bool ticks) {
  while (!events_.empty() && events_.top().at < t) {
    Event e = events_.top();
    events_.pop();
    now_ = e.at;
    Host& h = hosts_[e.to];
    if (!h.alive) continue;
    if (!e.bytes) {
      if (ticks) h.node->tick(now_);
      continue;
    }
    if (observer_) observer_(e.from, e.to, *e.bytes);
    h.node->on_message(*e.bytes);
  }
  now_ = t;
}

void Network::run_cycle() {
  const std::int64_t start = now_;
  for (Index i = 0; i < hosts_.size(); ++i) {
    if (hosts_[i].alive) events_.push({start + hosts_[i].phase_ms, order_++, i, i, nullptr});
  }
  run_until(start + options_.cycle_ms, true);
}

void Network::drain(std::int64_t max_ms) { run_until(now_ + max_ms, false); }

}  // namespace psycho::sim
