// The NATS headers the gateway reads and writes: the Psycho trace headers that make
// bridging loop-free, and the header block (`NATS/1.0\r\nKey: Value\r\n\r\n`) that Psycho
// clients see in HMSG. Only take_headers() reads nats.c's own view of them.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/header_block.hpp"
#include "core/message.hpp"

namespace psycho::nats {

// The trace of an exported message, in one header: "<node id, 16 hex>-<seq>-<hops>". One
// header, not three: nats.c sets each header through a hash map, allocating, and that cost
// is what bounds a bridge that publishes with headers.
inline constexpr std::string_view kTraceHeader = "Psycho-Trace";
// What gateways before Psycho-Trace sent instead; still read, so that a rolling upgrade
// keeps its messages' identity, and never shown to clients.
inline constexpr std::string_view kLegacyOriginHeader = "Psycho-Origin";  // node id, 16 hex
inline constexpr std::string_view kLegacyMsgIdHeader = "Psycho-Msg-Id";   // "<node hex>-<seq>"
inline constexpr std::string_view kLegacyHopsHeader = "Psycho-Hops";      // decimal
inline constexpr std::string_view kHeaderLine = "NATS/1.0";
// JetStream's duplicate window key, which the bridge sets to the message's identity.
inline constexpr std::string_view kJetStreamMsgIdHeader = "Nats-Msg-Id";

// Which trace header a header name is (case-insensitive, as HTTP-style names are).
enum class TraceHeader { none, trace, legacy_origin, legacy_msg_id, legacy_hops };
// Every other name that starts with Psycho- is a gateway's too (is_gateway_header): never
// shown to clients, and never published for a client.
TraceHeader trace_header_kind(std::string_view name) noexcept;

// The text forms of a trace, written into fixed buffers (no allocation).
struct TraceValues {
  char trace[44];   // the Psycho-Trace value: "<node hex>-<seq>-<hops>"
  char msg_id[40];  // "<node hex>-<seq>": the message's identity (JetStream's Nats-Msg-Id)
};
void format_trace(const Trace& trace, TraceValues& out) noexcept;

// The most outgoing_body() adds to a message: a header block of its own (for a message that
// had none) with the trace and JetStream's message id. The bridge promises its clients that
// much less than the server's max_payload, so that what it accepts it can also send.
constexpr std::size_t added_header_bytes(bool trace, bool msg_id) {
  constexpr std::size_t kSeparator = 2, kLineEnd = 2;  // ": ", "\r\n"
  std::size_t lines = 0;
  if (trace) lines += kTraceHeader.size() + kSeparator + sizeof(TraceValues::trace) - 1 + kLineEnd;
  if (msg_id) {
    lines += kJetStreamMsgIdHeader.size() + kSeparator + sizeof(TraceValues::msg_id) - 1 + kLineEnd;
  }
  return lines == 0 ? 0 : kHeaderLine.size() + kLineEnd + lines + kLineEnd;
}

// Reads a Psycho-Trace value back; nullopt when it is malformed (the message is then
// treated as a plain NATS publication). `hops` is returned as received.
std::optional<Trace> parse_trace(std::string_view value) noexcept;
// The same for the three headers of older gateways.
std::optional<Trace> parse_legacy_trace(std::string_view origin, std::string_view msg_id,
                                        std::string_view hops) noexcept;

// Builds a header block into `out` (cleared first). `status` is the text after NATS/1.0 on
// the first line ("503", "404 No Messages"), or empty.
class HeaderBlockBuilder {
 public:
  void begin(std::string& out, std::string_view status);
  void add(std::string& out, std::string_view name, std::string_view value);
  // Ends the block; leaves `out` empty when there was neither a header nor a status.
  void end(std::string& out);

 private:
  bool any_ = false;
};

// The headers of a received block (its bytes as they arrived) as Psycho clients see them:
// `headers` becomes the block without its Psycho-* headers (the block itself when it has
// none, else a copy in `scratch`), or empty when it held a trace header and nothing else
// (no other header, no status): the block a gateway added only to carry its trace. A block
// with no header at all that no gateway added stays a block, as nats-server delivers it. Returns
// the trace they carried (hops as received; Psycho-Trace before the legacy three), or
// nullopt when there is none or it is malformed: the message is then a plain NATS
// publication.
std::optional<Trace> split_trace(std::string_view block, std::string& scratch,
                                 std::string_view& headers);

// The same for a message nats.c received: from its bytes where they can be read
// (received_header_block), else rebuilt from the headers nats.c parsed, with the status line
// it lifts into `Status` and `Description` put back on the first line.
std::optional<Trace> take_headers(natsMsg* msg, std::string& scratch, std::string_view& headers);

// What to publish for a message whose header block is `headers` (as a client sent it, or
// empty) and whose payload follows: the block byte for byte, less any Psycho-* header (and
// less a Nats-Msg-Id of its own when `msg_id` is given), plus `Psycho-Trace: <trace>` and
// `Nats-Msg-Id: <msg_id>` where those are not empty, then the payload. `bytes` is the
// message's own memory when nothing changes, else `scratch`.
struct OutgoingBody {
  std::string_view bytes;
  std::size_t header_size = 0;
};
OutgoingBody outgoing_body(std::string_view headers, std::string_view payload,
                           std::string_view trace, std::string_view msg_id, std::string& scratch);

}  // namespace psycho::nats
