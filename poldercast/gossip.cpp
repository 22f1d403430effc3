// Node, part three: the gossip cycle. Each tick() ages the views, checks on peers that owe
// an answer, and runs one exchange per layer (Cyclon, Vicinity, Rings); the answering side
// of those exchanges is here too. Part one (node.cpp) receives and dispatches.
#include <algorithm>
#include <iterator>
#include <unordered_set>

#include "poldercast/node.hpp"

namespace psycho::poldercast {

namespace {

// Rings exchanges owed to neighbours that took a dead peer's slot, made per cycle on top of
// the usual ones.
constexpr std::size_t kUrgentPerCycle = 2;

}  // namespace

void Node::tick(std::int64_t now_ms) {
  now_ms_ = now_ms;
  ++cycle_;
  finds_this_cycle_ = 0;
  ring_checks_this_cycle_ = 0;
  finds_by_origin_.clear();
  shares_.clear();
  // A partner that has not answered within a cycle and answer_timeout is gone (it was
  // already taken out of the Cyclon and Vicinity views before we wrote to it), unless it has
  // sent us something since: then it is alive, and our request or its answer is stuck behind
  // a flood on the link (its reads pause while its subscribers catch up). Forgetting the
  // request lets the next cycle ask again.
  std::vector<std::uint64_t> silent;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Waiting& w = it->second;
    if (w.cycle < cycle_ && w.extensions < options_.backlog_grace_cycles &&
        transport_.backlog(w.address) > 0) {
      // Our request is still queued behind data to it: give it another cycle.
      w.cycle = cycle_;
      ++w.extensions;
      ++it;
    } else if (w.cycle < cycle_ && now_ms_ - w.since_ms >= options_.answer_timeout_ms) {
      if (w.heard_since) {
        ++counters_.answers_overdue;
      } else {
        silent.push_back(it->first.first);
      }
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto id : silent) dead(id);
  std::erase_if(dead_,
                [&](const auto& d) { return cycle_ - d.second > options_.dead_memory_cycles; });
  expire_publishing();

  cyclon_.age_all();
  vicinity_.age_all();
  rings_.age_all();
  refresh_profile();
  if (cyclon_.empty()) contact_seed();
  cyclon_step();
  vicinity_step();
  rings_step();
  ping_step();
}

// The nearest neighbours carry every walk, so a crashed one must be noticed fast; a Rings
// exchange reaches one or two a cycle, pings the rest. Any message from a peer counts as an
// answer; silence for a cycle makes it dead.
void Node::ping_step() {
  std::vector<const Rings::Peer*> quiet;
  std::unordered_set<std::uint64_t> seen;
  for (const auto& [topic, ring] : rings_.rings()) {
    for (const auto* side : {&ring.succ, &ring.pred}) {
      if (side->empty() || !seen.insert(side->front()).second) continue;
      const auto* p = rings_.peer(side->front());
      if (p == nullptr || !p->profile || p->age < options_.ping_after_cycles) continue;
      if (waiting_.count({p->profile->node_id, Layer::rings}) > 0) continue;
      quiet.push_back(p);
    }
  }
  std::sort(quiet.begin(), quiet.end(), [](auto* a, auto* b) { return a->age > b->age; });
  if (quiet.size() > options_.max_pings) quiet.resize(options_.max_pings);
  if (quiet.empty()) return;
  const auto bytes = encode_message(message(Type::ping));
  for (const auto* p : quiet) {
    expect_answer(p->profile->node_id, Layer::ping, {}, p->profile->address);
    if (send(*p->profile, bytes)) ++counters_.pings_sent;
  }
}

void Node::expect_answer(std::uint64_t id, Layer layer, std::vector<std::uint64_t> sent,
                         const std::string& address) {
  const auto [it, fresh] = waiting_.try_emplace({id, layer});
  const std::int64_t since = fresh ? now_ms_ : it->second.since_ms;
  const bool heard = !fresh && it->second.heard_since;
  it->second = {cycle_, std::move(sent), address, 0, since, heard};
}

void Node::contact_seed() {
  if (seeds_.empty()) return;
  const auto& seed = seeds_[rng_() % seeds_.size()];
  if (seed == address_) return;
  std::vector<Entry> none;
  // Seeds have no id yet: the answer's sender profile introduces them.
  if (send_gossip(Type::cyclon_request, seed, 0, none)) ++counters_.exchanges_started[0];
}

void Node::cyclon_step() {
  const Entry* oldest = cyclon_.oldest();
  if (oldest == nullptr) return;
  const Entry target = *oldest;
  cyclon_.remove(target.id());
  auto entries = cyclon_.sample(options_.cyclon_gossip - 1, target.id(), rng_);
  std::vector<std::uint64_t> sent;
  for (const auto& e : entries) sent.push_back(e.id());
  entries.push_back({self_, 0});
  expect_answer(target.id(), Layer::cyclon, std::move(sent), target.profile->address);
  if (send_gossip(Type::cyclon_request, target.profile->address, target.id(), entries)) {
    ++counters_.exchanges_started[0];
  }
}

void Node::vicinity_step() {
  const Entry* oldest = vicinity_.oldest();
  // An empty Vicinity view starts from a Cyclon peer.
  if (oldest == nullptr) oldest = cyclon_.oldest();
  if (oldest == nullptr) return;
  const Entry target = *oldest;
  vicinity_.remove(target.id());
  auto entries =
      select_for(*target.profile, candidates(target.id()), options_.vicinity_gossip, rng_);
  expect_answer(target.id(), Layer::vicinity, {}, target.profile->address);
  if (send_gossip(Type::vicinity_request, target.profile->address, target.id(), entries)) {
    ++counters_.exchanges_started[1];
  }
}

// Each cycle starts a Rings exchange with the least recently heard nearest (slot 0)
// neighbour and one with the least recently heard ring peer of all.
void Node::rings_step() {
  std::vector<const Rings::Peer*> targets;
  const Rings::Peer* nearest = nullptr;
  for (const auto& [topic, ring] : rings_.rings()) {
    for (const auto* side : {&ring.succ, &ring.pred}) {
      if (side->empty()) continue;
      const auto* p = rings_.peer(side->front());
      if (p != nullptr && p->profile && (nearest == nullptr || p->age > nearest->age)) nearest = p;
    }
  }
  if (nearest != nullptr) targets.push_back(nearest);
  const Rings::Peer* oldest = rings_.oldest();
  if (oldest != nullptr && oldest != nearest && oldest->profile) targets.push_back(oldest);
  for (std::size_t n = 0; n < kUrgentPerCycle && !urgent_.empty(); ++n) {
    const auto* p = rings_.peer(urgent_.front());
    urgent_.pop_front();
    if (p != nullptr && p->profile &&
        std::find(targets.begin(), targets.end(), p) == targets.end()) {
      targets.push_back(p);
    }
  }
  for (const auto* peer : targets) {
    const ProfilePtr target = peer->profile;
    auto key = std::make_pair(target->node_id, Layer::rings);
    if (waiting_.count(key) > 0) continue;  // already asked; its silence will tell
    auto entries = rings_entries_for(*target);
    expect_answer(target->node_id, Layer::rings, {}, target->address);
    if (send_gossip(Type::rings_request, target->address, target->node_id, entries))
      ++counters_.exchanges_started[2];
  }
}

// Everything we could tell a partner about: both views, ring peers and ourselves, one entry
// per id, never the partner itself. A node in thousands of rings has thousands of ring
// peers; a random 2·v of them keep the selection's cost bounded.
std::vector<Entry> Node::candidates(std::uint64_t except) {
  std::vector<Entry> all;
  const std::size_t ring_sample = 2 * options_.vicinity_view;
  all.reserve(cyclon_.size() + vicinity_.size() + ring_sample + 1);
  all.insert(all.end(), cyclon_.entries().begin(), cyclon_.entries().end());
  all.insert(all.end(), vicinity_.entries().begin(), vicinity_.entries().end());
  std::size_t seen = 0;
  const std::size_t first_ring = all.size();
  for (const auto& [id, peer] : rings_.peers()) {
    if (!peer.profile) continue;
    // Reservoir sampling: every ring peer equally likely to be among the sample.
    if (all.size() - first_ring < ring_sample) {
      all.push_back({peer.profile, peer.age});
    } else if (const auto j = rng_() % (seen + 1); j < ring_sample) {
      all[first_ring + j] = {peer.profile, peer.age};
    }
    ++seen;
  }
  dedupe_best(all, id_);
  std::erase_if(all, [&](const Entry& e) { return e.id() == except; });
  all.push_back({self_, 0});
  return all;
}

// What the Rings layer sends `target`: for each of its topics (those we share first, then
// the neediest), the nearest subscribers we know on either side of its id.
std::vector<Entry> Node::rings_entries_for(const Profile& target) const {
  std::vector<TopicInterest> topics = target.topics;
  std::sort(topics.begin(), topics.end(), [&](const TopicInterest& a, const TopicInterest& b) {
    const bool ours_a = subscribed(a.topic), ours_b = subscribed(b.topic);
    if (ours_a != ours_b) return ours_a;
    return a.priority > b.priority;
  });
  std::vector<Entry> out;
  std::unordered_set<std::uint64_t> taken;
  std::vector<Entry> subs;
  for (const auto& t : topics) {
    if (out.size() >= options_.rings_gossip) break;
    subs.clear();
    for (const auto* view : {&cyclon_, &vicinity_}) {
      for (const auto& e : view->entries()) {
        if (subscribes(*e.profile, t.topic)) subs.push_back(e);
      }
    }
    if (const auto* ring = rings_.ring(t.topic)) {
      if (subscribes(*self_, t.topic)) subs.push_back({self_, 0});
      for (const auto* side : {&ring->succ, &ring->pred}) {
        for (auto id : *side) {
          if (const auto* p = rings_.peer(id); p != nullptr && p->profile)
            subs.push_back({p->profile, p->age});
        }
      }
    }
    std::erase_if(subs, [&](const Entry& e) { return e.id() == target.node_id; });
    for (bool successor : {true, false}) {
      auto distance = [&](const Entry& e) {
        return successor ? e.id() - target.node_id : target.node_id - e.id();
      };
      std::sort(subs.begin(), subs.end(),
                [&](const Entry& a, const Entry& b) { return distance(a) < distance(b); });
      std::size_t added = 0;
      for (std::size_t i = 0; i < subs.size() && added < options_.ring_slots; ++i) {
        if (!taken.insert(subs[i].id()).second) {
          // Already sent for another topic or side; it still counts as this side's pick.
          ++added;
          continue;
        }
        if (out.size() >= options_.rings_gossip) break;
        out.push_back(subs[i]);
        ++added;
      }
    }
  }
  // Each entry goes with only the topics the target shares (a partial profile): that is all
  // its rings need, and it lets one message carry many more entries.
  for (auto& e : out) {
    auto trimmed =
        std::make_shared<Profile>(Profile{e.profile->node_id, e.profile->address, true, {}});
    const auto& theirs = e.profile->topics;
    std::set_intersection(
        theirs.begin(), theirs.end(), target.topics.begin(), target.topics.end(),
        std::back_inserter(trimmed->topics),
        [](const TopicInterest& x, const TopicInterest& y) { return x.topic < y.topic; });
    trimmed->partial = trimmed->topics.size() < theirs.size() || e.profile->partial;
    e.profile = std::move(trimmed);
  }
  return out;
}

// --- the other side of the exchanges ---------------------------------------------------------

void Node::offer_to_rings(const ProfilePtr& profile, bool first_hand) {
  if (!rings_.offer(profile, first_hand).wants_contact) return;
  const std::uint64_t id = profile->node_id;
  if (waiting_.count({id, Layer::ping}) > 0) return;  // already asked; its answer will tell
  if (ring_checks_this_cycle_ >= options_.max_ring_checks) {
    ++counters_.ring_checks_deferred;
    return;
  }
  ++ring_checks_this_cycle_;
  // Its PONG comes over its own link: heard_from() then offers it first-hand. Silence makes
  // it dead, and it is forgotten by the views too.
  expect_answer(id, Layer::ping, {}, profile->address);
  if (send(*profile, encode_message(message(Type::ping)))) ++counters_.ring_checks;
}

void Node::on_cyclon(const WireMessage& m, const ProfilePtr& sender, std::vector<Entry>& received) {
  std::vector<std::uint64_t> sent;
  if (m.type == Type::cyclon_request) {
    auto reply = cyclon_.sample(options_.cyclon_gossip, sender->node_id, rng_);
    for (const auto& e : reply) sent.push_back(e.id());
    send_gossip(Type::cyclon_response, sender->address, sender->node_id, reply);
    // The requester put itself in with age 0; a seed's first contact may not have.
    if (std::none_of(received.begin(), received.end(),
                     [&](const Entry& e) { return e.id() == sender->node_id; })) {
      received.push_back({sender, 0});
    }
  } else {
    auto it = waiting_.find({sender->node_id, Layer::cyclon});
    if (it != waiting_.end()) {
      sent = std::move(it->second.sent);
      waiting_.erase(it);
      ++counters_.exchanges_answered[0];
    } else if (cyclon_.size() < cyclon_.capacity()) {
      // The answer of a seed: it is our first peer.
      received.push_back({sender, 0});
      ++counters_.exchanges_answered[0];
    }
  }
  counters_.hearsay_refused +=
      cyclon_.merge_cyclon(received, std::move(sent), id_, cyclon_.capacity() / 2);
}

void Node::on_vicinity(const WireMessage& m, const ProfilePtr& sender,
                       std::vector<Entry>& received) {
  if (m.type == Type::vicinity_request) {
    auto reply = select_for(*sender, candidates(sender->node_id), options_.vicinity_gossip, rng_);
    send_gossip(Type::vicinity_response, sender->address, sender->node_id, reply);
  } else if (waiting_.erase({sender->node_id, Layer::vicinity}) > 0) {
    ++counters_.exchanges_answered[1];
  }
  received.push_back({sender, 0});
  merge_vicinity(received);
}

void Node::merge_vicinity(const std::vector<Entry>& received) {
  auto all = candidates(id_);
  all.pop_back();  // ourselves
  all.insert(all.end(), received.begin(), received.end());
  dedupe_best(all, id_);
  counters_.hearsay_refused += limit_hearsay(all, vicinity_.capacity() / 2);
  vicinity_.assign(select_for(*self_, all, vicinity_.capacity(), rng_));
}

void Node::on_rings(const WireMessage& m, const ProfilePtr& sender) {
  // The received entries were offered to the rings on arrival.
  if (m.type == Type::rings_request) {
    auto reply = rings_entries_for(*sender);
    send_gossip(Type::rings_response, sender->address, sender->node_id, reply);
  } else if (waiting_.erase({sender->node_id, Layer::rings}) > 0) {
    ++counters_.exchanges_answered[2];
  }
}

}  // namespace psycho::poldercast
