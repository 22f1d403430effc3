// What the other gateways on the group want, from their interest datagrams: the sender asks
// for every message whether anyone wants it, and skips it when nobody does.
//
// A peer wants everything until its first interest datagram arrives (older gateways never
// send one), so nothing is skipped on a guess. A newer generation replaces what a peer wanted
// before; an older or equal one changes nothing (datagrams may arrive out of order). With no
// peer at all, nobody wants anything.
//
// The receiving thread updates it; any thread reads the answer, an immutable snapshot
// rebuilt on every change (changes are rare: a subscription appearing or going somewhere).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/multicast/codec.hpp"
#include "adapters/pattern_set.hpp"
#include "core/mutex.hpp"

namespace psycho::multicast {

class WhatTheGroupWants {
 public:
  bool wants(std::string_view fabric_subject) const noexcept {
    return everything || patterns.matches(fabric_subject);
  }
  bool everything = false;
  PatternSet patterns;
};

// What this gateway announces it wants, fitted into one interest datagram.
struct OwnInterest {
  bool everything = false;
  std::vector<std::string> patterns;  // sorted; none covers another
  bool operator==(const OwnInterest&) const = default;
};
// Fits `fabric_patterns` into `budget` bytes of patterns (and kMaxInterestPatterns): as they
// are when they fit, else cut to their first few tokens and `>` (a.b.c.d -> a.b.>, then a.>),
// else everything. Coarser is never narrower: no wanted subject is left out.
OwnInterest fit_interest(std::vector<std::string> fabric_patterns, std::size_t budget);
// The same, as the question a receiver asks of a message.
std::shared_ptr<const WhatTheGroupWants> what_is_wanted(const OwnInterest& interest);

class GroupInterest {
 public:
  // `enabled` false: every subject is wanted, whatever the peers say.
  explicit GroupInterest(bool enabled);

  // Receiving thread.
  void joined(std::uint64_t node);
  // Returns false when the datagram is older than what is known (nothing changes).
  bool update(std::uint64_t node, const Interest& interest);
  void left(std::uint64_t node);

  // Any thread.
  std::shared_ptr<const WhatTheGroupWants> wanted() const;
  // For /varz: "unknown" (no interest datagram yet), "everything", or the patterns.
  struct PeerView {
    bool known = false, everything = true;
    std::vector<std::string> patterns;
  };
  std::map<std::uint64_t, PeerView> peers() const;

 private:
  struct PeerWants {
    std::uint64_t generation = 0;
    PeerView view;
  };
  void rebuild() REQUIRES(mutex_);

  const bool enabled_;
  mutable Mutex mutex_;
  std::map<std::uint64_t, PeerWants> peers_ GUARDED_BY(mutex_);
  std::shared_ptr<const WhatTheGroupWants> wanted_ GUARDED_BY(mutex_);
};

}  // namespace psycho::multicast
