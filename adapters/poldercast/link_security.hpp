// Authenticated, encrypted overlay links (docs/poldercast.md#links-noise-xx-and-why-not-tls): who
// may join (the admission policy), and one link's Noise XX handshake with the identity each side
// proves in it. The stream transport runs it on every connection before any overlay
// message; a browser's WebSocket link can run the same bytes.
//
// The handshake, in the transport's frames:
//   initiator -> key id u8 (the shared secret it uses; 0: none) | Noise message 1
//   responder -> Noise message 2, its payload the responder's identity
//   initiator -> Noise message 3, its payload the initiator's identity
// then one AES-256-GCM sealed frame per overlay message, initiator to responder (a link
// carries messages one way; the peer answers over its own link). An identity payload is
// version u8 (1) | Ed25519 public key (32) | Ed25519 signature (64) over
// "psycho-poldercast noise key:" and the sender's Noise static key: the link is bound to the
// node key, whose hash is the node id (node_key.hpp), as libp2p's Noise handshake binds it.
// Version 2 adds the node's certificate from the overlay's CA: not_after u64 | signature (64).
//
// Not thread-safe: a link belongs to its connection.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/poldercast/noise.hpp"
#include "poldercast/crypto.hpp"

namespace psycho::poldercast {

// Why a link was refused; each is counted (psycho_poldercast_link_refusals_total{reason}).
enum class Refusal {
  none,
  malformed,        // a handshake message of the wrong size or form
  bad_secret,       // a handshake message that is not authentic: no or another overlay secret
  bad_identity,     // an identity payload whose signature does not bind the link's key
  not_allowed,      // a node key outside the allow-list
  bad_certificate,  // no, an expired, or a forged certificate from the overlay's CA
  wrong_peer,       // a dialled peer that is not the node it was gossiped as
  timeout,          // no finished handshake within handshake_timeout
  bad_frame,        // a sealed frame that is not authentic
  closed,           // a dialled peer closed the link before the handshake ended: it refused us
  banned,           // a node cut off for flooding, for ban_duration (links and messages)
  count
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(Refusal::count)>
    kRefusalNames = {"none",        "malformed",       "bad_secret", "bad_identity",
                     "not_allowed", "bad_certificate", "wrong_peer", "timeout",
                     "bad_frame",   "closed",          "banned"};

// A CA's word that a node key belongs to the overlay, until `not_after` (Unix seconds; 0:
// no end): its Ed25519 signature over certificate_statement().
struct Certificate {
  std::uint64_t not_after = 0;
  Signature signature{};
};

// Who may complete a handshake. At least one of the choices must be made (config checks).
struct AdmissionPolicy {
  // Shared overlay secrets (XXpsk0), each with its id; the first is the one we dial with,
  // every one is accepted, so that a secret can be replaced without a flag day.
  std::vector<std::pair<std::uint8_t, noise::Key32>> secrets;
  // Node keys allowed in; empty: not checked.
  std::set<PublicKey> allow;
  // Anyone with a key may join (explicit: `admission: {open: true}`).
  bool open = false;
  // Node keys certified by this CA key; unset: not checked.
  std::optional<PublicKey> ca;
  // Ours, shown to every peer (needed where the overlay has a CA).
  std::optional<Certificate> certificate;
};

// The largest handshake message (the responder's is 32 + 48 + 97 + 16 = 193 bytes, 265 with a
// certificate).
inline constexpr std::size_t kMaxHandshakeMessage = 512;

class SecureLink;

class LinkSecurity : public std::enable_shared_from_this<LinkSecurity> {
 public:
  // `key` signs the link's Noise static key, made fresh here for this process.
  LinkSecurity(std::shared_ptr<const Crypto> key, AdmissionPolicy policy);
  // One connection's handshake; the initiator dials. The link keeps this alive.
  std::unique_ptr<SecureLink> start(bool initiator) const;

 private:
  friend class SecureLink;
  std::shared_ptr<const Crypto> key_;
  AdmissionPolicy policy_;
  std::string identity_;  // our identity payload
  std::shared_ptr<const noise::DhKey> static_;
};

class SecureLink {
 public:
  SecureLink(std::shared_ptr<const LinkSecurity> security, bool initiator);
  // The initiator's first message (empty for the responder).
  std::string first_message();
  // One handshake message from the peer; `reply` gets what to send back, if anything.
  // Refusal::none while all is well; ready() once the handshake is done.
  Refusal on_message(std::string_view message, std::string& reply);
  bool ready() const { return ready_; }
  // The node the peer proved to be (after ready()).
  std::uint64_t peer() const { return peer_; }
  const PublicKey& peer_key() const { return peer_key_; }
  // Appends the sealed frame of `plain` to `out` (after ready()).
  void seal(std::string_view plain, std::string& out) { send_.encrypt({}, plain, out); }
  // Appends what `sealed` carried to `out`; false when it is not authentic.
  bool open(std::string_view sealed, std::string& out) { return receive_.decrypt({}, sealed, out); }

 private:
  Refusal start_responder(std::string_view message, std::string& reply);
  Refusal check_identity(std::string_view payload);
  void finish();

  std::shared_ptr<const LinkSecurity> security_;
  bool initiator_;
  std::optional<noise::Handshake> handshake_;
  noise::Cipher send_, receive_;
  bool ready_ = false;
  std::uint64_t peer_ = 0;
  PublicKey peer_key_{};
};

// The identity payload: what it carries, and its decoding (fuzzed: tests/fuzz). Version 1
// is the key and its signature; version 2 adds a certificate (not_after u64, CA signature).
struct Identity {
  PublicKey key{};
  Signature signature{};
  std::optional<Certificate> certificate;
};
inline constexpr std::size_t kIdentitySize = 1 + 32 + 64;
inline constexpr std::size_t kCertifiedIdentitySize = kIdentitySize + 8 + 64;
// What a CA signs to certify `node` until `not_after`.
std::string certificate_statement(const PublicKey& node, std::uint64_t not_after);
std::string encode_identity(const Identity& identity);
bool decode_identity(std::string_view payload, Identity& out);
// What the identity key signs: the link's Noise static key, bound to this purpose.
std::string static_key_statement(const noise::Key32& static_key);
// Whether `id` carries a certificate from `ca` that has not run out (by this host's clock).
bool certified(const PublicKey& ca, const Identity& id, const Crypto& crypto);

}  // namespace psycho::poldercast
