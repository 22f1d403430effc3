#include "adapters/multicast/report.hpp"

#include "metrics/json.hpp"

namespace psycho::multicast {

namespace {

using Type = metrics::Sample::Type;

double get(const Counters::Counter& c) {
  return static_cast<double>(c.load(std::memory_order_relaxed));
}

struct Plain {
  Type type;
  const char* name;
  const char* help;
  double value;
};

void samples(const ReportInputs& in, const PeerTotals& t, std::vector<metrics::Sample>& s) {
  const Counters& c = in.counters;
  const auto two_way = [&s](const char* name, const char* help, const Counters::Counter& received,
                            const Counters::Counter& sent) {
    metrics::add_family(s, Type::counter, name, help, "direction",
                        {{"in", get(received)}, {"out", get(sent)}});
  };
  two_way("datagrams_total", "Datagrams received from and sent to the group.", c.datagrams_in,
          c.datagrams_out);
  two_way("datagram_bytes_total", "Bytes of datagrams received and sent.", c.datagram_bytes_in,
          c.datagram_bytes_out);
  two_way("fragments_total", "Datagrams that carry one fragment of a larger message.",
          c.fragments_in, c.fragments_out);
  two_way("nacks_total", "NACK datagrams addressed to us (in) and sent (out).", c.nacks_in,
          c.nacks_out);
  two_way("backlog_reports_total",
          "Reports that a receiver's socket buffer is past half full and filling: heard from "
          "peers (in) and sent (out).",
          c.backlogs_in, c.backlogs_out);
  metrics::add_family(s, Type::counter, "pace_cuts_total",
                      "Cuts of the sending thread's pace, by the signal that called for them.",
                      "signal", {{"backlog", get(c.backlog_cuts)}, {"loss", get(c.loss_cuts)}});
  for (std::size_t i = 0; i < c.repair_refused.size(); ++i) {
    s.push_back({Type::counter,
                 "repair_refused_total",
                 "Datagrams a NACK asked for that were not sent again, by reason.",
                 {{"reason", std::string(kRepairRefusalNames[i])}},
                 get(c.repair_refused[i])});
  }
  const auto n = [](std::uint64_t v) { return static_cast<double>(v); };
  const Plain plain[] = {
      {Type::counter, "nacks_answered_total",
       "NACKs addressed to us answered with at least one retransmission.", get(c.nacks_answered)},
      {Type::counter, "retransmissions_total", "Datagrams sent again in answer to NACKs.",
       get(c.retransmissions)},
      {Type::counter, "unwanted_total",
       "Messages dropped on arrival, before import: nothing on this gateway wants them.",
       get(c.unwanted_in)},
      {Type::counter, "nacked_total",
       "Sequences NACKs addressed to us asked for that had not been sent again yet.",
       get(c.nacked)},
      {Type::counter, "repair_wait_seconds_total",
       "Time the sending thread held new data back so that owed repairs stay in the window.",
       get(c.owed_wait_us) / 1e6},
      {Type::counter, "read_pauses_total",
       "Waits of the receiving thread before a datagram while a subscriber here was congested "
       "(flow control).",
       get(c.read_pauses)},
      {Type::counter, "hold_overflows_total",
       "Gaps given up on (their datagrams lost) because repair.hold was full.",
       get(c.hold_overflows)},
      {Type::gauge, "held_bytes", "Datagrams held back behind a gap, to be delivered in order.",
       n(in.held_bytes)},
      {Type::gauge, "pace_bytes_per_second",
       "The sending thread's pace, set by the backlog reports and NACKs it hears; 0 while "
       "unpaced.",
       get(c.pace_rate)},
      {Type::counter, "gaps_total", "Gaps found in the peers' datagram sequences.", n(t.gaps)},
      {Type::counter, "repaired_total", "Missing datagrams that arrived after a NACK.",
       n(t.repaired)},
      {Type::counter, "lost_total", "Missing datagrams that could not be repaired.", n(t.lost)},
      {Type::counter, "socket_overflows_total",
       "Drops the kernel counted at the socket for a full receive buffer (one can be a "
       "coalesced run of datagrams); what they held is repaired, or lost.",
       get(c.socket_overflows)},
      {Type::counter, "resyncs_total",
       "Senders taken up again after a jump beyond repair.max_seq_jump that followed our own "
       "loss (or on a keyed group); what the jump skipped is in lost_total.",
       n(t.resyncs)},
      {Type::counter, "duplicates_total", "Datagrams received twice, ignored.", n(t.duplicates)},
      {Type::gauge, "peers", "Gateways heard on the group.", n(in.peers.peers().size())},
      {Type::counter, "peers_expired_total", "Peers removed after peer_timeout of silence.",
       n(t.expired)},
      {Type::counter, "peers_displaced_total",
       "Peers removed to make room for a new one while max_peers were heard.", n(t.displaced)},
      {Type::gauge, "reassembly_bytes", "Memory held by incomplete messages.",
       n(in.reassembly.bytes())},
      {Type::gauge, "window_bytes", "Memory held for retransmissions.", n(in.window_bytes)},
      {Type::gauge, "queue_bytes", "Bytes waiting for the sending thread.", n(in.queue_bytes)},
  };
  for (const Plain& p : plain) metrics::add_sample(s, p.type, p.name, p.help, p.value);
}

// "wants": "everything", "unknown" (no interest datagram heard yet) or the patterns.
void wants_field(metrics::JsonWriter& j, bool everything, bool known,
                 const std::vector<std::string>& patterns) {
  if (!known || everything) {
    j.field("wants", known ? "everything" : "unknown");
    return;
  }
  j.begin_array("wants");
  for (const auto& p : patterns) j.string(p);
  j.end_array();
}

std::string varz(const ReportInputs& in, Clock::time_point now) {
  metrics::JsonWriter j;
  j.begin_object();
  j.field("group", in.config.ipv6 ? "[" + in.config.group + "]:" + std::to_string(in.config.port)
                                  : in.config.group + ":" + std::to_string(in.config.port));
  j.field("node_id", hex_id(in.node));
  j.field("next_seq", in.next_seq);
  wants_field(j, in.own_interest.everything, true, in.own_interest.patterns);
  if (!in.key_ids.empty()) {
    // Which keys, never what they are.
    j.key("keys");
    j.begin_object();
    j.field("send", std::uint64_t{in.key_ids.front()});
    std::string accepted;
    for (const std::uint8_t id : in.key_ids) {
      accepted += (accepted.empty() ? "" : ",") + std::to_string(id);
    }
    j.field_json("accepted", "[" + accepted + "]");
    j.field("encrypt", in.config.encrypt);
    j.field("replay_senders", std::uint64_t{in.replay_senders});
    j.end_object();
  }
  j.begin_array("peers");
  for (const auto& [node, p] : in.peers.peers()) {
    j.begin_object();
    j.field("node_id", hex_id(node));
    j.field("address", p.address);
    j.field("last_heard_ms",
            static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(now - p.last_heard).count()));
    j.field("datagrams", p.datagrams);
    j.field("bytes", p.bytes);
    j.field("gaps", p.tracker.gaps());
    j.field("missing", p.tracker.missing());
    j.field("nacks_sent", p.tracker.nacks());
    j.field("repaired", p.tracker.repaired());
    j.field("lost", p.tracker.lost());
    j.field("resyncs", p.tracker.resyncs());
    j.field("duplicates", p.duplicates);
    j.field("reassembly_dropped", in.reassembly.dropped_from(node));
    if (auto w = in.wants.find(node); w != in.wants.end()) {
      wants_field(j, w->second.everything, w->second.known, w->second.patterns);
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.take();
}

}  // namespace

Drop drop_for(DecodeError e) noexcept {
  // By DecodeError, one each (checked); `none` is never refused.
  constexpr Drop kDrops[] = {Drop::malformed, Drop::truncated, Drop::foreign,
                             Drop::version,   Drop::malformed, Drop::oversized};
  static_assert(std::size(kDrops) == static_cast<std::size_t>(DecodeError::count));
  return e < DecodeError::count ? kDrops[static_cast<std::size_t>(e)] : Drop::malformed;
}

Drop drop_for(AuthError e) noexcept {
  switch (e) {
    case AuthError::unknown_key:
      return Drop::unknown_key;
    case AuthError::replayed:
      return Drop::replayed;
    case AuthError::truncated:
      return Drop::truncated;
    default:
      return Drop::unauthenticated;
  }
}

void report(const ReportInputs& in, AdapterStatus& st) {
  in.counters.fill(st.traffic);
  st.traffic.dropped["malformed"] += in.reassembly.inconsistent();
  st.traffic.dropped["reassembly_timeout"] = in.reassembly.timed_out();
  st.traffic.dropped["reassembly_evicted"] = in.reassembly.evicted();
  samples(in, in.peers.totals(), st.samples);
  st.varz_json = varz(in, Clock::now());
}

}  // namespace psycho::multicast
