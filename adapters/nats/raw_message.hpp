// Header blocks as bytes, both ways through nats.c.
//
// nats.c's public API knows headers only as a map (natsMsgHeader_*): a block built through it
// comes out in hash order, and every key costs an allocation. But nats.c keeps the block of
// a message it received as the bytes that arrived, and publishes a message made by its own
// constructor, natsMsg_create (exported by libnats, not declared in nats.h), with its block
// verbatim. So the gateway builds what it publishes with that constructor, and reads what
// it received from where that constructor put it: key order, case, repeated keys and the
// status line pass through byte for byte. CMake checks that libnats exports the constructor;
// reading a received block is checked once at run time against a message made by it, and
// falls back to nats.c's map where it does not hold (see received_header_block).
#pragma once

#include <nats/nats.h>

#include <cstddef>
#include <optional>
#include <string_view>

namespace psycho::nats {

// A message carrying `body` (a header block of `header_size` bytes, then the payload) as
// nats.c would have received it; published, the block goes out as it is. `reply` may be
// empty. The caller owns the message (natsMsg_Destroy).
natsStatus make_raw_message(natsMsg** out, std::string_view subject, std::string_view reply,
                            std::string_view body, std::size_t header_size);

// The header block of a received message as the bytes that arrived ("NATS/1.0...\r\n\r\n");
// nullopt when there are no such bytes to read (no block arrived, nats.c has parsed it in
// place, or its message layout is not the one this was written against): natsMsgHeader_*
// then says what headers there are.
std::optional<std::string_view> received_header_block(natsMsg* msg);

// Frees a message the gateway owns (one it made, or one a subscription handed it) on the
// calling thread. natsMsg_Destroy instead queues every message for nats.c's collector thread:
// a lock and often a thread wake-up per message, on the path every bridged message takes.
void free_message(natsMsg* msg) noexcept;

}  // namespace psycho::nats
