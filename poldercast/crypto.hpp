// What the overlay needs of cryptography, and nothing more: its node's signing key, checking
// another node's signature, and the node id a public key stands for. The protocol library
// does no cryptography itself (it has no OpenSSL and no I/O, so that it compiles unchanged to
// WebAssembly): the gateway's adapter implements this with OpenSSL (node_key.hpp); a browser
// node implements it with whatever it has. Keys are Ed25519.
//
// Threading: called on the thread that owns the node. None of it may block.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace psycho::poldercast {

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;
using Digest = std::array<std::uint8_t, 32>;

class Crypto {
 public:
  virtual ~Crypto() = default;
  // This node's Ed25519 public key.
  virtual const PublicKey& public_key() const = 0;
  // This node's signature over `message`.
  virtual Signature sign(std::string_view message) const = 0;
  // Whether `signature` is `key`'s over `message`.
  virtual bool verify(const PublicKey& key, std::string_view message,
                      const Signature& signature) const = 0;
  // SHA-256 of `data`.
  virtual Digest hash(std::string_view data) const = 0;
  // The node id `key` stands for: the first 8 bytes of its SHA-256, big-endian. Nobody can
  // use an id without the private key of a public key that hashes to it.
  virtual std::uint64_t node_id(const PublicKey& key) const = 0;
};

}  // namespace psycho::poldercast
