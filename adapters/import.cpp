#include "adapters/import.hpp"

#include "core/subject.hpp"

namespace psycho {

bool is_well_formed(const FabricMessage& m) noexcept {
  return is_valid_publish_subject(m.subject) &&
         (m.reply.empty() || is_valid_publish_subject(m.reply)) && is_valid_header_block(m.headers);
}

Trace one_hop_further(Trace trace, std::optional<std::uint32_t> bus) noexcept {
  if (trace.hops < 255) ++trace.hops;
  if (bus) trace.bus = *bus;
  return trace;
}

}  // namespace psycho
