#include "sim/experiment.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <unordered_map>
#include <unordered_set>

#include "poldercast/topic.hpp"
#include "sim/mesh.hpp"
#include "sim/workload.hpp"

namespace psycho::sim {

namespace {

using poldercast::Dissemination;
using poldercast::Publication;
using Index = Network::Index;

constexpr std::uint8_t kPublishType = 7;
bool is_gossip(const std::string& bytes) {
  if (bytes.size() < 4) return false;
  const auto type = static_cast<std::uint8_t>(bytes[3]);
  return type <= 6 || type >= 10;  // the layers, LEAVE, PING and PONG
}

struct Pick {
  Index publisher;
  std::uint32_t topic;
};

struct Batch {
  std::size_t expected = 0, delivered = 0, copies = 0, duplicate_deliveries = 0;
  std::vector<std::uint32_t> hops;
  std::size_t within_bound = 0, publications = 0;
};

double percentile(std::vector<std::uint32_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

class Experiment {
 public:
  explicit Experiment(const ScenarioOptions& o)
      : o_(o),
        net_(o.network),
        rng_(o.network.seed * 7919 + 1),
        mesh_(o.mesh_degree, o.network.seed) {
    workload_ = o.workload == "heavy"
                    ? heavy_workload(o.nodes, o.topics, o.topics_per_node, o.zipf, rng_)
                    : social_workload(o.nodes, o.follows, o.zipf, rng_);
    for (const auto& s : workload_.subjects) topic_ids_.push_back(poldercast::topic_id(s));
    net_.observe([this](Index from, Index, const std::string& bytes) {
      current_from_ = from;
      if (is_gossip(bytes)) {
        gossip_bytes_ += bytes.size();
        if (gossip_sizes_.size() < kMaxSizeSamples)
          gossip_sizes_.push_back(static_cast<std::uint32_t>(bytes.size()));
      } else if (bytes.size() > 3 && static_cast<std::uint8_t>(bytes[3]) == kPublishType) {
        ++publish_copies_;
      }
    });
    for (std::size_t i = 0; i < o.nodes; ++i) add_node(workload_.of_node[i], 0);
  }

  void run() {
    cold_start();
    steady();
    if (o_.fail > 0) failure();
    if (o_.churn > 0) churn();
  }

  Report report;

 private:
  Index add_node(std::vector<std::uint32_t> topics, Index seed) {
    const Index i =
        net_.add(o_.node, net_.size() == 0 ? std::vector<Index>{} : std::vector<Index>{seed});
    std::sort(topics.begin(), topics.end());
    topics_of_.push_back(topics);
    for (auto t : topics) net_.node(i).subscribe(workload_.subjects[t]);
    net_.node(i).on_deliver([this, i](const Publication& p) { delivered(i, p); });
    return i;
  }

  void row(const std::string& protocol, const std::string& phase, int cycle,
           const std::string& metric, double value) {
    report.add({o_.name, protocol, phase, cycle, metric, value});
  }

  // Live subscribers of every topic, sorted by node id.
  std::vector<std::vector<std::pair<std::uint64_t, Index>>> members_by_id() const {
    std::vector<std::vector<std::pair<std::uint64_t, Index>>> m(workload_.subjects.size());
    for (Index i = 0; i < net_.size(); ++i) {
      if (!net_.alive(i)) continue;
      for (auto t : topics_of_[i]) m[t].push_back({net_.node(i).id(), i});
    }
    for (auto& v : m) std::sort(v.begin(), v.end());
    return m;
  }

  // The fraction of (live node, topic) pairs, for topics with another live subscriber, whose
  // nearest successor and predecessor are the true ones.
  double ring_correctness() const {
    const auto members = members_by_id();
    std::size_t pairs = 0, correct = 0;
    for (Index i = 0; i < net_.size(); ++i) {
      if (!net_.alive(i)) continue;
      const auto& node = net_.node(i);
      for (auto t : topics_of_[i]) {
        const auto& m = members[t];
        if (m.size() < 2) continue;
        ++pairs;
        auto at = std::lower_bound(m.begin(), m.end(), std::make_pair(node.id(), Index{0}));
        const std::size_t k = static_cast<std::size_t>(at - m.begin());
        const std::uint64_t succ = m[(k + 1) % m.size()].first;
        const std::uint64_t pred = m[(k + m.size() - 1) % m.size()].first;
        const auto* ring = node.rings().ring(topic_ids_[t]);
        if (ring != nullptr && !ring->succ.empty() && !ring->pred.empty() &&
            ring->succ.front() == succ && ring->pred.front() == pred) {
          ++correct;
        }
      }
    }
    return pairs == 0 ? 1.0 : static_cast<double>(correct) / static_cast<double>(pairs);
  }

  void overlay_shape(const std::string& phase, int cycle) {
    double sum = 0, max = 0;
    std::size_t n = 0;
    for (Index i = 0; i < net_.size(); ++i) {
      if (!net_.alive(i)) continue;
      const auto& node = net_.node(i);
      std::unordered_set<std::uint64_t> peers;
      for (const auto& e : node.cyclon().entries()) peers.insert(e.id());
      for (const auto& e : node.vicinity().entries()) peers.insert(e.id());
      for (const auto& [id, p] : node.rings().peers()) peers.insert(id);
      sum += static_cast<double>(peers.size());
      max = std::max(max, static_cast<double>(peers.size()));
      ++n;
    }
    row("polder", phase, cycle, "degree_mean", n ? sum / static_cast<double>(n) : 0);
    row("polder", phase, cycle, "degree_max", max);
  }

  std::size_t live() const {
    std::size_t n = 0;
    for (Index i = 0; i < net_.size(); ++i) n += net_.alive(i) ? 1 : 0;
    return n;
  }

  // One cycle, returning gossip bytes sent per live node in it.
  double cycle() {
    gossip_bytes_ = 0;
    net_.run_cycle();
    return static_cast<double>(gossip_bytes_) /
           static_cast<double>(std::max<std::size_t>(1, live()));
  }

  void cold_start() {
    int converged_at = -1;
    double bytes = 0;
    for (std::size_t c = 1; c <= o_.warmup_cycles; ++c) {
      const double b = cycle();
      if (c + 10 > o_.warmup_cycles) bytes += b;
      const double correct = ring_correctness();
      row("polder", "coldstart", static_cast<int>(c), "ring_correctness", correct);
      if (converged_at < 0 && correct >= 0.99) converged_at = static_cast<int>(c);
    }
    row("polder", "coldstart", -1, "cycles_to_99pct_rings", converged_at);
    // Would the gossip fit in datagrams? Sizes over a 1500-byte MTU's UDP payload (1472)
    // would be fragmented by IP, and one lost fragment loses the message.
    std::size_t over_mtu = 0;
    for (auto size : gossip_sizes_) over_mtu += size > 1472 ? 1 : 0;
    row("polder", "steady", -1, "gossip_message_bytes_p50", percentile(gossip_sizes_, 0.5));
    row("polder", "steady", -1, "gossip_message_bytes_p99", percentile(gossip_sizes_, 0.99));
    row("polder", "steady", -1, "gossip_message_bytes_max", percentile(gossip_sizes_, 1.0));
    row("polder", "steady", -1, "gossip_messages_over_mtu",
        gossip_sizes_.empty()
            ? 0
            : static_cast<double>(over_mtu) / static_cast<double>(gossip_sizes_.size()));
    row("polder", "steady", -1, "gossip_bytes_per_node_cycle",
        bytes / static_cast<double>(std::min<std::size_t>(10, o_.warmup_cycles)));
    std::cout << o_.name << ": ring correctness " << ring_correctness() << " after "
              << o_.warmup_cycles << " cycles (99% at cycle " << converged_at << ")\n";
  }

  std::vector<Pick> choose(std::size_t count, bool subscribers) {
    std::vector<Pick> picks;
    std::vector<Index> alive;
    for (Index i = 0; i < net_.size(); ++i) {
      if (net_.alive(i) && !topics_of_[i].empty()) alive.push_back(i);
    }
    const auto members = members_by_id();
    for (std::size_t tries = 0; picks.size() < count && tries < 100 * count && !alive.empty();
         ++tries) {
      const Index p = alive[rng_() % alive.size()];
      const auto& mine = topics_of_[p];
      std::uint32_t t;
      if (subscribers) {
        t = mine[rng_() % mine.size()];
        if (members[t].size() < 2) continue;
      } else {
        t = static_cast<std::uint32_t>(rng_() % workload_.subjects.size());
        if (std::binary_search(mine.begin(), mine.end(), t) || members[t].empty()) continue;
      }
      picks.push_back({p, t});
    }
    return picks;
  }

  // Publishes every pick with the given rule and waits for the copies to settle.
  Batch publish(const std::vector<Pick>& picks, Dissemination rule) {
    for (Index i = 0; i < net_.size(); ++i) net_.node(i).set_dissemination(rule);
    const auto members = members_by_id();
    tracked_.assign(picks.size(), {});
    base_seq_ = next_seq_;
    Batch b;
    publish_copies_ = 0;
    batch_ = &b;
    for (std::size_t k = 0; k < picks.size(); ++k) {
      const auto& pick = picks[k];
      auto& tr = tracked_[k];
      tr.hop[pick.publisher] = 0;
      tr.members = members[pick.topic].size();
      for (const auto& m : members[pick.topic]) b.expected += m.second != pick.publisher ? 1 : 0;
      Publication p;
      p.subject = workload_.subjects[pick.topic];
      p.origin = pick.publisher;
      p.seq = next_seq_++;
      p.payload = "0123456789abcdef";
      net_.node(pick.publisher).publish(std::move(p));
    }
    net_.drain(30'000);
    b.copies = publish_copies_;
    for (const auto& tr : tracked_) {
      const double bound = 2 * std::log2(std::max<double>(2, static_cast<double>(tr.members)));
      b.within_bound += tr.max_hop <= bound ? 1 : 0;
    }
    b.publications = picks.size();
    batch_ = nullptr;
    for (Index i = 0; i < net_.size(); ++i) net_.node(i).set_dissemination(o_.node.dissemination);
    return b;
  }

  void delivered(Index at, const Publication& p) {
    if (batch_ == nullptr || p.seq < base_seq_ || p.seq - base_seq_ >= tracked_.size()) return;
    auto& tr = tracked_[p.seq - base_seq_];
    auto from = tr.hop.find(current_from_);
    const std::uint32_t hop = from == tr.hop.end() ? p.overlay_hops + 1u : from->second + 1;
    if (!tr.hop.emplace(at, hop).second) {
      ++batch_->duplicate_deliveries;
      return;
    }
    tr.max_hop = std::max(tr.max_hop, hop);
    ++batch_->delivered;
    batch_->hops.push_back(hop);
  }

  void record(const std::string& protocol, const std::string& phase, int cycle, const Batch& b) {
    const double hit =
        b.expected ? static_cast<double>(b.delivered) / static_cast<double>(b.expected) : 1;
    row(protocol, phase, cycle, "hit_ratio", hit);
    if (cycle >= 0) return;
    double mean = 0;
    for (auto h : b.hops) mean += h;
    row(protocol, phase, cycle, "hops_mean",
        b.hops.empty() ? 0 : mean / static_cast<double>(b.hops.size()));
    row(protocol, phase, cycle, "hops_p99", percentile(b.hops, 0.99));
    row(protocol, phase, cycle, "hops_max", percentile(b.hops, 1.0));
    row(protocol, phase, cycle, "copies_per_delivery",
        b.delivered ? static_cast<double>(b.copies) / static_cast<double>(b.delivered) : 0);
    row(protocol, phase, cycle, "within_2log2n",
        b.publications ? static_cast<double>(b.within_bound) / static_cast<double>(b.publications)
                       : 1);
    row(protocol, phase, cycle, "duplicate_deliveries",
        static_cast<double>(b.duplicate_deliveries));
    std::cout << "  " << phase << " " << protocol << ": hit " << hit << ", hops mean "
              << (b.hops.empty() ? 0 : mean / static_cast<double>(b.hops.size())) << " p99 "
              << percentile(b.hops, 0.99) << " max " << percentile(b.hops, 1.0)
              << ", copies/delivery "
              << (b.delivered ? static_cast<double>(b.copies) / static_cast<double>(b.delivered)
                              : 0)
              << "\n";
  }

  Batch mesh_batch(const std::vector<Pick>& picks) {
    const auto members = members_by_id();
    Batch b;
    for (const auto& pick : picks) {
      std::vector<std::uint32_t> m;
      for (const auto& [id, i] : members[pick.topic]) m.push_back(i);
      auto r = mesh_.flood(pick.topic, m, pick.publisher);
      b.expected += m.size() - (std::find(m.begin(), m.end(), pick.publisher) != m.end() ? 1 : 0);
      b.delivered += r.reached;
      b.copies += r.copies;
      std::uint32_t max_hop = 0;
      for (auto h : r.hops) max_hop = std::max(max_hop, h);
      b.within_bound +=
          max_hop <= 2 * std::log2(std::max<double>(2, static_cast<double>(m.size()))) ? 1 : 0;
      b.hops.insert(b.hops.end(), r.hops.begin(), r.hops.end());
    }
    b.publications = picks.size();
    return b;
  }

  void steady() {
    overlay_shape("steady", -1);
    row("polder", "steady", -1, "ring_correctness", ring_correctness());
    const auto picks = choose(o_.publications, true);
    record("polder", "steady", -1, publish(picks, Dissemination::polder));
    if (o_.baselines) {
      record("ring_only", "steady", -1, publish(picks, Dissemination::ring_only));
      record("gossip_only", "steady", -1, publish(picks, Dissemination::gossip_only));
      record("mesh_d" + std::to_string(o_.mesh_degree), "steady", -1, mesh_batch(picks));
      row("mesh_d" + std::to_string(o_.mesh_degree), "steady", -1, "degree_mean",
          mesh_.mean_degree());
    }
    // Publishers that do not subscribe: publish cache and FIND_SUB walks.
    const auto outsiders = choose(o_.publications / 3 + 1, false);
    record("polder", "outsider_publish", -1, publish(outsiders, Dissemination::polder));
    if (o_.baselines)
      record("mesh_d" + std::to_string(o_.mesh_degree), "outsider_publish", -1,
             mesh_batch(outsiders));
  }

  void failure() {
    std::vector<Index> alive;
    for (Index i = 0; i < net_.size(); ++i) {
      if (net_.alive(i)) alive.push_back(i);
    }
    std::shuffle(alive.begin(), alive.end(), rng_);
    const auto kill = static_cast<std::size_t>(o_.fail * static_cast<double>(alive.size()));
    for (std::size_t k = 0; k < kill; ++k) net_.kill(alive[k]);
    const std::string phase = "failure_" + std::to_string(static_cast<int>(o_.fail * 100)) + "pct";
    int recovered = -1;
    // Cycle 0: straight after the crash, before anyone has noticed.
    for (std::size_t c = 0; c <= o_.recovery_cycles; ++c) {
      if (c > 0) cycle();
      const auto b = publish(choose(o_.publications / 3 + 1, true), Dissemination::polder);
      record("polder", phase, static_cast<int>(c), b);
      row("polder", phase, static_cast<int>(c), "ring_correctness", ring_correctness());
      if (b.delivered == b.expected) {
        if (recovered < 0) recovered = static_cast<int>(c);
      } else {
        recovered = -1;
      }
    }
    row("polder", phase, -1, "cycles_to_full_hit_ratio", recovered);
    std::cout << "  " << phase << ": 100% hit ratio from cycle " << recovered << " on\n";
  }

  void churn() {
    double hit_sum = 0, ring_sum = 0;
    for (std::size_t c = 1; c <= o_.churn_cycles; ++c) {
      std::vector<Index> alive;
      for (Index i = 0; i < net_.size(); ++i) {
        if (net_.alive(i)) alive.push_back(i);
      }
      std::shuffle(alive.begin(), alive.end(), rng_);
      const auto n = static_cast<std::size_t>(o_.churn * static_cast<double>(alive.size()));
      for (std::size_t k = 0; k < n; ++k) {
        net_.kill(alive[k]);
        // A newcomer with the same interests, bootstrapping from a random survivor.
        add_node(topics_of_[alive[k]], alive[n + rng_() % (alive.size() - n)]);
      }
      cycle();
      const auto b = publish(choose(o_.publications / 3 + 1, true), Dissemination::polder);
      record("polder", "churn", static_cast<int>(c), b);
      const double ring = ring_correctness();
      row("polder", "churn", static_cast<int>(c), "ring_correctness", ring);
      hit_sum +=
          b.expected ? static_cast<double>(b.delivered) / static_cast<double>(b.expected) : 1;
      ring_sum += ring;
    }
    row("polder", "churn", -1, "hit_ratio_mean", hit_sum / static_cast<double>(o_.churn_cycles));
    row("polder", "churn", -1, "ring_correctness_mean",
        ring_sum / static_cast<double>(o_.churn_cycles));
    std::cout << "  churn " << o_.churn * 100 << "%/cycle: mean hit ratio "
              << hit_sum / static_cast<double>(o_.churn_cycles) << ", mean ring correctness "
              << ring_sum / static_cast<double>(o_.churn_cycles) << "\n";
  }

  struct Tracked {
    std::unordered_map<Index, std::uint32_t> hop;
    std::size_t members = 0;
    std::uint32_t max_hop = 0;
  };

  const ScenarioOptions& o_;
  Network net_;
  std::mt19937_64 rng_;
  Mesh mesh_;
  Workload workload_;
  std::vector<std::uint64_t> topic_ids_;
  std::vector<std::vector<std::uint32_t>> topics_of_;  // by node index, sorted
  std::uint64_t gossip_bytes_ = 0, publish_copies_ = 0;
  // Sizes of the gossip messages sent, for the datagram-or-stream question (docs/poldercast.md).
  static constexpr std::size_t kMaxSizeSamples = 1 << 20;
  std::vector<std::uint32_t> gossip_sizes_;
  Index current_from_ = 0;
  std::vector<Tracked> tracked_;
  std::uint64_t base_seq_ = 0, next_seq_ = 1;
  Batch* batch_ = nullptr;
};

}  // namespace

Report run_scenario(const ScenarioOptions& options) {
  Experiment e(options);
  e.run();
  return std::move(e.report);
}

}  // namespace psycho::sim
