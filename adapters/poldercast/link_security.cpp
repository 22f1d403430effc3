#include "adapters/poldercast/link_security.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace psycho::poldercast {

namespace {

constexpr std::uint8_t kIdentityVersion = 1, kCertifiedVersion = 2;

void append(std::string& out, const std::uint8_t* data, std::size_t size) {
  out.append(reinterpret_cast<const char*>(data), size);
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
constexpr std::string_view kPrologue = "psycho-poldercast link 1";

std::string prologue(std::uint8_t key_id) {
  std::string p(kPrologue);
  p.push_back(static_cast<char>(key_id));
  return p;
}

}  // namespace

// The CA signed this key, and the certificate has not run out (by this host's clock).
bool certified(const PublicKey& ca, const Identity& id, const Crypto& crypto) {
  if (!id.certificate) return false;
  const auto& c = *id.certificate;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (c.not_after != 0 && static_cast<std::uint64_t>(now) >= c.not_after) return false;
  return crypto.verify(ca, certificate_statement(id.key, c.not_after), c.signature);
}

std::string static_key_statement(const noise::Key32& static_key) {
  std::string s = "psycho-poldercast noise key:";
  s.append(reinterpret_cast<const char*>(static_key.data()), static_key.size());
  return s;
}

std::string certificate_statement(const PublicKey& node, std::uint64_t not_after) {
  std::string s = "psycho-poldercast node certificate 1:";
  append(s, node.data(), node.size());
  put_u64(s, not_after);
  return s;
}

std::string encode_identity(const Identity& identity) {
  const auto& cert = identity.certificate;
  std::string out(1, static_cast<char>(cert ? kCertifiedVersion : kIdentityVersion));
  append(out, identity.key.data(), identity.key.size());
  append(out, identity.signature.data(), identity.signature.size());
  if (cert) {
    put_u64(out, cert->not_after);
    append(out, cert->signature.data(), cert->signature.size());
  }
  return out;
}

bool decode_identity(std::string_view payload, Identity& out) {
  if (payload.empty()) return false;
  const auto version = static_cast<std::uint8_t>(payload[0]);
  const bool certified = version == kCertifiedVersion;
  if ((version != kIdentityVersion && !certified) ||
      payload.size() != (certified ? kCertifiedIdentitySize : kIdentitySize)) {
    return false;
  }
  std::memcpy(out.key.data(), payload.data() + 1, out.key.size());
  std::memcpy(out.signature.data(), payload.data() + 1 + out.key.size(), out.signature.size());
  out.certificate.reset();
  if (certified) {
    Certificate c;
    c.not_after = get_u64(payload.data() + kIdentitySize);
    std::memcpy(c.signature.data(), payload.data() + kIdentitySize + 8, c.signature.size());
    out.certificate = c;
  }
  return true;
}

LinkSecurity::LinkSecurity(std::shared_ptr<const Crypto> key, AdmissionPolicy policy)
    : key_(std::move(key)),
      policy_(std::move(policy)),
      static_(std::make_shared<noise::DhKey>(noise::DhKey::generate())) {
  identity_ =
      encode_identity({key_->public_key(), key_->sign(static_key_statement(static_->public_key())),
                       policy_.certificate});
}

std::unique_ptr<SecureLink> LinkSecurity::start(bool initiator) const {
  return std::make_unique<SecureLink>(shared_from_this(), initiator);
}

SecureLink::SecureLink(std::shared_ptr<const LinkSecurity> security, bool initiator)
    : security_(std::move(security)), initiator_(initiator) {}

std::string SecureLink::first_message() {
  if (!initiator_) return {};
  const auto& secrets = security_->policy_.secrets;
  const std::uint8_t key_id = secrets.empty() ? 0 : secrets.front().first;
  handshake_.emplace(true, security_->static_, prologue(key_id),
                     secrets.empty() ? nullptr : &secrets.front().second);
  std::string out(1, static_cast<char>(key_id));
  handshake_->write({}, out);
  return out;
}

// Message 1 names the secret it was made with; a responder that has no such secret, or has
// secrets while the initiator used none, refuses before it says anything about itself.
Refusal SecureLink::start_responder(std::string_view message, std::string& reply) {
  if (message.empty()) return Refusal::malformed;
  const auto key_id = static_cast<std::uint8_t>(message[0]);
  const auto& secrets = security_->policy_.secrets;
  const noise::Key32* psk = nullptr;
  if (key_id != 0) {
    auto it = std::find_if(secrets.begin(), secrets.end(),
                           [&](const auto& s) { return s.first == key_id; });
    if (it == secrets.end()) return Refusal::bad_secret;
    psk = &it->second;
  } else if (!secrets.empty()) {
    return Refusal::bad_secret;
  }
  handshake_.emplace(false, security_->static_, prologue(key_id), psk);
  std::string payload;
  const std::size_t expected = noise::kDh + (psk != nullptr ? noise::kTag : 0);
  if (message.size() - 1 != expected) return Refusal::malformed;
  if (!handshake_->read(message.substr(1), payload)) return Refusal::bad_secret;
  if (!payload.empty()) return Refusal::malformed;
  handshake_->write(security_->identity_, reply);
  return Refusal::none;
}

Refusal SecureLink::on_message(std::string_view message, std::string& reply) {
  reply.clear();
  if (ready_ || message.size() > kMaxHandshakeMessage) return Refusal::malformed;
  if (!handshake_) {
    if (initiator_) return Refusal::malformed;  // first_message() first
    return start_responder(message, reply);
  }
  if (handshake_->our_turn()) return Refusal::malformed;
  std::string payload;
  if (!handshake_->read(message, payload)) return Refusal::bad_secret;
  if (auto r = check_identity(payload); r != Refusal::none) return r;
  if (initiator_) handshake_->write(security_->identity_, reply);
  finish();
  return Refusal::none;
}

// The peer's Ed25519 key must have signed this link's Noise static key (so nobody can
// present another node's key), and pass the allow-list when there is one.
Refusal SecureLink::check_identity(std::string_view payload) {
  Identity id;
  if (!decode_identity(payload, id)) return Refusal::malformed;
  const auto& crypto = *security_->key_;
  if (!crypto.verify(id.key, static_key_statement(handshake_->remote_static()), id.signature)) {
    return Refusal::bad_identity;
  }
  const auto& policy = security_->policy_;
  if (!policy.allow.empty() && policy.allow.count(id.key) == 0) return Refusal::not_allowed;
  if (policy.ca && !certified(*policy.ca, id, crypto)) return Refusal::bad_certificate;
  peer_key_ = id.key;
  peer_ = crypto.node_id(id.key);
  return Refusal::none;
}

void SecureLink::finish() {
  auto [send, receive] = handshake_->split();
  send_ = std::move(send);
  receive_ = std::move(receive);
  handshake_.reset();
  ready_ = true;
}

}  // namespace psycho::poldercast
