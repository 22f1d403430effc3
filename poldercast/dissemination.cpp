// Node, part two: dissemination. Publishing (as a subscriber, as an outsider with the
// publish cache and FIND_SUB walks, and replies sent straight back), forwarding along rings
// and shortcuts, and the walks themselves. Part one (node.cpp) receives and
// dispatches; part three (gossip.cpp) runs the gossip layers.
#include <algorithm>
#include <cstring>

#include "poldercast/node.hpp"
#include "poldercast/relay.hpp"
#include "poldercast/topic.hpp"

namespace psycho::poldercast {

namespace {

bool contains(const std::vector<std::uint64_t>& ids, std::uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Index of `id` in `ids`, or the size of the vector's maximum when absent.
std::size_t position(const std::vector<std::uint64_t>& ids, std::uint64_t id) {
  auto it = std::find(ids.begin(), ids.end(), id);
  return it == ids.end() ? SIZE_MAX : static_cast<std::size_t>(it - ids.begin());
}

}  // namespace

// --- dissemination ---------------------------------------------------------------------------

void Node::deliver_here(const Publication& p) {
  ++counters_.delivered;
  std::size_t b = 0;
  while (b < kHopBuckets.size() && p.overlay_hops > kHopBuckets[b]) ++b;
  ++counters_.hops[b];
  counters_.hops_sum += p.overlay_hops;
  if (deliver_) deliver_(p);
}

void Node::publish(Publication p) { publish(std::span<Publication>(&p, 1)); }

void Node::publish(std::span<Publication> batch) {
  bool all_over_proven_links = true;
  for (auto& p : batch) {
    const std::uint64_t random_half = rng_();
    const std::uint64_t id[2] = {random_half, own_id_tag(random_half)};
    static_assert(sizeof id == sizeof p.msg_id);
    std::memcpy(p.msg_id.data(), id, sizeof id);
    p.topic = topic_id(p.subject);
    p.overlay_hops = 0;
    // Decided before signing, as the signature covers it: signing a reply a second time
    // cost as much as the rest of its way through the gateway.
    const std::string* requester = straight_back_to(p);
    p.direct = requester != nullptr;
    all_over_proven_links = all_over_proven_links && p.direct && proven_link_to(*requester);
    // Only replies to an inbox may come straight back (reply_routes.hpp).
    p.reply_address = inbox_subject(p.reply) ? address_ : std::string();
  }
  if (crypto_ != nullptr && all_over_proven_links) {
    // Replies that go straight back over a link that proves who sent them: the requester
    // takes them on that proof (authentic(): signer_link) and never passes them on, so a
    // signature would be checked by nobody. One Ed25519 signature is about a fifth of a
    // request's round trip across a secure link. (A reply whose route an earlier one used
    // up goes the ordinary way: send_published() signs it.)
    for (auto& p : batch) p.signer = crypto_->public_key();
    counters_.unsigned_replies += batch.size();
  } else if (crypto_ != nullptr) {
    for (std::size_t at = 0; at < batch.size(); at += kMaxBatch) {
      sign_batch(*crypto_, batch.subspan(at, std::min(kMaxBatch, batch.size() - at)));
      ++counters_.batches_signed;
    }
    counters_.signed_here += batch.size();
  }
  for (auto& p : batch) send_published(p);
}

std::uint64_t Node::own_id_tag(std::uint64_t random_half) const noexcept {
  return siphash13(process_hash_key(), random_half, id_);
}

bool Node::own_id(const MessageId& msg_id) const noexcept {
  std::uint64_t id[2];
  static_assert(sizeof id == sizeof msg_id);
  std::memcpy(id, msg_id.data(), sizeof id);
  return id[1] == own_id_tag(id[0]);
}

void Node::send_published(Publication& p) {
  // Not remembered in seen_: should the overlay bring it back, own_id() knows it by its id.
  ++counters_.published;
  // What waits for a search goes first, if its subscribers are known by now: a publication
  // must not overtake an earlier one of its subject.
  if (!pending_.empty() && pending_.contains(p.topic)) flush_pending(p.topic);
  publishing_ = &p;  // for held_up_, while it is sent
  struct Cleared {
    const Publication*& publishing;
    ~Cleared() { publishing = nullptr; }
  } cleared{publishing_};
  // A ring, or any subscriber we know of, always gets the publication the ordinary way: a
  // reply route (which any peer can plant) must never divert a subject others listen to.
  if (const auto* ring = rings_.ring(p.topic)) {
    if (forward(p, *ring, 0, false)) return;
    // A subscriber that knows no other yet (it has just subscribed: its ring is empty and
    // its views name nobody) searches as a non-subscriber does, rather than losing its own
    // publication uncounted: a page's first request, right after it subscribed, was lost so.
  }
  auto subs = known_subscribers(p.topic, 0);
  if (subs.empty()) {
    if (auto requester = reply_routes_.take(p.subject, now_ms_)) {
      // A reply: straight back to the gateway that asked, once, and only to the node that
      // signed the request (0 on an overlay without keys). Seldom not foreseen (its ring
      // forwarded it to nobody): then signed again.
      if (!p.direct) {
        p.direct = true;
        sign_again(p);
      }
      if (send_publication(Profile{requester->second, requester->first, false, {}},
                           publication_bytes(p))) {
        ++counters_.replies_direct;
      }
      return;
    }
  }
  if (p.direct) {  // an earlier reply in its batch used the route up
    p.direct = false;
    sign_again(p);
  }
  publish_unsubscribed(p, publication_bytes(p), std::move(subs));
}

// A dialable address is reached over our own link to it, whose handshake proved its node;
// an undialable one (a browser's) through a relay, whose link proves only the relay.
bool Node::proven_link_to(std::string_view address) {
  return !address.starts_with(kUndialablePrefix);
}

const std::string* Node::straight_back_to(const Publication& p) const {
  const std::string* requester = reply_routes_.address(p.subject, now_ms_);
  if (requester == nullptr || rings_.ring(p.topic) != nullptr ||
      !known_subscribers(p.topic, 0).empty()) {
    return nullptr;
  }
  return requester;
}

void Node::sign_again(Publication& p) {
  if (crypto_ == nullptr) return;
  sign_batch(*crypto_, std::span<Publication>(&p, 1));
  ++counters_.batches_signed;
}

bool Node::authentic(const Publication& p, std::uint64_t link_sender) {
  if (crypto_ == nullptr) return true;
  const std::uint64_t signer = crypto_->node_id(p.signer);
  if (link_sender != 0 && signer == link_sender) {
    ++counters_.signer_links;
    return true;
  }
  const Digest root = batch_root(*crypto_, p);
  if (verified_roots_.contains(p.signer, root)) {
    ++counters_.batch_proofs;
    return true;
  }
  ++counters_.signatures_checked;
  if (!crypto_->verify(p.signer, batch_signed_message(root), p.signature)) {
    ++counters_.bad_signature;
    return false;
  }
  verified_roots_.insert(p.signer, root);
  return true;
}

void Node::on_publish(WireMessage& m, const ProfilePtr& sender, std::uint64_t link_sender,
                      SeenSet::Key seen_key) {
  Publication& p = m.publication;
  if (p.topic != topic_id(p.subject)) {
    ++counters_.bad_topic;
    return;
  }
  // Duplicates first (cheap), then the signature, and only then is the id remembered. One
  // of this node's own publications, come back, is a duplicate too.
  if (own_id(p.msg_id) || seen_.contains(seen_key, now_ms_)) {
    ++counters_.duplicates;
    return;
  }
  if (!authentic(p, link_sender)) return;
  seen_.insert(seen_key, now_ms_);
  if (p.direct) {  // a reply to a request from here: delivered, never forwarded
    deliver_here(p);
    return;
  }
  const Rings::Ring* ring = rings_.ring(p.topic);
  if (ring == nullptr) {  // relay-free: only subscribers forward
    ++counters_.not_subscribed;
    return;
  }
  if (ring->subject == p.subject) {
    // Inboxes only; the reply goes to the requester's node, proven by its signature.
    reply_routes_.remember(p.reply, p.reply_address,
                           crypto_ != nullptr ? crypto_->node_id(p.signer) : 0, now_ms_);
    deliver_here(p);
  }
  if (p.overlay_hops >= options_.max_overlay_hops) {
    ++counters_.hop_limit;
    return;
  }
  const std::uint64_t from = sender->node_id;
  const bool from_ring = contains(ring->succ, from) || contains(ring->pred, from);
  ++p.overlay_hops;
  forward(p, *ring, from, from_ring);
}

// The forwarding rule (docs/poldercast.md): from a ring neighbour, on to the nearest
// neighbour on the other side; otherwise to both sides; the rest of the fan-out F goes to
// random Vicinity neighbours that subscribe, each starting a new walk.
bool Node::forward(const Publication& p, const Rings::Ring& ring, std::uint64_t from,
                   bool from_ring) {
  std::vector<ProfilePtr> targets;
  auto add = [&](std::uint64_t id) {
    if (id == from || id == id_ || has_node(targets, id)) return;
    if (const auto* peer = rings_.peer(id); peer != nullptr && peer->profile) {
      targets.push_back(peer->profile);
    }
  };
  const bool use_ring = options_.dissemination != Dissemination::gossip_only;
  if (use_ring) {
    // Nearest first; a slot holding the sender is skipped for the next one. A neighbour
    // that has not answered a request yet may have crashed: the spare gets a copy too.
    auto first_other = [&](const std::vector<std::uint64_t>& side) {
      for (auto id : side) {
        if (id == from) continue;
        add(id);
        if (!suspect(id)) return;
      }
    };
    // Which way it came: the side where the sender sits nearer (a node on both sides, as
    // in a ring of few, counts for the side where it is nearest; equal: for neither).
    const std::size_t on_succ = position(ring.succ, from), on_pred = position(ring.pred, from);
    const bool came_from_succ = from_ring && on_succ < on_pred;
    const bool came_from_pred = from_ring && on_pred < on_succ;
    if (!came_from_succ) first_other(ring.succ);
    if (!came_from_pred) first_other(ring.pred);
  }
  std::size_t fanout = options_.fanout;
  if (options_.dissemination == Dissemination::ring_only) fanout = targets.size();
  if (targets.size() < fanout) {
    std::vector<ProfilePtr> shortcuts;
    for (const auto* view : {&vicinity_, &cyclon_}) {
      for (const auto& e : view->entries()) {
        if (subscribes(*e.profile, p.topic)) shortcuts.push_back(e.profile);
      }
      if (!shortcuts.empty()) break;  // Cyclon only when Vicinity knows nobody
    }
    std::shuffle(shortcuts.begin(), shortcuts.end(), rng_);
    for (const auto& s : shortcuts) {
      if (targets.size() >= fanout) break;
      if (s->node_id != from && !has_node(targets, s->node_id)) targets.push_back(s);
    }
  }
  if (targets.empty()) return false;
  auto bytes = publication_bytes(p);
  for (const auto& t : targets) {
    if (send_publication(*t, bytes)) ++counters_.forwarded;
  }
  return true;
}

// Subscribers of `topic` known from any view, the rings and the publish cache.
std::vector<ProfilePtr> Node::known_subscribers(std::uint64_t topic, std::uint64_t except) const {
  std::vector<ProfilePtr> subs;
  auto add = [&](const ProfilePtr& p) {
    if (!p || p->node_id == except || p->node_id == id_ || !subscribes(*p, topic)) return;
    if (!has_node(subs, p->node_id)) subs.push_back(p);
  };
  for (const auto* view : {&vicinity_, &cyclon_}) {
    for (const auto& e : view->entries()) add(e.profile);
  }
  for (const auto& [id, peer] : rings_.peers()) add(peer.profile);
  if (const auto* cached = publish_cache_.find(topic)) {
    for (const auto& p : *cached) add(p);
  }
  return subs;
}

// A node that does not subscribe to the topic hands the publication to up to F known
// subscribers, each of which treats it as coming from outside its ring. With none known it
// waits for a FIND_SUB walk to find some. `subs`: known_subscribers(p.topic, 0).
void Node::publish_unsubscribed(const Publication& p, SharedBytes bytes,
                                std::vector<ProfilePtr> subs) {
  if (!subs.empty()) {
    std::shuffle(subs.begin(), subs.end(), rng_);
    if (subs.size() > options_.fanout) subs.resize(options_.fanout);
    for (const auto& s : subs) {
      if (send_publication(*s, bytes)) ++counters_.forwarded;
    }
    publish_cache_.use(p.topic, now_ms_) = std::move(subs);
    return;
  }
  // A walk found nobody a moment ago: drop at once rather than walk again for every
  // publication (a gateway may publish many subjects nobody on the overlay wants).
  if (auto it = unfound_.find(p.topic); it != unfound_.end()) {
    if (cycle_ < it->second) {
      ++counters_.no_subscriber;
      return;
    }
    unfound_.erase(it);
  }
  auto found = pending_.find(p.topic);
  const bool new_search = found == pending_.end();
  if ((!new_search && found->second.messages.size() >= options_.pending_per_topic) ||
      pending_bytes_ + bytes->size() > options_.pending_bytes ||
      (new_search && walks_.size() + unsearched_.size() >= options_.find_topics &&
       walks_.count(p.topic) == 0)) {
    ++counters_.pending_full;
    return;
  }
  auto& pending = new_search ? pending_[p.topic] : found->second;
  if (new_search) {
    if (searches_this_cycle_ < own_searches_per_cycle()) {
      start_search(p.topic, pending);
    } else {
      unsearched_.push_back(p.topic);
    }
  }
  pending_bytes_ += bytes->size();
  pending.messages.push_back(std::move(bytes));
}

// Each search sends at most one walk to a peer, and a peer cuts a node that sends it more
// than walks_per_peer walks in a cycle, with flood_drops over: an honest node publishing to
// many new subjects at once (replies to unique inboxes) was cut by its peers so. Half the
// share leaves the other half for walks this node passes on for others.
std::size_t Node::own_searches_per_cycle() const {
  return std::max<std::size_t>(1, options_.walks_per_peer / 2);
}

// find_walks walks to random Cyclon peers, each to a different one.
void Node::start_search(std::uint64_t topic, PendingTopic& pending) {
  ++searches_this_cycle_;
  pending.searching = true;
  pending.since_cycle = cycle_;
  walks_[topic] = cycle_;
  WireMessage find = message(Type::find_subscriber);
  find.topic = topic;
  find.ttl = options_.find_ttl;
  find.entries = {{*self_, 0}};
  auto walk = encode_message(find);
  for (const auto& e : cyclon_.sample(options_.find_walks, 0, rng_)) {
    if (send(*e.profile, walk)) ++counters_.finds_started;
  }
}

void Node::start_waiting_searches() {
  searches_this_cycle_ = 0;
  while (!unsearched_.empty() && searches_this_cycle_ < own_searches_per_cycle()) {
    const std::uint64_t topic = unsearched_.front();
    unsearched_.pop_front();
    // Gone meanwhile (a subscriber turned up in the views and took what waited), or queued
    // twice (gone, then waiting again) and searched for already.
    if (auto it = pending_.find(topic); it != pending_.end() && !it->second.searching) {
      start_search(topic, it->second);
    }
  }
}

// Each origin gets its share of the walks handled per cycle, so one origin (or one injected
// walk bouncing around a small overlay) cannot leave honest walks refused for a cycle.
bool Node::take_find_budget(std::uint64_t origin) {
  auto it = finds_by_origin_.find(origin);
  if (it != finds_by_origin_.end() && it->second >= options_.finds_per_origin) {
    ++counters_.finds_over_budget;
    return false;
  }
  if (finds_this_cycle_ >= options_.max_finds_per_cycle) {
    ++counters_.finds_dropped;
    return false;
  }
  ++finds_this_cycle_;
  ++finds_by_origin_[origin];
  return true;
}

void Node::on_find(const WireMessage& m, const ProfilePtr& sender) {
  const Profile& origin = m.entries.front().profile;
  if (origin.node_id == id_ || origin.address.empty()) return;
  if (!take_find_budget(origin.node_id)) return;
  auto subs = known_subscribers(m.topic, origin.node_id);
  if (subscribed(m.topic)) subs.insert(subs.begin(), self_);
  if (!subs.empty()) {
    if (subs.size() > options_.fanout) subs.resize(options_.fanout);
    WireMessage found = message(Type::find_subscriber_response);
    found.topic = m.topic;
    for (const auto& s : subs) found.entries.push_back({*s, 0});
    send(origin, encode_message(found));
    return;
  }
  // No further than our own walks go, whatever TTL it came with.
  const std::uint8_t ttl = std::min(m.ttl, options_.find_ttl);
  if (ttl <= 1) return;
  // Walk on to a random Cyclon peer that is neither the origin nor where it came from.
  auto next = cyclon_.sample(cyclon_.size(), sender->node_id, rng_);
  std::erase_if(next, [&](const Entry& e) { return e.id() == origin.node_id; });
  if (next.empty()) return;
  WireMessage walk = m;
  walk.sender = *self_;
  walk.ttl = static_cast<std::uint8_t>(ttl - 1);
  send(*next.front().profile, encode_message(walk));
}

// Only answers to walks this node started, while it still awaits them, may fill the publish
// cache: otherwise any peer could grow it with one small answer per topic.
void Node::on_found(const WireMessage& m) {
  auto walk = walks_.find(m.topic);
  if (walk == walks_.end() || cycle_ - walk->second > options_.find_timeout_cycles) {
    ++counters_.finds_unsolicited;
    return;
  }
  if (m.entries.empty()) return;
  auto& cached = publish_cache_.use(m.topic, now_ms_);
  for (const auto& d : m.entries) {
    if (d.profile.node_id == id_ || !subscribes(d.profile, m.topic)) continue;
    if (cached.size() >= 2 * options_.fanout) break;
    if (!has_node(cached, d.profile.node_id)) {
      cached.push_back(std::make_shared<const Profile>(d.profile));
    }
  }
  ++counters_.finds_answered;
  flush_pending(m.topic);
}

void Node::flush_pending(std::uint64_t topic) {
  auto it = pending_.find(topic);
  if (it == pending_.end()) return;
  auto subs = known_subscribers(topic, 0);
  if (subs.empty()) return;
  std::shuffle(subs.begin(), subs.end(), rng_);
  if (subs.size() > options_.fanout) subs.resize(options_.fanout);
  for (const auto& bytes : it->second.messages) {
    pending_bytes_ -= bytes->size();
    for (const auto& s : subs) {
      if (send_publication(*s, bytes)) ++counters_.forwarded;
    }
  }
  pending_.erase(it);
  // As publish_unsubscribed() does: the next publications go to them at once, rather than
  // waiting again whenever the views (which swap entries every cycle) happen to lack them.
  publish_cache_.use(topic, now_ms_) = std::move(subs);
}

void Node::expire_publishing() {
  // Subscribers the views learnt of meanwhile take what waits: a node that published before
  // its first exchange had nobody to send its walks to.
  std::vector<std::uint64_t> waiting;
  for (const auto& [topic, pending] : pending_) waiting.push_back(topic);
  for (auto topic : waiting) flush_pending(topic);
  start_waiting_searches();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.searching && cycle_ - it->second.since_cycle > options_.find_timeout_cycles) {
      if (unfound_.size() >= options_.publish_cache_topics) unfound_.erase(unfound_.begin());
      unfound_[it->first] = cycle_ + options_.unfound_cycles;
      counters_.no_subscriber += it->second.messages.size();
      for (const auto& b : it->second.messages) pending_bytes_ -= b->size();
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(walks_,
                [&](const auto& w) { return cycle_ - w.second > options_.find_timeout_cycles; });
  publish_cache_.expire(now_ms_);
}

}  // namespace psycho::poldercast
