// Node, part one: construction, subscriptions and the profile, sending, receiving (checks
// and dispatch), and peers coming and going. Part two (dissemination.cpp) publishes and
// forwards; part three (gossip.cpp) runs the cycle and the three layers' exchanges.
#include "poldercast/node.hpp"

#include <algorithm>
#include <unordered_set>

#include "poldercast/topic.hpp"

namespace psycho::poldercast {

namespace {

// Encoded size of a profile and a descriptor (docs/poldercast.md), to keep gossip messages
// under the portable size without encoding twice.
std::size_t profile_size(const Profile& p) {
  return 8 + 1 + p.address.size() + 1 + 2 + 9 * p.topics.size();  // id, address, flags, topics
}
constexpr std::size_t kHeaderSize = 4;  // magic, version, type

// Messages that only come back for something this node sent.
bool is_answer(Type type) {
  return type == Type::cyclon_response || type == Type::vicinity_response ||
         type == Type::rings_response || type == Type::pong ||
         type == Type::find_subscriber_response;
}
// Rings exchanges owed to neighbours that took a dead peer's slot: how many are remembered
// (each cycle makes a few of them, gossip.cpp).
constexpr std::size_t kMaxUrgent = 32;
// Senders whose share is tracked separately in one cycle; the rest share one entry (0).
constexpr std::size_t kMaxSharesTracked = 4096;

}  // namespace

Node::Node(NodeOptions options, std::uint64_t id, std::string address, Transport& transport,
           std::uint64_t seed)
    : options_(options),
      id_(id),
      address_(std::move(address)),
      transport_(transport),
      rng_(seed),
      cyclon_(options.cyclon_view),
      vicinity_(options.vicinity_view),
      rings_(id, options.ring_slots),
      seen_(options.seen_capacity, options.seen_ttl_ms),
      reply_routes_(options.reply_routes, options.reply_route_ttl_ms),
      publish_cache_(options.publish_cache_topics, options.publish_cache_ttl_ms) {
  refresh_profile();
}

// --- subscriptions and our profile -----------------------------------------------------------

bool Node::subscribe(std::string_view subject) {
  const std::uint64_t topic = topic_id(subject);
  if (!rings_.join(topic, std::string(subject))) return false;
  // Whoever we already know that subscribes is a ring candidate straight away.
  for (const auto* view : {&cyclon_, &vicinity_}) {
    for (const auto& e : view->entries()) offer_to_rings(e.profile, e.via == 0);
  }
  if (const auto* cached = publish_cache_.find(topic)) {
    for (const auto& p : *cached) offer_to_rings(p, false);
    publish_cache_.erase(topic);
  }
  refresh_profile();
  return true;
}

bool Node::unsubscribe(std::string_view subject) {
  const std::uint64_t topic = topic_id(subject);
  // The ring's peers stay known subscribers, as subscribe() takes the cache's into the ring:
  // this gateway may go on publishing to the subject (its last local subscriber went), and
  // its views may name none of them at this moment (an exchange takes its partner out).
  std::vector<ProfilePtr> neighbours;
  if (const auto* ring = rings_.ring(topic)) {
    for (const auto* side : {&ring->succ, &ring->pred}) {
      for (auto id : *side) {
        const auto* p = rings_.peer(id);
        if (p != nullptr && p->profile && !has_node(neighbours, id)) {
          neighbours.push_back(p->profile);
        }
      }
    }
  }
  if (!rings_.leave(topic)) return false;
  if (!neighbours.empty()) publish_cache_.offer(topic, std::move(neighbours), now_ms_);
  refresh_profile();
  return true;
}

// The profile we advertise: every topic with its ring's priority, at most
// max_profile_topics of them. Above the cap, topics whose rings still need neighbours go
// first, and the rest take turns from cycle to cycle, so each is advertised now and then.
void Node::refresh_profile() {
  std::vector<TopicInterest> needy, full;
  for (const auto& [topic, ring] : rings_.rings()) {
    const std::uint8_t priority = rings_.priority(topic);
    (priority > 0 ? needy : full).push_back({topic, priority});
  }
  const std::size_t cap = options_.max_profile_topics;
  std::vector<TopicInterest> topics;
  if (needy.size() + full.size() <= cap) {
    topics = std::move(needy);
    topics.insert(topics.end(), full.begin(), full.end());
  } else {
    std::shuffle(needy.begin(), needy.end(), rng_);
    if (needy.size() > cap) needy.resize(cap);
    topics = std::move(needy);
    std::sort(full.begin(), full.end(), [](auto& a, auto& b) { return a.topic < b.topic; });
    const std::size_t room = std::min(cap - topics.size(), full.size());
    const std::size_t start = full.empty() ? 0 : (cycle_ * room) % full.size();
    for (std::size_t i = 0; i < room; ++i) topics.push_back(full[(start + i) % full.size()]);
  }
  const bool partial = rings_.rings().size() > topics.size();
  auto profile = std::make_shared<Profile>(Profile{id_, address_, partial, std::move(topics)});
  normalize(*profile);
  self_ = std::move(profile);
}

// --- sending ---------------------------------------------------------------------------------

WireMessage Node::message(Type type) const {
  WireMessage m;
  m.type = type;
  m.sender = *self_;
  return m;
}

SharedBytes Node::encode_message(const WireMessage& m) const {
  auto bytes = std::make_shared<std::string>();
  encode(m, *bytes);
  return bytes;
}

SharedBytes Node::publication_bytes(const Publication& p) const {
  auto bytes = std::make_shared<std::string>();
  encode_publication(*self_, p, *bytes);
  return bytes;
}

bool Node::send(const std::string& address, std::uint64_t peer, const SharedBytes& bytes) {
  if (transport_.send(address, peer, bytes)) return true;
  ++counters_.send_failed;
  return false;
}

bool Node::send_publication(const Profile& to, const SharedBytes& bytes) {
  // A one-off reply straight back is never held: nobody publishes its subject again.
  const bool ours = publishing_ != nullptr && held_up_ && !publishing_->direct;
  if (options_.publication_backlog != 0 &&
      transport_.backlog(to.address) > options_.publication_backlog) {
    ++counters_.link_busy;
    // Copies relayed for others filled the link this far: hold the subject from now on.
    if (ours && transport_.holds_up(to.address)) held_up_(*publishing_, to.address);
    return false;
  }
  if (!send(to, bytes)) return false;
  if (ours && transport_.holds_up(to.address)) held_up_(*publishing_, to.address);
  return true;
}

// Sends a gossip message, dropping entries from the end until it fits the portable size.
bool Node::send_gossip(Type type, const std::string& address, std::uint64_t peer,
                       std::vector<Entry>& entries) {
  std::size_t size = kHeaderSize + profile_size(*self_) + 1;
  std::size_t fits = 0;
  for (; fits < entries.size(); ++fits) {
    const std::size_t more = profile_size(*entries[fits].profile) + 2;
    if (size + more > options_.max_gossip_message) break;
    size += more;
  }
  entries.resize(fits);
  WireMessage m = message(type);
  m.entries.reserve(entries.size());
  for (const auto& e : entries) m.entries.push_back({*e.profile, e.age});
  auto bytes = encode_message(m);
  counters_.gossip_bytes_sent += bytes->size();
  return send(address, peer, bytes);
}

// --- receiving -------------------------------------------------------------------------------

void Node::on_message(std::string_view bytes, std::uint64_t sender_id) {
  Limits limits;
  limits.max_gossip_message = options_.max_gossip_message;
  limits.max_publication = options_.max_publication;
  if (auto e = decode(bytes, limits, scratch_); e != DecodeError::none) {
    ++counters_.decode_errors[static_cast<std::size_t>(e)];
    return;
  }
  WireMessage& m = scratch_;
  // A publication is looked up in seen_ once the checks and bookkeeping below are done: they
  // hide the cache miss the look-up costs.
  SeenSet::Key seen_key{};
  if (m.type == Type::publish) {
    seen_key = SeenSet::key_of(m.publication.msg_id);
    seen_.prefetch(seen_key);
  }
  // A link that proved its peer's key carries only that peer's messages: nobody can speak
  // for another node, so views, rings and liveness hear only from whoever really sent.
  if (sender_id != 0 && m.sender.node_id != sender_id) {
    ++counters_.sender_mismatch;
    return;
  }
  if (m.sender.node_id == id_ || m.sender.address.empty()) return;  // our own echo, or no way back
  // A signal is for a browser's transport; its sender profile (partial, no topics) must not
  // replace the fuller one our views hold.
  if (m.type == Type::signal) return;
  if (!within_share(m.sender.node_id, m.type)) return;
  // Nobody needs to tell us about more nodes than an exchange of that kind carries.
  if (const std::size_t cap = exchange_size(m.type); m.entries.size() > cap) {
    counters_.descriptors_ignored += m.entries.size() - cap;
    m.entries.resize(cap);
  }
  // An answer from a node found dead or gone since we asked was under way when it left (its
  // LEAVE took another link): it must not bring the node back. A node that restarted asks
  // afresh, and its requests do.
  if (is_answer(m.type) && known_dead(m.sender.node_id)) return;
  normalize(m.sender);
  ProfilePtr sender = known_profile(m.sender);
  if (!sender) sender = std::make_shared<const Profile>(std::move(m.sender));
  heard_from(sender);

  std::vector<Entry> received;
  if (m.type != Type::publish && m.type != Type::find_subscriber) {
    received.reserve(m.entries.size());
    for (auto& d : m.entries) {
      if (d.profile.address.empty() || known_dead(d.profile.node_id)) continue;
      normalize(d.profile);
      received.push_back(
          {std::make_shared<const Profile>(std::move(d.profile)), d.age, sender->node_id});
      offer_to_rings(received.back().profile, false);
    }
  }
  switch (m.type) {
    case Type::cyclon_request:
    case Type::cyclon_response:
      on_cyclon(m, sender, received);
      break;
    case Type::vicinity_request:
    case Type::vicinity_response:
      on_vicinity(m, sender, received);
      break;
    case Type::rings_request:
    case Type::rings_response:
      on_rings(m, sender);
      break;
    case Type::publish:
      on_publish(m, sender, sender_id, seen_key);
      break;
    case Type::find_subscriber:
      on_find(m, sender);
      break;
    case Type::find_subscriber_response:
      m.entries.clear();
      for (auto& e : received) m.entries.push_back({*e.profile, e.age});
      on_found(m);
      break;
    case Type::leave:
      ++counters_.leaves_received;
      dead(sender->node_id);
      remember_dead(sender->node_id);
      break;
    case Type::ping:
      send(*sender, encode_message(message(Type::pong)));
      break;
    case Type::pong:
    case Type::relay:   // decode() refuses it: transports open relay envelopes
    case Type::signal:  // returned above
      break;
  }
}

std::size_t Node::exchange_size(Type type) const {
  switch (type) {
    case Type::cyclon_request:
    case Type::cyclon_response:
      return options_.cyclon_gossip;
    case Type::vicinity_request:
    case Type::vicinity_response:
      return options_.vicinity_gossip;
    case Type::rings_request:
    case Type::rings_response:
      return options_.rings_gossip;
    case Type::find_subscriber:
      return 1;
    case Type::find_subscriber_response:
      return options_.fanout;
    default:
      return 0;
  }
}

bool Node::within_share(std::uint64_t peer, Type type) {
  const bool request = type == Type::cyclon_request || type == Type::vicinity_request ||
                       type == Type::rings_request || type == Type::ping;
  const bool walk = type == Type::find_subscriber;
  if (!request && !walk) return true;  // answers, publications, LEAVE: bounded elsewhere
  if (shares_.size() >= kMaxSharesTracked && shares_.count(peer) == 0) peer = 0;
  Share& share = shares_[peer];
  if (share.cut) return false;
  std::size_t& used = request ? share.requests : share.walks;
  if (++used <= (request ? options_.requests_per_peer : options_.walks_per_peer)) return true;
  ++(request ? counters_.throttled_requests : counters_.throttled_walks);
  if (++share.dropped >= options_.flood_drops && peer != 0) {
    // A flood, not a burst: cut its links, and forget it as a peer.
    share.cut = true;
    ++counters_.peers_cut;
    transport_.disconnect(peer);
    dead(peer);
  }
  return false;
}

// A peer sends its profile with every message, and it seldom changes: a flood of
// publications from one peer took an allocation (and a copy of its address and topics) per
// publication to hold what the rings or the views held already.
ProfilePtr Node::known_profile(const Profile& profile) const {
  if (const auto* peer = rings_.peer(profile.node_id);
      peer != nullptr && peer->profile && *peer->profile == profile) {
    return peer->profile;
  }
  for (const auto* view : {&vicinity_, &cyclon_}) {
    if (const Entry* e = view->find(profile.node_id); e != nullptr && *e->profile == profile) {
      return e->profile;
    }
  }
  return nullptr;
}

void Node::heard_from(const ProfilePtr& sender) {
  const std::uint64_t id = sender->node_id;
  dead_.erase(id);
  waiting_.erase({id, Layer::ping});
  for (auto it = waiting_.lower_bound({id, Layer::cyclon});
       it != waiting_.end() && it->first.first == id; ++it) {
    it->second.heard_since = true;
  }
  rings_.offer(sender, true);
  rings_.touch(id);
  // Views keep their ages, but take the fresher profile.
  cyclon_.refresh(sender);
  vicinity_.refresh(sender);
}

// --- peers coming and going -----------------------------------------------------------------

void Node::dead(std::uint64_t id) {
  const auto topics = rings_.remove(id);
  // Both views are cleaned, whatever the first answers.
  const bool in_cyclon = cyclon_.remove(id);
  const bool in_vicinity = vicinity_.remove(id);
  const bool known = in_cyclon || in_vicinity || !topics.empty();
  publish_cache_.forget_peer(id);
  // Nothing we asked it is awaited any more: an answer still under way is stale.
  waiting_.erase(waiting_.lower_bound({id, Layer::cyclon}),
                 waiting_.upper_bound({id, Layer::ping}));
  if (!known) return;
  ++counters_.peers_dead;
  remember_dead(id);
  // Refill the ring slots it leaves empty from what the views hold, and ask the new
  // nearest neighbours of those rings what they know.
  for (const auto* view : {&cyclon_, &vicinity_}) {
    for (const auto& e : view->entries()) offer_to_rings(e.profile, e.via == 0);
  }
  for (auto topic : topics) {
    const auto* ring = rings_.ring(topic);
    for (const auto* side : {&ring->succ, &ring->pred}) {
      if (side->empty()) continue;
      const auto next = side->front();
      if (urgent_.size() < kMaxUrgent &&
          std::find(urgent_.begin(), urgent_.end(), next) == urgent_.end()) {
        urgent_.push_back(next);
      }
    }
  }
}

void Node::remember_dead(std::uint64_t id) {
  if (dead_.size() < options_.dead_memory_capacity || dead_.count(id) > 0) dead_[id] = cycle_;
}

bool Node::known_dead(std::uint64_t id) const { return dead_.count(id) > 0; }

bool Node::suspect(std::uint64_t id) const {
  for (Layer layer : {Layer::cyclon, Layer::vicinity, Layer::rings, Layer::ping}) {
    auto it = waiting_.find({id, layer});
    if (it != waiting_.end() && it->second.cycle < cycle_) return true;
  }
  return false;
}

void Node::on_unreachable(const std::string& address, std::uint64_t peer) {
  std::vector<std::uint64_t> ids;
  auto gone = [&](const Profile& p) {
    return p.address == address && (peer == 0 || p.node_id == peer);
  };
  for (const auto* view : {&cyclon_, &vicinity_}) {
    for (const auto& e : view->entries()) {
      if (gone(*e.profile)) ids.push_back(e.id());
    }
  }
  for (const auto& [id, ring_peer] : rings_.peers()) {
    if (ring_peer.profile && gone(*ring_peer.profile)) ids.push_back(id);
  }
  for (auto id : ids) dead(id);
}

void Node::leave() {
  const auto bytes = encode_message(message(Type::leave));
  std::unordered_set<std::string> told;
  for (const auto& e : candidates(id_)) {
    if (e.id() != id_ && told.insert(e.profile->address).second) send(*e.profile, bytes);
  }
}

}  // namespace psycho::poldercast
