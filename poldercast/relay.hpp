// Nodes that cannot be dialled (a browser: it opens links, nobody can open one to it) and the
// envelope that reaches them through a node that can (docs/poldercast.md, "Browser nodes").
//
// An undialable node's address is "web:<name>@<relay>": <relay> is the address of the node
// whose link it opened (a gateway), which passes messages on over that link. A node never
// dials such an address: its transport sends over the link when it holds one, and otherwise
// wraps the message in a relay envelope to <relay>. The overlay itself (node.hpp) needs no
// change: every address it sees stays reachable, directly or through its relay.
//
// relay envelope = magic "PC" | version u8 (= 2) | type u8 (= 13) | destination string(u8)
//                  | message string(u32)
#pragma once

#include <string>
#include <string_view>

#include "poldercast/wire.hpp"

namespace psycho::poldercast {

inline constexpr std::string_view kUndialablePrefix = "web:";
// The envelope's bytes on top of the message it carries, at most.
inline constexpr std::size_t kRelayOverhead = 4 + 1 + 255 + 4;

// "web:<name>@<relay>" with a non-empty name and relay.
bool undialable(std::string_view address) noexcept;
// The <relay> of an undialable address; empty for any other.
std::string_view relay_of(std::string_view address) noexcept;

// Whether `data` starts like a relay envelope (magic, version, type): to tell one from a
// message before decoding either.
bool is_relay(std::string_view data) noexcept;

void encode_relay(std::string_view destination, std::string_view message, std::string& out);

// Checks the envelope and its limits (destination up to limits.max_address, an undialable or
// any non-empty address; message non-empty, up to limits.max_publication) and gives views
// into `data`. The message inside is not decoded here.
DecodeError decode_relay(std::string_view data, const Limits& limits, std::string_view& destination,
                         std::string_view& message);

}  // namespace psycho::poldercast
