#include "adapters/poldercast/poldercast_config.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <random>

#include <openssl/evp.h>

#include "adapters/adapter.hpp"
#include "adapters/multicast/group_keys.hpp"
#include "config/section.hpp"
#include "core/host_port.hpp"
#include "poldercast/relay.hpp"

namespace psycho::poldercast {

namespace {

using std::chrono::milliseconds;

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

void read_addresses(config::Section& s, PolderCastConfig& c) {
  s.get("listen", c.listen);
  if (!c.listen.enabled()) s.error_at("listen", "'poldercast.listen' must be a host:port");
  s.get("advertise", c.advertise);
  if (c.advertise.empty()) {
    if (is_wildcard(c.listen.host)) {
      s.error_at("advertise",
                 "'poldercast.advertise' is required when 'poldercast.listen' is a wildcard "
                 "address: other gateways need an address they can dial");
    } else {
      c.advertise = c.listen.to_string();
    }
  } else if (!parse_host_port(c.advertise)) {
    s.error_at("advertise", "'poldercast.advertise' must be host:port, not '" + c.advertise + "'");
  }
  s.get("websocket", c.websocket);
  s.get_size("websocket_max_per_address", c.websocket_max_per_address, 1, 1 << 16);
  s.get("seeds", c.seeds);
  for (const auto& seed : c.seeds) {
    if (!parse_host_port(seed)) {
      s.error_at("seeds", "'poldercast.seeds': '" + seed + "' is not host:port");
    }
  }
}

void read_views(config::Section& s, NodeOptions& n) {
  s.get_size("fanout", n.fanout, 1, 16);
  s.get_size("cyclon_view", n.cyclon_view, 2, 256);
  s.get_size("cyclon_gossip", n.cyclon_gossip, 1, 64);
  s.get_size("vicinity_view", n.vicinity_view, 2, 256);
  s.get_size("vicinity_gossip", n.vicinity_gossip, 1, 64);
  s.get_size("ring_slots", n.ring_slots, 1, 8);
  s.get_size("rings_gossip", n.rings_gossip, 1, 64);
  if (n.cyclon_gossip > n.cyclon_view) {
    s.error_at("cyclon_gossip", "'poldercast.cyclon_gossip' must not exceed 'cyclon_view'");
  }
  if (n.vicinity_gossip > n.vicinity_view) {
    s.error_at("vicinity_gossip", "'poldercast.vicinity_gossip' must not exceed 'vicinity_view'");
  }
}

}  // namespace

noise::Key32 overlay_psk(const std::string& secret) {
  noise::Key32 psk{};
  const std::string input = "psycho-poldercast overlay secret:" + secret;
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), psk.data(), &size, EVP_sha256(), nullptr);
  return psk;
}

namespace {

bool parse_key(const std::string& hex, PublicKey& key) {
  std::string raw;
  if (hex.size() != 2 * key.size() || !from_hex(hex, raw)) return false;
  std::copy(raw.begin(), raw.end(), key.begin());
  return true;
}

// `ca`: the CA's public key; `certificate_file`: this node's certificate from it, one line
// `NOT_AFTER SIGNATURE` (Unix seconds, 0 for none; 128 hex digits), docs/poldercast.md#admission.
void read_certificates(config::Section& s, AdmissionPolicy& a) {
  std::string ca, file;
  s.get("ca", ca);
  s.get("certificate_file", file);
  s.require_both_or_neither("ca", ca, "certificate_file", file);
  if (!ca.empty()) {
    PublicKey key{};
    if (!parse_key(ca, key)) {
      s.error_at("ca", "'poldercast.admission.ca' must be the CA's public key (64 hex digits)");
    } else {
      a.ca = key;
    }
  }
  if (file.empty()) return;
  std::ifstream in(file);
  std::uint64_t not_after = 0;
  std::string hex, raw;
  Certificate cert;
  if (!(in >> not_after >> hex) || hex.size() != 2 * cert.signature.size() || !from_hex(hex, raw)) {
    s.error_at("certificate_file", "'poldercast.admission.certificate_file': '" + file +
                                       "' does not hold 'NOT_AFTER SIGNATURE' (seconds, then "
                                       "128 hex digits)");
    return;
  }
  cert.not_after = not_after;
  std::copy(raw.begin(), raw.end(), cert.signature.begin());
  a.certificate = cert;
}

void read_admission(config::Section& parent, PolderCastConfig& c) {
  config::Section s = parent.child("admission");
  std::string secret_file;
  s.get("secret_file", secret_file);
  if (!secret_file.empty()) {
    // The multicast group key file's format: `ID SECRET` lines, the first one dialled with,
    // every one accepted, so a secret can be replaced one gateway at a time.
    auto keys = multicast::read_group_keys(secret_file);
    if (!keys) {
      s.error_at("secret_file", "'poldercast.admission.secret_file': " + keys.error());
    } else {
      for (const auto& k : keys.value())
        c.admission.secrets.emplace_back(k.id, overlay_psk(k.secret));
    }
  }
  std::vector<std::string> allow;
  s.get("allow", allow);
  for (const auto& hex : allow) {
    PublicKey key{};
    if (!parse_key(hex, key)) {
      s.error_at("allow", "'poldercast.admission.allow': '" + hex +
                              "' is not a node public key (64 hex digits, as /varz shows it)");
      continue;
    }
    c.admission.allow.insert(key);
  }
  s.get("open", c.admission.open);
  read_certificates(s, c.admission);
  s.get("plaintext", c.plaintext);
  const bool chosen =
      !secret_file.empty() || !allow.empty() || c.admission.open || c.admission.ca.has_value();
  if (c.plaintext && chosen) {
    s.error_at("plaintext",
               "'poldercast.admission.plaintext' turns the handshake off: it cannot go with "
               "'secret_file', 'allow', 'ca' or 'open'");
  } else if (!c.plaintext && !chosen) {
    parent.error_at("admission",
                    "'poldercast.admission' must say who may join the overlay: 'secret_file' (a "
                    "shared overlay secret), 'allow' (a list of node public keys), 'ca' (a CA "
                    "key that certifies node keys), or 'open: true' (anyone with a key); see "
                    "docs/poldercast.md#admission");
  }
  parent.adopt(s);
}

}  // namespace

Result<PolderCastConfig> parse_config(const config::AdapterSection& section) {
  PolderCastConfig c;
  config::Section s(section.node, section.file, "poldercast");
  read_addresses(s, c);
  std::string id;
  s.get("node_id", id);
  if (!id.empty()) {
    s.error_at("node_id",
               "'poldercast.node_id' is gone: the node id derives from the node's key "
               "('poldercast.key_file', or the one kept in 'state_dir')");
  }
  s.get("key_file", c.key_file);
  s.get("state_dir", c.state_dir);
  read_admission(s, c);
  // A page's node cannot sign its publications nor prove a key yet, and an authenticated
  // link carries only its own node's messages, so browsers join only an unauthenticated
  // overlay (docs/poldercast.md#browser-peers-and-admission).
  if (c.websocket.enabled() && !c.plaintext) {
    s.error_at("websocket",
               "'poldercast.websocket' (browser links) needs 'poldercast.admission.plaintext: "
               "true': browser nodes neither sign their publications nor prove a node key, so "
               "they cannot join an authenticated overlay");
  }
  s.get_duration("cycle", c.cycle, milliseconds(10), std::chrono::minutes(10));
  read_views(s, c.node);
  c.subjects = SubjectFilter::parse(s);
  s.get_size("max_payload", c.max_payload, 0, std::size_t{1} << 30);
  read_queue_settings(s, c.queue);
  s.get_size("max_connections", c.transport.max_connections, 2, 1 << 16);
  s.get_duration("connect_timeout", c.transport.connect_timeout, milliseconds(10),
                 std::chrono::minutes(10));
  s.get_duration("idle_timeout", c.transport.idle_timeout, milliseconds(0), std::chrono::hours(24));
  milliseconds answer_timeout(c.node.answer_timeout_ms);
  s.get_duration("answer_timeout", answer_timeout, milliseconds(10), std::chrono::minutes(10));
  c.node.answer_timeout_ms = answer_timeout.count();
  s.get_duration("stall_timeout", c.transport.stall_timeout, milliseconds(0),
                 std::chrono::hours(1));
  s.get_size("max_connections_per_address", c.transport.max_connections_per_address, 1, 1 << 16);
  s.get_duration("frame_timeout", c.transport.frame_timeout, milliseconds(0),
                 std::chrono::hours(1));
  s.get_duration("handshake_timeout", c.transport.handshake_timeout, milliseconds(10),
                 std::chrono::minutes(1));
  // A frame carries subject, reply, headers and payload plus the wire header.
  c.node.max_publication = c.max_payload + 2 * c.node.max_gossip_message;
  // A frame may also carry a publication for a browser in a relay envelope.
  c.transport.max_frame = c.node.max_publication + kRelayOverhead;
  c.transport.max_queue_bytes =
      std::max<std::size_t>(c.transport.max_queue_bytes, 2 * c.transport.max_frame);
  // A flood is slowed at 1 MiB queued on a link: at half of the 8 MiB the publishing
  // gateway spent an eighth more CPU per 16 B message, its queued megabytes out of the
  // caches (BENCHMARKS.md, PolderCast). The rest is headroom, for what relays add.
  c.transport.backed_up_at = 1 << 20;
  // Publications fill a link to three quarters; the last quarter stays for gossip and pings.
  c.node.publication_backlog = c.transport.max_queue_bytes / 4 * 3;
  if (auto st = s.finish(); !st) return fail(st.error());
  return c;
}

std::string node_key_file(const std::string& advertised) {
  // Named after the advertised address, so that gateways started from one directory (one
  // state_dir) keep one key each instead of sharing one.
  std::string name = "poldercast-" + advertised + ".key";
  for (char& c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-';
    if (!plain) c = '_';
  }
  return name;
}

Result<std::shared_ptr<NodeKey>> load_node_key(const PolderCastConfig& config,
                                               const std::string& advertised) {
  if (!config.key_file.empty()) return NodeKey::load(config.key_file, false);
  return NodeKey::load(
      (std::filesystem::path(config.state_dir) / node_key_file(advertised)).string(), true);
}

}  // namespace psycho::poldercast
