// A PolderCast node's identity: an Ed25519 key pair, through OpenSSL 3, and the Crypto the
// overlay uses (protocol/crypto.hpp). The node id derives from the public key, so a node
// cannot claim another's id (docs/poldercast.md#identity).
//
// The private key lives in a PEM file (PKCS#8) that only its owner may read: created on
// first start in `state_dir`, or given by config (a mounted Kubernetes Secret, say). A key
// file that others may read or write is refused: a key others can read is not secret.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "poldercast/crypto.hpp"

namespace psycho::poldercast {

class NodeKey final : public Crypto {
 public:
  // Reads the key at `path`; with `create`, makes a new one there (mode 0600, written
  // atomically) when the file does not exist.
  static Result<std::shared_ptr<NodeKey>> load(const std::string& path, bool create);
  // A new key that lives in memory only (tests and tools).
  static std::shared_ptr<NodeKey> generate();
  ~NodeKey() override;
  NodeKey(const NodeKey&) = delete;
  NodeKey& operator=(const NodeKey&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  // Crypto
  const PublicKey& public_key() const override { return public_; }
  Signature sign(std::string_view message) const override;
  bool verify(const PublicKey& key, std::string_view message,
              const Signature& signature) const override;
  Digest hash(std::string_view data) const override;
  std::uint64_t node_id(const PublicKey& key) const override { return id_of(key); }

  static std::uint64_t id_of(const PublicKey& key);
  static bool check(const PublicKey& key, std::string_view message, const Signature& signature);
  // The PEM text of the private key, for writing it out.
  std::string private_pem() const;

 private:
  struct Pkey;
  explicit NodeKey(std::unique_ptr<Pkey> key);

  std::unique_ptr<Pkey> key_;
  PublicKey public_{};
  std::uint64_t id_ = 0;
};

// Lower-case hex of `bytes`, and back (nullopt-like: false when `text` is not 2n hex digits).
std::string to_hex(std::string_view bytes);
bool from_hex(std::string_view text, std::string& out);

}  // namespace psycho::poldercast
