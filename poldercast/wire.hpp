// The PolderCast wire format, version 3 (docs/poldercast.md): what overlay nodes send each
// other, independent of the transport (UDP datagram, stream frame, data-channel message).
//
// Every message starts with {magic "PC", version, type, the sender's profile}. Integers are
// big-endian; strings and lists carry their length first. The decoder trusts nothing: every
// length is checked against what is left and against the limits below before anything is
// copied, so a hostile message costs at most its own size, and each refusal has a reason to
// count. The layers (views, rings, dissemination) and the adapter build on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "poldercast/crypto.hpp"

namespace psycho::poldercast {

// 2: publications carry their signer's key and signature.
inline constexpr std::uint8_t kVersion = 3;

enum class Type : std::uint8_t {
  cyclon_request = 1,
  cyclon_response,
  vicinity_request,
  vicinity_response,
  rings_request,
  rings_response,
  publish,
  find_subscriber,
  find_subscriber_response,
  leave,
  ping,  // are you alive? (a ring neighbour not heard from for a while)
  pong,
  // An envelope that a transport passes on to the node it names (relay.hpp): never handed to
  // a node, so decode() refuses it as bad_type.
  relay,
  // Opaque bytes between the transports of two nodes (a browser's WebRTC offers, answers and
  // ICE candidates), carried like any message so relays can check its sender; nodes ignore it.
  signal,
};

// What a message was refused for; each is a counter.
enum class DecodeError {
  none,
  truncated,    // a length or field runs past the end
  bad_magic,    // not a PolderCast message
  bad_version,  // a version this node does not speak
  bad_type,
  too_large,       // above the limits (message, list, string)
  bad_value,       // a field out of range (priority > 2)
  trailing_bytes,  // bytes after the end of the message
  count
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(DecodeError::count)>
    kDecodeErrorNames = {"none",     "truncated", "bad_magic", "bad_version",
                         "bad_type", "too_large", "bad_value", "trailing_bytes"};
inline std::string_view error_name(DecodeError e) noexcept {
  return e < DecodeError::count ? kDecodeErrorNames[static_cast<std::size_t>(e)] : "unknown";
}

struct TopicInterest {
  std::uint64_t topic = 0;    // hash of the exact subject
  std::uint8_t priority = 0;  // 0: ring full, 1: one slot missing, 2: two or more
  bool operator==(const TopicInterest&) const = default;
};

struct Profile {
  std::uint64_t node_id = 0;
  std::string address;  // transport-specific: "host:port", or a signalling handle
  // The node has more topics than `topics` lists (above Limits::max_topics): a topic missing
  // from the list says nothing about whether it subscribes.
  bool partial = false;
  std::vector<TopicInterest> topics;
  bool operator==(const Profile&) const = default;
};

struct Descriptor {
  Profile profile;
  std::uint16_t age = 0;
  bool operator==(const Descriptor&) const = default;
};

// A publication's place in a signed batch: a Merkle tree of at most 2^kMaxBatchDepth leaves.
inline constexpr std::size_t kMaxBatchDepth = 8;
struct BatchProof {
  std::uint16_t index = 0;                    // < 2^depth
  std::uint8_t depth = 0;                     // 0: a batch of one, whose root is the leaf
  std::array<Digest, kMaxBatchDepth> path{};  // the first `depth` are used, leaf level first
  bool operator==(const BatchProof&) const = default;
};

struct Publication {
  std::array<std::uint8_t, 16> msg_id{};
  std::uint64_t topic = 0;
  std::uint64_t origin = 0;        // the gateway that first published it (Trace::node_id)
  std::uint64_t seq = 0;           // its sequence there (Trace::seq)
  std::uint32_t bus = 0;           // Trace::bus
  std::uint8_t hops = 0;           // Trace::hops: adapter crossings before it entered the overlay
  std::uint16_t overlay_hops = 0;  // forwards inside the overlay so far
  // Sent straight to the gateway that asked (a reply), not along a ring: delivered there
  // whatever its rings, and never forwarded.
  bool direct = false;
  // With a reply subject: the overlay address of the requester's gateway, so the reply can
  // go straight back (a requester's inbox is usually a wildcard, which joins no ring).
  std::string reply_address;
  std::string subject, reply, headers, payload;
  // The node that put it on the overlay (its id is the key's hash), and its Ed25519
  // signature over signed_content(): no relay can forge or alter what it signed. Zero on an
  // overlay without keys (the simulator, a plaintext overlay).
  PublicKey signer{};
  Signature signature{};
  // Where it sits in the batch its signer signed at once (batch_signature.hpp): its index
  // and the sibling hashes from its leaf up to the root the signature covers.
  BatchProof batch;
  bool operator==(const Publication&) const = default;
};

// Makes `p` what Publication{} is, but keeps the buffer of each of its strings that holds
// at most `max_kept` bytes (a larger one is freed): a caller that refills the same
// publications, batch after batch, saves a malloc and a free per string (a 16-byte payload
// is already too long to sit inside its string). Every other field starts afresh, so one
// added to Publication later cannot carry over.
void reset_keeping_buffers(Publication& p, std::size_t max_kept);

// What a publication's signature covers: everything but overlay_hops (which each relay
// counts up) and the topic (the subject's hash, checked on arrival), in one canonical form.
std::string signed_content(const Publication& p);

// One message between overlay nodes, decoded; not the gateway's psycho::Message, which a
// publication carries inside it.
struct WireMessage {
  Type type = Type::leave;
  Profile sender;
  // The gossip types and find_subscriber_response; in find_subscriber, exactly one: the
  // node that started the walk, which every hop answers directly.
  std::vector<Descriptor> entries;
  Publication publication;  // publish
  std::uint64_t topic = 0;  // find_subscriber, find_subscriber_response
  std::uint8_t ttl = 0;     // find_subscriber
  std::string data;         // signal: up to max_gossip_message
  bool operator==(const WireMessage&) const = default;
};

struct Limits {
  std::size_t max_gossip_message = 16 * 1024;  // every type but publish
  std::size_t max_publication = 1024 * 1024 + 64 * 1024;
  std::size_t max_entries = 64;
  std::size_t max_topics = 256;  // per profile; more are not sent (docs/poldercast.md)
  std::size_t max_address = 255;
  std::size_t max_subject = 4096;
};

// Appends the encoding of `m` to `out`. The caller keeps within the limits (the encoder
// writes what it is given; decode() is where limits are enforced).
void encode(const WireMessage& m, std::string& out);

// encode() of a publication from `sender`, without a WireMessage to hold them: a node sends
// each publication it publishes or forwards, and copying its profile and the publication
// into one cost an allocation per string. Aborts if publication_wire_size() and the writes
// disagree, which only a bug in wire.cpp can make happen.
void encode_publication(const Profile& sender, const Publication& p, std::string& out);

// The bytes encode_publication() appends, which it sizes `out` for before it writes: grown
// field by field, the string was reallocated and copied over again several times per
// publication, most of the sending side's CPU at 1 KiB.
std::size_t publication_wire_size(const Profile& sender, const Publication& p);

// Decodes one whole message. On failure returns the reason and leaves `out` in an
// unspecified state.
DecodeError decode(std::string_view data, const Limits& limits, WireMessage& out);

}  // namespace psycho::poldercast
