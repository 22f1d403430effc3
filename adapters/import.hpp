// The one way a message from a fabric enters the gateway, the same for every adapter:
//
//   1. check it (publish subjects, a whole header block)                 else drop: malformed
//      and take its Psycho-* headers out: no client sees one (PROTOCOL.md)
//   2. undo the import prefix and apply the import lists                  else drop: not_imported
//   3. take the trace the fabric carried, one hop further (capped at 255), stamped with the
//      bus where the adapter names one
//   4. count messages_in and bytes_in, and inject it with the adapter's origin
//
// Loops are not decided here: the router drops (and counts) duplicates, the gateway's own
// messages and exhausted hop counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/adapter.hpp"
#include "adapters/subject_filter.hpp"
#include "adapters/traffic_counters.hpp"
#include "core/header_block.hpp"

namespace psycho {

// A message as it arrived from a fabric: views into the adapter's receive buffer.
struct FabricMessage {
  std::string_view subject;  // the fabric's name for it, import prefix included
  std::string_view reply;
  std::string_view headers;  // a NATS/1.0 header block, or empty
  std::string_view payload;
  // The local queue group the fabric chose this gateway for (MessageParts::queue), or empty.
  std::string_view queue = {};
};

// Publish subjects and a whole header block: what a client may route.
bool is_well_formed(const FabricMessage& m) noexcept;

// The trace of a message that has crossed one more fabric. 255 stays 255, which the router
// drops as exhausted, so a hop count never wraps to look fresh.
Trace one_hop_further(Trace trace, std::optional<std::uint32_t> bus) noexcept;

// Steps 1 to 4 for one adapter, with its own drop labels. Any thread: it keeps no state of
// its own besides the counters' atomics.
template <class Drop>
class Importer {
 public:
  struct Rules {
    // The label for step 1; nullopt: step 1 is left out (the NATS adapter builds the header
    // block itself and takes subjects as the NATS server delivers them).
    std::optional<Drop> malformed = std::nullopt;
    Drop not_imported;
    // Stamped on every imported trace (the NATS adapter marks its bus); nullopt: the trace
    // keeps the bus it carried.
    std::optional<std::uint32_t> bus = std::nullopt;
  };

  Importer(TrafficCounters<Drop>& counters, Rules rules) : counters_(counters), rules_(rules) {}

  // Returns whether the message was handed to the router (which may still drop it).
  bool operator()(AdapterHost& host, OriginId origin, const SubjectFilter& subjects,
                  const FabricMessage& m, const Trace& carried) const {
    if (rules_.malformed && !is_well_formed(m)) {
      counters_.count(*rules_.malformed);
      return false;
    }
    const auto local = local_name(subjects, m.subject);
    if (!local) return false;
    // Whatever another gateway or a fabric's client put there.
    thread_local std::string header_scratch;
    FabricMessage clean = m;
    clean.headers = without_gateway_headers(m.headers, header_scratch);
    inject(host, origin, *local, clean, carried);
    return true;
  }

  // Step 2 alone, for an adapter that must work to build the rest of a message (the NATS
  // adapter rebuilds its header block) and should not for one it will not import: the local
  // name, or nullopt (counted) when the subject is not imported.
  std::optional<std::string_view> local_name(const SubjectFilter& subjects,
                                             std::string_view fabric_subject) const {
    const auto local = subjects.to_local(fabric_subject);
    if (!local || !subjects.imports(*local)) {
      counters_.count(rules_.not_imported);
      return std::nullopt;
    }
    return local;
  }

  // Steps 3 and 4, for a message whose local name local_name() gave and whose header block
  // holds no Psycho-* header any more (the NATS adapter's rebuild takes them out).
  void inject(AdapterHost& host, OriginId origin, std::string_view local, const FabricMessage& m,
              const Trace& carried) const {
    counters_.received(m.headers.size() + m.payload.size());
    host.inject(make_message({local, m.reply, m.headers, m.payload, m.queue}, origin,
                             one_hop_further(carried, rules_.bus)));
  }

 private:
  TrafficCounters<Drop>& counters_;
  const Rules rules_;
};

}  // namespace psycho
