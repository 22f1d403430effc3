#include "poldercast/rings.hpp"

#include <algorithm>

namespace psycho::poldercast {

bool Rings::join(std::uint64_t topic, std::string subject) {
  return rings_.try_emplace(topic, Ring{std::move(subject), {}, {}}).second;
}

bool Rings::leave(std::uint64_t topic) {
  auto it = rings_.find(topic);
  if (it == rings_.end()) return false;
  for (auto id : it->second.succ) release(id, topic);
  for (auto id : it->second.pred) release(id, topic);
  rings_.erase(it);
  return true;
}

const Rings::Ring* Rings::ring(std::uint64_t topic) const {
  auto it = rings_.find(topic);
  return it == rings_.end() ? nullptr : &it->second;
}

bool Rings::heard(std::uint64_t id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.heard;
}

Rings::Insert Rings::insert(std::uint64_t topic, std::vector<std::uint64_t>& side, std::uint64_t id,
                            bool successor, bool vouched) {
  // Distance along the ring in this side's direction; unsigned arithmetic wraps around.
  auto distance = [&](std::uint64_t x) { return successor ? x - self_ : self_ - x; };
  const std::uint64_t d = distance(id);
  auto pos = side.begin();
  while (pos != side.end() && distance(*pos) < d) ++pos;
  if (pos != side.end() && *pos == id) return Insert::not_near;
  if (static_cast<std::size_t>(pos - side.begin()) >= slots_) return Insert::not_near;
  // Every slot from `pos` on would move back or out: hearsay moves only hearsay.
  if (!vouched && std::any_of(pos, side.end(), [&](std::uint64_t n) { return heard(n); })) {
    return Insert::needs_contact;
  }
  side.insert(pos, id);
  peers_[id].topics.push_back(topic);
  if (side.size() > slots_) {
    release(side.back(), topic);
    side.pop_back();
  }
  return Insert::taken;
}

bool Rings::evict(std::uint64_t id, std::uint64_t topic) {
  auto r = rings_.find(topic);
  if (r == rings_.end()) return false;
  bool held = false;
  for (auto* side : {&r->second.succ, &r->second.pred}) {
    if (std::erase(*side, id) > 0) {
      release(id, topic);
      held = true;
    }
  }
  return held;
}

Rings::Offer Rings::offer(const ProfilePtr& profile, bool first_hand) {
  const std::uint64_t id = profile->node_id;
  Offer result;
  if (id == self_) return result;
  bool& changed = result.changed;
  const bool vouched = first_hand || heard(id);
  // What a peer said of itself outweighs what others tell of it: hearsay about a peer we
  // heard from may be old (a view entry from before it subscribed) or made up, and neither
  // takes it out of a ring, where publications would no longer reach it, nor replaces the
  // profile it gave us.
  const bool overruled = !first_hand && vouched;
  if (auto known = peers_.find(id); known != peers_.end() && !overruled) {
    // A complete list that leaves out a topic we hold it for: it unsubscribed. (A partial
    // list says nothing about the topics it leaves out.)
    if (!profile->partial) {
      const auto held = known->second.topics;  // copy: evict() changes it
      for (auto topic : held) {
        if (!subscribes(*profile, topic)) changed = evict(id, topic) || changed;
      }
    }
  }
  for (const auto& t : profile->topics) {
    auto r = rings_.find(t.topic);
    if (r == rings_.end()) continue;
    for (const bool successor : {true, false}) {
      switch (
          insert(t.topic, successor ? r->second.succ : r->second.pred, id, successor, vouched)) {
        case Insert::taken:
          changed = true;
          break;
        case Insert::needs_contact:
          result.wants_contact = true;
          break;
        case Insert::not_near:
          break;
      }
    }
  }
  // Keep the fuller of the two profiles: a Rings exchange sends trimmed ones (partial, with
  // only the topics the receiver shares), which are news for the rings but poorer for the
  // views that sample ring peers.
  if (auto it = peers_.find(id); it != peers_.end()) {
    const ProfilePtr& old = it->second.profile;
    if (!old ||
        (!overruled && (!profile->partial || profile->topics.size() >= old->topics.size()))) {
      it->second.profile = profile;
    }
    if (first_hand) it->second.heard = true;
  }
  return result;
}

void Rings::touch(std::uint64_t id) noexcept {
  if (auto it = peers_.find(id); it != peers_.end()) {
    it->second.age = 0;
    it->second.heard = true;
  }
}

void Rings::release(std::uint64_t id, std::uint64_t topic) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  auto& topics = it->second.topics;
  if (auto t = std::find(topics.begin(), topics.end(), topic); t != topics.end()) {
    *t = topics.back();
    topics.pop_back();
  }
  if (topics.empty()) peers_.erase(it);
}

std::vector<std::uint64_t> Rings::remove(std::uint64_t id) {
  std::vector<std::uint64_t> topics;
  auto it = peers_.find(id);
  if (it == peers_.end()) return topics;
  auto held = it->second.topics;  // copy: evict() changes it, and erases the peer at the end
  std::sort(held.begin(), held.end());
  held.erase(std::unique(held.begin(), held.end()), held.end());
  for (auto topic : held) {
    if (evict(id, topic)) topics.push_back(topic);
  }
  return topics;
}
void Rings::age_all() noexcept {
  for (auto& [id, p] : peers_) {
    if (p.age < UINT16_MAX) ++p.age;
  }
}

const Rings::Peer* Rings::peer(std::uint64_t id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

const Rings::Peer* Rings::oldest() const noexcept {
  const Peer* best = nullptr;
  for (const auto& [id, p] : peers_) {
    if (best == nullptr || p.age > best->age) best = &p;
  }
  return best;
}

std::uint8_t Rings::priority(std::uint64_t topic) const {
  const Ring* r = ring(topic);
  if (r == nullptr) return 0;
  const std::size_t missing = 2 * slots_ - r->succ.size() - r->pred.size();
  return static_cast<std::uint8_t>(std::min<std::size_t>(missing, 2));
}

}  // namespace psycho::poldercast
