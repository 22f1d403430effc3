#include "adapters/poldercast/report.hpp"

#include <algorithm>
#include <utility>

#include "metrics/json.hpp"

namespace psycho::poldercast {

namespace {

using Type = metrics::Sample::Type;
using metrics::add_family;
using metrics::add_sample;
constexpr std::size_t kMaxVarzRings = 1000;  // /varz lists at most this many rings

double n(std::uint64_t v) { return static_cast<double>(v); }

constexpr const char* kLayerNames[kLayers] = {"cyclon", "vicinity", "rings"};

// Topics whose nearest successor and predecessor are both known, out of all subscribed.
double ring_completeness(const Rings& rings) {
  if (rings.rings().empty()) return 1;
  std::size_t complete = 0;
  for (const auto& [topic, ring] : rings.rings()) complete += rings.complete(ring) ? 1 : 0;
  return static_cast<double>(complete) / static_cast<double>(rings.rings().size());
}

void samples(const ReportInputs& in, std::vector<metrics::Sample>& s) {
  const Node& node = in.node;
  const NodeCounters& c = node.counters();
  add_family(s, Type::gauge, "view_size",
             "Entries in each of the overlay's views (rings: distinct ring peers).", "view",
             {{"cyclon", n(node.cyclon().size())},
              {"vicinity", n(node.vicinity().size())},
              {"rings", n(node.rings().peers().size())}});
  add_sample(s, Type::gauge, "rings", "Topics (exact subjects) whose rings this gateway is in.",
             n(node.rings().rings().size()));
  add_sample(s, Type::gauge, "ring_completeness",
             "Fraction of this gateway's rings whose nearest successor and predecessor are known.",
             ring_completeness(node.rings()));
  for (std::size_t l = 0; l < kLayers; ++l) {
    for (const auto& [result, value] : {std::pair{"started", c.exchanges_started[l]},
                                        std::pair{"answered", c.exchanges_answered[l]}}) {
      s.push_back({Type::counter,
                   "gossip_exchanges_total",
                   "Gossip exchanges this gateway started, and those answered.",
                   {{"layer", kLayerNames[l]}, {"result", result}},
                   n(value)});
    }
  }
  add_sample(s, Type::counter, "gossip_bytes_total", "Bytes of gossip messages sent.",
             n(c.gossip_bytes_sent));
  add_family(s, Type::counter, "publications_total",
             "Publications: published here, copies forwarded, first copies delivered, duplicates "
             "dropped.",
             "event",
             {{"published", n(c.published)},
              {"forwarded", n(c.forwarded)},
              {"delivered", n(c.delivered)},
              {"duplicate", n(c.duplicates)}});
  add_family(s, Type::counter, "finds_total",
             "FIND_SUB walks started and answered; walks refused for the rate limit or for their "
             "origin's share of it; answers to no walk in progress, dropped.",
             "result",
             {{"started", n(c.finds_started)},
              {"answered", n(c.finds_answered)},
              {"refused", n(c.finds_dropped)},
              {"over_budget", n(c.finds_over_budget)},
              {"unsolicited", n(c.finds_unsolicited)}});
  add_sample(s, Type::counter, "answers_overdue_total",
             "Gossip requests unanswered in time by a peer heard from since: alive, so kept.",
             n(c.answers_overdue));
  add_sample(s, Type::counter, "peers_dead_total",
             "Peers found dead (silent, unreachable or left).", n(c.peers_dead));
  add_sample(s, Type::counter, "leaves_total", "LEAVE messages received.", n(c.leaves_received));
  add_sample(s, Type::counter, "pings_total", "Pings sent to quiet ring neighbours.",
             n(c.pings_sent));
  add_family(s, Type::counter, "ring_checks_total",
             "Ring candidates known only from gossip, nearer than a neighbour heard from "
             "directly: pinged before they may displace it, or left for a later cycle.",
             "result", {{"pinged", n(c.ring_checks)}, {"deferred", n(c.ring_checks_deferred)}});
  add_sample(s, Type::counter, "replies_direct_total",
             "Replies sent straight to the requester's gateway rather than along a ring.",
             n(c.replies_direct));
  add_family(s, Type::gauge, "connections", "Open overlay connections.", "direction",
             {{"in", n(in.transport.connections_in)}, {"out", n(in.transport.connections_out)}});
  add_sample(
      s, Type::counter, "read_pauses_total",
      "Reads of overlay links put off while this gateway was behind on what they deliver, or "
      "a link was crowded (on_full: block).",
      n(in.transport.read_pauses));
  add_sample(s, Type::counter, "links_stuck_total",
             "Backed-up links found stuck: their peer took no byte for a fifth of "
             "stall_timeout, so they stopped holding publishers up (what comes for them is "
             "dropped as link_busy in their last quarter).",
             n(in.transport.links_stuck));
  add_sample(s, Type::counter, "connect_failures_total",
             "Overlay connections that could not be made.", n(in.transport.connect_failures));
  add_sample(s, Type::gauge, "receive_buffer_bytes",
             "Bytes held by the read buffers of inbound overlay connections.",
             n(in.transport.receive_buffer_bytes));
  add_sample(s, Type::gauge, "queue_bytes", "Bytes from the router waiting for the overlay.",
             n(in.queue_bytes));
  add_sample(s, Type::gauge, "held_subjects",
             "Subjects whose publications wait for a backed-up link to one of their peers.",
             n(in.held_subjects));
  add_sample(s, Type::gauge, "crowded_links",
             "Backed-up links past 5/4 of their high mark: every publication waits for them.",
             n(in.crowded_links));
  const char* const refusal_help =
      "Overlay links refused in their handshake, by reason; wrong_peer and sender_mismatch "
      "count messages (for, or claiming to be from, another node than the link proved).";
  for (std::size_t r = 1; r <= kRefusalNames.size(); ++r) {
    const bool mismatch = r == kRefusalNames.size();  // the node's count comes last
    s.push_back(
        {Type::counter,
         "link_refusals_total",
         refusal_help,
         {{"reason", mismatch ? std::string("sender_mismatch") : std::string(kRefusalNames[r])}},
         n(mismatch ? c.sender_mismatch : in.transport.refused[r])});
  }
  add_family(s, Type::counter, "signatures_total",
             "Publications signed here; signatures checked on arrival; publications taken on "
             "the signature of their batch, checked before (only their proof is); taken "
             "without a check because their link was proven to be their signer's; signatures "
             "that did not hold (those publications are dropped); replies sent straight back "
             "over a link that proves their sender, which need none.",
             "result",
             {{"signed", n(c.signed_here)},
              {"checked", n(c.signatures_checked)},
              {"batch_proof", n(c.batch_proofs)},
              {"signer_link", n(c.signer_links)},
              {"bad", n(c.bad_signature)},
              {"not_needed", n(c.unsigned_replies)}});
  add_sample(s, Type::counter, "signing_batches_total",
             "Signatures made here: each covers a batch of publications put on the overlay "
             "together (their Merkle root).",
             n(c.batches_signed));
  add_family(s, Type::counter, "throttled_total",
             "What one peer sent beyond its share: gossip requests and pings, and FIND_SUB "
             "walks, past their per-cycle share (dropped); descriptors beyond an exchange's "
             "size (ignored); descriptors of other nodes beyond one peer's share of a view "
             "(hearsay, refused).",
             "kind",
             {{"request", n(c.throttled_requests)},
              {"walk", n(c.throttled_walks)},
              {"descriptor", n(c.descriptors_ignored)},
              {"hearsay", n(c.hearsay_refused)}});
  add_sample(s, Type::counter, "peers_cut_total",
             "Peers cut off for flooding: their links closed, and refused for ban_duration.",
             n(c.peers_cut));
  add_sample(s, Type::counter, "handshakes_total",
             "Overlay links that finished their handshake (both directions).",
             n(in.transport.handshakes));
  add_sample(s, Type::counter, "wildcard_interest_total",
             "Local wildcard subscriptions, which do not join exact-subject rings.",
             n(AdapterCounters::get(in.counters.wildcard_interest)));
}

metrics::HistogramSample hops(const NodeCounters& c) {
  metrics::HistogramSample h{"hops", "Overlay hops of the publications delivered here.", {}, {}, 0};
  for (auto b : kHopBuckets) h.bounds.push_back(b);
  h.buckets.assign(c.hops.begin(), c.hops.end());
  h.sum = static_cast<double>(c.hops_sum);
  return h;
}

void entries(metrics::JsonWriter& j, const char* name, const PartialView& view) {
  j.begin_array(name);
  for (const auto& e : view.entries()) {
    j.begin_object();
    j.field("node_id", hex_id(e.id()));
    j.field("address", e.profile->address);
    j.field("age", static_cast<std::uint64_t>(e.age));
    j.field("topics", static_cast<std::uint64_t>(e.profile->topics.size()));
    j.end_object();
  }
  j.end_array();
}

void ids(metrics::JsonWriter& j, const char* name, const std::vector<std::uint64_t>& side) {
  j.begin_array(name);
  for (auto id : side) j.string(hex_id(id));
  j.end_array();
}

std::string varz(const ReportInputs& in) {
  const Node& node = in.node;
  metrics::JsonWriter j;
  j.begin_object();
  j.field("node_id", hex_id(node.id()));
  j.field("address", node.address());
  j.field("node_key", in.node_key);
  j.field("links", in.secure ? "noise" : "plaintext");
  j.key("link_refusals");
  j.begin_object();
  for (std::size_t r = 1; r < kRefusalNames.size(); ++r) {
    j.field(kRefusalNames[r], static_cast<std::uint64_t>(in.transport.refused[r]));
  }
  j.field("sender_mismatch", static_cast<std::uint64_t>(node.counters().sender_mismatch));
  j.end_object();
  j.field("cycle", node.cycle());
  entries(j, "cyclon", node.cyclon());
  entries(j, "vicinity", node.vicinity());
  // Rings by subject, in subject order so that /varz reads the same from one call to the next.
  std::vector<const Rings::Ring*> rings;
  for (const auto& [topic, ring] : node.rings().rings()) rings.push_back(&ring);
  std::sort(rings.begin(), rings.end(), [](auto* a, auto* b) { return a->subject < b->subject; });
  j.field("rings_total", static_cast<std::uint64_t>(rings.size()));
  j.begin_array("rings");
  for (std::size_t i = 0; i < rings.size() && i < kMaxVarzRings; ++i) {
    j.begin_object();
    j.field("subject", rings[i]->subject);
    ids(j, "successors", rings[i]->succ);
    ids(j, "predecessors", rings[i]->pred);
    j.end_object();
  }
  j.end_array();
  j.field("seen_ids", static_cast<std::uint64_t>(node.seen_size()));
  j.field("publish_cache_topics", static_cast<std::uint64_t>(node.publish_cache_size()));
  j.end_object();
  return j.take();
}

}  // namespace

void report(const ReportInputs& in, AdapterStatus& st) {
  const NodeCounters& c = in.node.counters();
  st.ready = in.listening;
  st.state = !in.listening ? "closed" : in.node.cyclon().empty() ? "alone" : "joined";
  in.counters.fill(st.traffic);
  auto& d = st.traffic.dropped;
  d["malformed"] += c.bad_topic;
  d["no_subscriber"] = c.no_subscriber;
  d["pending_full"] = c.pending_full;
  d["hop_limit"] = c.hop_limit;
  d["not_subscribed"] = c.not_subscribed;
  d["send_refused"] = c.send_failed;
  d["link_busy"] = c.link_busy;
  d["bad_signature"] = c.bad_signature;
  for (std::size_t e = 1; e < c.decode_errors.size(); ++e) {
    d["decode_" + std::string(error_name(static_cast<DecodeError>(e)))] = c.decode_errors[e];
  }
  d["link_queue_full"] = in.transport.dropped_queue_full;
  d["link_oversized"] = in.transport.dropped_oversized;
  d["link_no_slot"] = in.transport.dropped_no_connection_slot;
  d["link_bad_address"] = in.transport.dropped_bad_address;
  d["link_unreachable"] = in.transport.dropped_unreachable;
  d["link_address_limit"] = in.transport.refused_per_address;
  d["link_frame_timeout"] = in.transport.dropped_frame_timeout;
  d["link_stalled"] = in.transport.dropped_stalled;
  samples(in, st.samples);
  st.histograms.push_back(hops(c));
  st.varz_json = varz(in);
}

}  // namespace psycho::poldercast
