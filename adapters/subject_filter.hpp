// Which subjects an adapter carries in each direction, and how it renames them on the way:
// the `subjects` / `import` / `export` lists and the prefixes shared by every adapter's
// config section.
//
//   subjects: [orders.>]   # both ways
//   import:   [prices.>]   # fabric -> gateway only; subscribed on the fabric at all times
//   export:   [audit.>]    # gateway -> fabric only
//   export_prefix: edge1   # orders.new leaves as edge1.orders.new
//   import_prefix: edge1   # edge1.orders.new arrives as orders.new
//   unprefixed: [_INBOX.>] # never renamed (reply inboxes must survive the round trip)
//
// With none of the three lists given, everything goes both ways. Subjects are filtered by
// their local (gateway-side) names. Immutable after parse(), so any thread may use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/section.hpp"

namespace psycho {

// Reads a list of subject patterns at `key`; an invalid one is an error kept in `section`.
void read_patterns(config::Section& section, std::string_view key, std::vector<std::string>& out);

class SubjectFilter {
 public:
  // Everything both ways, no renaming.
  SubjectFilter();
  // Reads the keys above from `section`; problems are kept in the section for finish().
  static SubjectFilter parse(config::Section& section);

  // Gateway -> fabric: whether a locally routed subject leaves through this adapter.
  bool exports(std::string_view local_subject) const noexcept;
  // Fabric -> gateway, by local name.
  bool imports(std::string_view local_subject) const noexcept;

  // The fabric name of a local subject on the way out, into `out` (reused: no allocation
  // once it has grown).
  void to_fabric(std::string_view local_subject, std::string& out) const;
  // The local name of a subject heard on the fabric (a view into it); nullopt when it lacks
  // the import prefix, so it is not ours to import.
  std::optional<std::string_view> to_local(std::string_view fabric_subject) const;
  // The fabric name under which a local subject would be imported.
  std::string import_name(std::string_view local_subject) const;

  // The fabric subscriptions that bring in what a local subscription on `local_pattern`
  // wants: its overlap with each both-ways pattern, minus what the static imports already
  // bring. Fabric names, without duplicates; empty when nothing is importable.
  std::vector<std::string> fabric_patterns_for(std::string_view local_pattern) const;
  // The fabric queue subscriptions that bring in what a local queue group on
  // `local_pattern` wants: its overlap with each pattern imported (both ways or import
  // only: the static import subscriptions are plain and cannot choose for a group), the
  // widest only. Fabric names, without duplicates.
  std::vector<std::string> queue_patterns_for(std::string_view local_pattern) const;
  // The fabric's name for local queue group `queue` on `local_pattern`: renamed by the
  // import prefix as the pattern is, so prefixed gateways form groups of their own.
  std::string fabric_queue(std::string_view local_pattern, std::string_view queue) const;
  // The `import` list as fabric subscriptions, held for the adapter's whole life.
  std::vector<std::string> static_fabric_patterns() const;
  // What exports() lets out, as local patterns: the both-ways and `export` lists.
  std::vector<std::string> export_patterns() const;

  bool operator==(const SubjectFilter&) const = default;

 private:
  std::string fabric_pattern(std::string_view local_pattern, const std::string& prefix) const;
  bool unprefixed(std::string_view subject) const noexcept;
  bool unprefixed_pattern(std::string_view local_pattern) const noexcept;

  std::vector<std::string> both_, import_only_, export_only_, unprefixed_;
  std::string import_prefix_, export_prefix_;  // with the trailing dot, or empty
};

}  // namespace psycho
