// One PolderCast overlay node: the three gossip layers (Cyclon, Vicinity, Rings),
// dissemination along rings plus random shortcuts, publishing to topics the node does not
// subscribe to (publish cache and FIND_SUB walks), dead-peer handling and LEAVE
// (docs/poldercast.md). It is pure protocol logic: bytes come in through on_message(), go
// out through a Transport, and time only moves when tick() says so. The gateway's adapter
// drives it from its event loop; psycho-sim drives thousands of them on a virtual clock.
//
// Not thread-safe: one thread owns a node and its transport.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "poldercast/batch_signature.hpp"
#include "poldercast/publish_cache.hpp"
#include "poldercast/reply_routes.hpp"
#include "poldercast/rings.hpp"
#include "poldercast/seen_set.hpp"
#include "poldercast/transport.hpp"
#include "poldercast/views.hpp"
#include "poldercast/wire.hpp"

namespace psycho::poldercast {

// How a subscriber forwards a publication. Only `polder` is for production; the other two
// are the simulator's baselines on the very same overlay.
enum class Dissemination { polder, ring_only, gossip_only };

struct NodeOptions {
  std::size_t cyclon_view = 20, cyclon_gossip = 10;
  std::size_t vicinity_view = 20, vicinity_gossip = 10;
  std::size_t ring_slots = 2;  // per direction
  std::size_t rings_gossip = 24;
  // Nearest ring neighbours not heard from for this many cycles are pinged, at most
  // `max_pings` a cycle, so that a crash is noticed in a few cycles.
  std::uint32_t ping_after_cycles = 3;
  std::size_t max_pings = 8;
  // Hearsay ring candidates nearer than a neighbour we heard from are pinged first (see
  // rings.hpp), at most this many a cycle; the rest wait for the next time they are offered.
  std::size_t max_ring_checks = 16;
  std::size_t fanout = 3;  // F
  Dissemination dissemination = Dissemination::polder;
  std::size_t max_profile_topics = 256;
  std::size_t max_gossip_message = 16 * 1024;
  std::size_t max_publication = (1 << 20) + (64 << 10);  // a whole PUBLISH message
  std::uint16_t max_overlay_hops = 255;
  std::size_t seen_capacity = 65536;
  std::int64_t seen_ttl_ms = 120'000;
  // Publications stop going to a peer while this many bytes wait on the link to it (0: no
  // limit); gossip, walks and pings may still use the rest of the link's queue, so a peer
  // that is merely slower than the publishers is not then declared dead for want of them.
  std::size_t publication_backlog = 0;
  // Publishing to topics this node does not subscribe to.
  std::size_t publish_cache_topics = 1024;     // topics whose subscribers are kept
  std::int64_t publish_cache_ttl_ms = 60'000;  // a topic unused this long is forgotten
  std::uint8_t find_ttl = 32;                  // hops a FIND_SUB walk may take
  std::size_t find_walks = 4;                  // walks started per search
  std::uint32_t find_timeout_cycles = 3;       // walks unanswered this long have failed
  // After walks found nobody, publications to that topic are dropped at once for this long
  // (unless a subscriber shows up in the views meanwhile).
  std::uint32_t unfound_cycles = 10;
  std::size_t pending_bytes = 4 << 20;  // publications waiting for a FIND_SUB answer
  std::size_t pending_per_topic = 64;
  std::size_t max_finds_per_cycle = 64;  // FIND_SUB handled per cycle; more are dropped
  // Of those, at most this many per walk origin, so one origin cannot use up the rest.
  std::size_t finds_per_origin = 8;
  // Topics searched for at once (walks started and still awaiting answers).
  std::size_t find_topics = 1024;
  // Replies go straight back to the requester's gateway (reply_routes.hpp).
  std::size_t reply_routes = 4096;
  std::int64_t reply_route_ttl_ms = 60'000;
  // A peer found dead is not taken back from second-hand gossip for this many cycles.
  std::uint32_t dead_memory_cycles = 30;
  // A silent peer with data still queued towards it gets up to this many more cycles.
  std::uint32_t backlog_grace_cycles = 10;
  // A gossip request is given until the next cycle and at least this long to be answered
  // before its partner counts as dead, so that a live peer busy with a flood, or a short
  // cycle, does not get a healthy peer declared dead.
  std::int64_t answer_timeout_ms = 1000;
  std::size_t dead_memory_capacity = 4096;
  // What one peer may send us per cycle (docs/poldercast.md#hostile-peers): gossip requests
  // and pings, and FIND_SUB walks handed to us. Beyond, they are dropped (throttled); a
  // peer that has this many dropped in one cycle is flooding and is cut off.
  std::size_t requests_per_peer = 16;
  std::size_t walks_per_peer = 32;
  std::size_t flood_drops = 64;
};

enum class Layer : std::uint8_t { cyclon, vicinity, rings, ping };
inline constexpr std::size_t kLayers = 3;

// Upper bounds of the overlay-hops histogram buckets (the last one catches the rest).
inline constexpr std::array<std::uint16_t, 9> kHopBuckets = {1, 2, 3, 4, 6, 8, 12, 16, 32};

struct NodeCounters {
  std::array<std::uint64_t, kLayers> exchanges_started{}, exchanges_answered{};
  std::uint64_t gossip_bytes_sent = 0;
  std::uint64_t published = 0;       // originated here
  std::uint64_t forwarded = 0;       // copies sent on (including the origin's own)
  std::uint64_t delivered = 0;       // first copies handed to local subscribers
  std::uint64_t duplicates = 0;      // later copies, dropped
  std::uint64_t not_subscribed = 0;  // publications for a topic this node is not in
  std::uint64_t hop_limit = 0;
  std::uint64_t no_subscriber = 0;  // publications dropped: nobody subscribes (as far as found)
  std::uint64_t pending_full = 0;   // publications dropped: the FIND_SUB wait queue was full
  std::uint64_t finds_started = 0, finds_answered = 0, finds_dropped = 0;
  std::uint64_t finds_over_budget = 0;  // walks refused: their origin used its share
  std::uint64_t finds_unsolicited = 0;  // answers to no walk of ours in progress, dropped
  std::uint64_t peers_dead = 0, leaves_received = 0, pings_sent = 0;
  // Hearsay ring candidates pinged before they may displace a neighbour, and those left for
  // a later cycle because this one's checks were used up.
  std::uint64_t ring_checks = 0, ring_checks_deferred = 0;
  std::uint64_t answers_overdue = 0;  // requests left unanswered by a peer that is alive
  std::uint64_t send_failed = 0;      // the transport refused at once
  std::uint64_t link_busy = 0;        // publications not sent: the link's backlog was too long
  std::uint64_t replies_direct = 0;   // replies sent straight to the requester's gateway
  std::array<std::uint64_t, 8> decode_errors{};  // by DecodeError
  std::uint64_t bad_topic = 0;                   // topic id not the hash of the subject
  // Messages whose sender is not the node their link authenticated, dropped.
  std::uint64_t sender_mismatch = 0;
  // Messages dropped from a peer past its per-cycle share (requests, walks), descriptors
  // beyond a layer's exchange size ignored, hearsay beyond one peer's share of a view
  // refused, and peers cut off for flooding.
  std::uint64_t throttled_requests = 0, throttled_walks = 0, descriptors_ignored = 0;
  std::uint64_t hearsay_refused = 0;
  std::uint64_t peers_cut = 0;
  // Publications signed here; checked on arrival; taken without a check because their link
  // was proven to be their signer's; dropped for a signature that does not hold.
  std::uint64_t signed_here = 0, signatures_checked = 0, signer_links = 0, bad_signature = 0;
  // Signatures made here (one per batch), and publications taken on a batch signature
  // verified before (only their proof was checked).
  std::uint64_t batches_signed = 0, batch_proofs = 0;
  std::uint64_t unsigned_replies = 0;  // straight back over a proven link: none needed
  std::array<std::uint64_t, kHopBuckets.size() + 1> hops{};
  std::uint64_t hops_sum = 0;
};

class Node final : public TransportEvents {
 public:
  using Deliver = std::function<void(const Publication&)>;
  using HeldUp = std::function<void(const Publication&, const std::string& address)>;

  Node(NodeOptions options, std::uint64_t id, std::string address, Transport& transport,
       std::uint64_t seed);

  std::uint64_t id() const noexcept { return id_; }
  const std::string& address() const noexcept { return address_; }
  // Called for the first copy of every publication on a subject this node subscribes to.
  void on_deliver(Deliver deliver) { deliver_ = std::move(deliver); }
  // Flow control: called for each copy of a publication made here (publish()) that went to
  // a link that holds up (Transport::holds_up), or was refused there for the link's last
  // quarter (link_busy), so that the owner holds that subject's next publications back
  // until the link catches up. Not reported: copies that go out later (after a walk found
  // subscribers), those forwarded for others, and replies sent straight back (one-off).
  void on_held_up(HeldUp held_up) { held_up_ = std::move(held_up); }
  // Signs what this node publishes and checks what it receives (docs/poldercast.md#signed-
  // publications); without it (the simulator, a plaintext overlay) neither happens. The
  // crypto must outlive the node.
  void set_crypto(const Crypto* crypto) { crypto_ = crypto; }
  // Bootstrap addresses, contacted while the Cyclon view is empty.
  void set_seeds(std::vector<std::string> seeds) { seeds_ = std::move(seeds); }

  // The simulator switches forwarding rules on a converged overlay to compare them.
  void set_dissemination(Dissemination d) noexcept { options_.dissemination = d; }

  // Joins (leaves) the ring of the exact subject. Wildcards never reach here.
  bool subscribe(std::string_view subject);
  bool unsubscribe(std::string_view subject);
  bool subscribed(std::uint64_t topic) const { return rings_.ring(topic) != nullptr; }

  // Sends a publication that originated at this gateway. `msg_id`, `topic` and
  // `overlay_hops` are filled in here.
  void publish(Publication publication);
  // Publishes several at once: on an overlay with keys, one signature covers them all
  // (batch_signature.hpp). The publications are left as sent (id, topic, signature and
  // proof filled in), for the caller to clear or reuse.
  void publish(std::span<Publication> batch);

  // One gossip cycle at time `now_ms`: timeouts, then each layer's active step.
  void tick(std::int64_t now_ms);
  // A clean shutdown: tells every known peer.
  void leave();

  // TransportEvents. `sender` 0: the transport does not authenticate (tests, the simulator).
  void on_message(std::string_view bytes, std::uint64_t sender = 0) override;
  void on_unreachable(const std::string& address, std::uint64_t peer = 0) override;

  const NodeCounters& counters() const noexcept { return counters_; }
  const PartialView& cyclon() const noexcept { return cyclon_; }
  const PartialView& vicinity() const noexcept { return vicinity_; }
  const Rings& rings() const noexcept { return rings_; }
  std::uint64_t cycle() const noexcept { return cycle_; }
  std::size_t seen_size() const noexcept { return seen_.size(); }
  std::size_t publish_cache_size() const noexcept { return publish_cache_.size(); }

 private:
  struct Waiting {  // a gossip request that has not been answered yet
    std::uint64_t cycle;
    std::vector<std::uint64_t> sent;  // Cyclon: the ids that went to the partner
    std::string address;
    std::uint32_t extensions = 0;  // cycles granted for a backlog towards it
    std::int64_t since_ms = 0;     // when first asked (asking again keeps it)
    bool heard_since = false;      // the partner sent us something after we asked
  };
  struct PendingTopic {  // publications waiting for FIND_SUB answers
    std::deque<SharedBytes> messages;
    std::uint64_t since_cycle = 0;  // when its search started
    bool searching = false;         // false: its search waits for a later cycle's budget
  };

  // Layers, active side.
  void cyclon_step();
  void vicinity_step();
  void rings_step();
  void ping_step();
  void contact_seed();
  // Layers, passive side and replies.
  void on_cyclon(const WireMessage& m, const ProfilePtr& sender, std::vector<Entry>& received);
  void on_vicinity(const WireMessage& m, const ProfilePtr& sender, std::vector<Entry>& received);
  void on_rings(const WireMessage& m, const ProfilePtr& sender);
  void merge_vicinity(const std::vector<Entry>& received);
  std::vector<Entry> candidates(std::uint64_t except);
  std::vector<Entry> rings_entries_for(const Profile& target) const;

  // Dissemination.
  // `seen_key`: SeenSet::key_of(m.publication.msg_id).
  void on_publish(WireMessage& m, const ProfilePtr& sender, std::uint64_t link_sender,
                  SeenSet::Key seen_key);
  // Whether the publication's signature holds (and counts the outcome). One that came over
  // a link proven to be its signer's needs no check: the link already vouches for it.
  bool authentic(const Publication& p, std::uint64_t link_sender);
  // One publication whose signed fields are final: on to its ring or subscribers.
  void send_published(Publication& p);
  // A publication made here has the id (r, own_id_tag(r)) for a random r: the second half
  // is a keyed hash of the first and this node's id, under the process's secret key. So the
  // node knows its own publications when the overlay brings them back (own_id) without
  // remembering them (the seen-set was a tenth of a publishing gateway's time), and no other
  // node can make an id pass for one of this node's.
  std::uint64_t own_id_tag(std::uint64_t random_half) const noexcept;
  bool own_id(const MessageId& msg_id) const noexcept;
  // The requester's address when send_published() will send `p` straight back to it (a
  // reply route, and no ring or known subscriber of its subject); nullptr otherwise.
  const std::string* straight_back_to(const Publication& p) const;
  // Whether a message to `address` arrives over a link that proves this node sent it.
  static bool proven_link_to(std::string_view address);
  // After its `direct` flag changed: a batch of its own.
  void sign_again(Publication& p);
  // False when it found nobody to send to.
  bool forward(const Publication& p, const Rings::Ring& ring, std::uint64_t from, bool from_ring);
  void publish_unsubscribed(const Publication& p, SharedBytes bytes, std::vector<ProfilePtr> subs);
  // New searches (FIND_SUB walks for a topic) this node starts in one cycle at most; the
  // rest wait for the next cycles, in order.
  std::size_t own_searches_per_cycle() const;
  // Sends `topic`'s walks now, and counts the search in this cycle's budget.
  void start_search(std::uint64_t topic, PendingTopic& pending);
  void start_waiting_searches();
  std::vector<ProfilePtr> known_subscribers(std::uint64_t topic, std::uint64_t except) const;
  void on_find(const WireMessage& m, const ProfilePtr& sender);
  bool take_find_budget(std::uint64_t origin);
  void on_found(const WireMessage& m);
  void flush_pending(std::uint64_t topic);
  void expire_publishing();

  // Peers.
  // Whether a message of `type` from `peer` is within its share this cycle; counts and,
  // for a flood, cuts the peer off.
  bool within_share(std::uint64_t peer, Type type);
  // The entries an exchange of `type` may carry.
  std::size_t exchange_size(Type type) const;
  void heard_from(const ProfilePtr& sender);
  // What the rings or the views hold for profile.node_id, if it equals `profile`; else null.
  ProfilePtr known_profile(const Profile& profile) const;
  // Offers a profile to the rings; hearsay that would displace a neighbour is pinged first.
  void offer_to_rings(const ProfilePtr& profile, bool first_hand);
  void dead(std::uint64_t id);
  // Notes a request that `id` must answer on `layer` (see Waiting).
  void expect_answer(std::uint64_t id, Layer layer, std::vector<std::uint64_t> sent,
                     const std::string& address);
  // Keeps `id` as dead for dead_memory_cycles (within dead_memory_capacity): gossip about it
  // is ignored meanwhile.
  void remember_dead(std::uint64_t id);
  bool known_dead(std::uint64_t id) const;
  // A request to `id` from an earlier cycle is still unanswered.
  bool suspect(std::uint64_t id) const;
  void refresh_profile();
  // `peer`: the node expected at `address` (0: unknown), see Transport::send.
  bool send(const std::string& address, std::uint64_t peer, const SharedBytes& bytes);
  bool send(const Profile& to, const SharedBytes& bytes) {
    return send(to.address, to.node_id, bytes);
  }
  // send() for publications: refused while the link holds options_.publication_backlog.
  bool send_publication(const Profile& to, const SharedBytes& bytes);
  bool send_gossip(Type type, const std::string& address, std::uint64_t peer,
                   std::vector<Entry>& entries);
  // A message of `type` from this node (our profile as its sender), to fill in and encode.
  WireMessage message(Type type) const;
  SharedBytes encode_message(const WireMessage& m) const;
  // A publication from this node, encoded as encode_message() would, without a WireMessage.
  SharedBytes publication_bytes(const Publication& p) const;
  // The first copy of a publication for a subject subscribed here: counted and delivered.
  void deliver_here(const Publication& p);

  NodeOptions options_;
  std::uint64_t id_;
  std::string address_;
  Transport& transport_;
  std::mt19937_64 rng_;
  Deliver deliver_;
  HeldUp held_up_;
  // While publish() sends a publication made here: that publication (for held_up_).
  const Publication* publishing_ = nullptr;
  const Crypto* crypto_ = nullptr;
  VerifiedRoots verified_roots_{1024};
  std::vector<std::string> seeds_;

  ProfilePtr self_;
  PartialView cyclon_, vicinity_;
  Rings rings_;
  std::map<std::pair<std::uint64_t, Layer>, Waiting> waiting_;
  std::unordered_map<std::uint64_t, std::uint64_t> dead_;  // id -> cycle found dead
  SeenSet seen_;
  ReplyRoutes reply_routes_;
  PublishCache publish_cache_;
  // Topics whose walks this node started, with the cycle they started: only answers for
  // these, until the walks time out, may fill the publish cache. At most find_topics.
  std::unordered_map<std::uint64_t, std::uint64_t> walks_;
  std::unordered_map<std::uint64_t, PendingTopic> pending_;
  // Topics whose search waits for a cycle with budget left, oldest first (at most
  // find_topics with walks_), and the searches started this cycle (own_searches_per_cycle()).
  std::deque<std::uint64_t> unsearched_;
  std::size_t searches_this_cycle_ = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> unfound_;  // topic -> cycle to search again
  std::size_t pending_bytes_ = 0;
  std::size_t finds_this_cycle_ = 0;
  std::size_t ring_checks_this_cycle_ = 0;
  // Walks handled this cycle per origin; one entry per walk handled, so at most
  // max_finds_per_cycle entries.
  std::unordered_map<std::uint64_t, std::size_t> finds_by_origin_;
  // This cycle's messages per sending peer; cleared every cycle, and bounded: past
  // kMaxSharesTracked senders in one cycle, new ones share one entry.
  struct Share {
    std::size_t requests = 0, walks = 0, dropped = 0;
    bool cut = false;
  };
  std::unordered_map<std::uint64_t, Share> shares_;

  // Ring neighbours to run a Rings exchange with soon: those that moved into a slot a dead
  // peer left. They know the neighbourhood we have just lost track of.
  std::deque<std::uint64_t> urgent_;
  std::uint64_t cycle_ = 0;
  std::int64_t now_ms_ = 0;
  WireMessage scratch_;  // decoding target, reused
  NodeCounters counters_;
};

}  // namespace psycho::poldercast
