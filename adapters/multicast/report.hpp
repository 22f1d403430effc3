// The multicast adapter's counters and how they become /metrics samples and /varz details
// (docs/multicast.md#metrics). Counters are relaxed atomics written by the adapter's two
// threads; report() runs in status(), under the adapter's receive lock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "adapters/adapter.hpp"
#include "adapters/multicast/codec.hpp"
#include "adapters/multicast/datagram_auth.hpp"
#include "adapters/multicast/group_interest.hpp"
#include "adapters/multicast/multicast_config.hpp"
#include "adapters/multicast/peers.hpp"
#include "adapters/multicast/reassembly.hpp"
#include "adapters/traffic_counters.hpp"

namespace psycho::multicast {

// Labels of psycho_adapter_dropped_total{adapter="multicast"}. Reassembly drops are read
// from the Reassembler.
enum class Drop {
  queue_full,       // the sending thread's queue was full
  too_large,        // above max_message, or a subject or reply of 64 KiB or more
  send_error,       // the kernel refused a datagram
  truncated,        // a datagram shorter than its headers
  foreign,          // not our magic
  version,          // a format version this build does not speak
  malformed,        // inconsistent fields, an invalid subject or header block
  oversized,        // a message above max_message, or a datagram above 64 KiB
  not_imported,     // a subject outside the import lists
  too_many_peers,   // from a new sender while max_peers are heard and none may make room
  test_drop,        // thrown away on purpose (test_drop_rate)
  spoofed_sender,   // a sender id from a source other than the one it is bound to
  seq_jump,         // a sequence further ahead than repair.max_seq_jump
  no_subscriber,    // not sent: no gateway on the group wants its subject
  unauthenticated,  // keyed group: unkeyed, or its tag does not verify (docs/multicast.md#keys)
  unknown_key,      // keyed with a key id this gateway does not hold (or holds no keys)
  replayed,         // keyed group: a counter its sender's replay window has seen, or older
  count
};
inline constexpr TrafficCounters<Drop>::Names kDropNames = {
    "queue_full",  "too_large",      "send_error", "truncated",     "foreign",
    "version",     "malformed",      "oversized",  "not_imported",  "too_many_peers",
    "test_drop",   "spoofed_sender", "seq_jump",   "no_subscriber", "unauthenticated",
    "unknown_key", "replayed"};

// Labels of psycho_multicast_repair_refused_total: datagrams asked for by a NACK and not
// sent again.
enum class RepairRefusal {
  nack_limit,      // beyond repair.max_nack_datagrams in one NACK
  requester_rate,  // beyond the requester's budget (repair.requester_rate, requester_burst)
  total_rate,      // beyond the gateway's budget (repair.total_rate, total_burst)
  gone,            // older than the window holds: the asker fell further behind than it
  count
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(RepairRefusal::count)>
    kRepairRefusalNames = {"nack_limit", "requester_rate", "total_rate", "gone"};

Drop drop_for(DecodeError e) noexcept;
Drop drop_for(AuthError e) noexcept;

// The traffic every adapter counts, and what only multicast does.
struct Counters : TrafficCounters<Drop> {
  Counters() noexcept : TrafficCounters(kDropNames) {}
  Counter datagrams_in{0}, datagram_bytes_in{0}, datagrams_out{0}, datagram_bytes_out{0};
  Counter fragments_in{0}, fragments_out{0}, retransmissions{0};
  Counter unwanted_in{0};  // messages dropped before import: nothing here wants them
  Counter nacks_in{0}, nacks_out{0}, nacks_answered{0};
  Counter backlogs_in{0}, backlogs_out{0};  // backlog reports heard from peers, and sent
  Counter backlogs_full_in{0};              // of those heard, from a nearly full buffer
  Counter nacked{0};     // sequences NACKs addressed to us asked for (each NACK's capped)
  Counter pace_rate{0};  // the sending thread's pace, bytes per second; 0: unpaced
  Counter backlog_cuts{0}, loss_cuts{0};  // the pacer's cuts, by the signal that called for them
  Counter owed_wait_us{0};                // microseconds the sending thread waited for owed repairs
  Counter hold_overflows{0};              // gaps given up on because repair.hold was full
  Counter read_pauses{0};                 // waits before a datagram for a congested subscriber
  Counter socket_overflows{0};            // drops the kernel counted for a full buffer
  std::array<Counter, static_cast<std::size_t>(RepairRefusal::count)> repair_refused{};

  void refuse(RepairRefusal r, std::uint64_t datagrams) noexcept {
    add(repair_refused[static_cast<std::size_t>(r)], datagrams);
  }
};

struct ReportInputs {
  const MulticastConfig& config;
  std::uint64_t node;
  const Counters& counters;
  const Reassembler& reassembly;
  const PeerTable& peers;
  std::size_t queue_bytes = 0;
  std::size_t window_bytes = 0;
  std::uint64_t next_seq = 0;
  std::map<std::uint64_t, GroupInterest::PeerView> wants;  // what each peer asked for
  OwnInterest own_interest;                                // what this gateway announces
  std::vector<std::uint8_t> key_ids;  // the group keys held, the sending one first
  std::size_t replay_senders = 0;     // senders whose replay windows are kept
  std::size_t held_bytes = 0;         // held back behind gaps (hold_back.hpp)
};

// Fills traffic, samples and varz_json of `st`.
void report(const ReportInputs& in, AdapterStatus& st);

}  // namespace psycho::multicast
