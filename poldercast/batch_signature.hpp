// One signature for many publications. Ed25519 costs tens of microseconds to sign and more
// to verify, which capped a gateway at about ten thousand signed publications a second. So
// the publications a node puts on the overlay together (up to 2^kMaxBatchDepth at once) are
// the leaves of a Merkle tree and its origin signs only the root; each publication carries
// the signature and its proof (index and sibling hashes, wire.hpp's BatchProof). A node
// checks a publication by hashing its way from the leaf to the root and verifying the root's
// signature, which it remembers: the other publications of the batch then cost a few hashes.
//
// The guarantee is the per-publication signature's: changing any signed field changes the
// leaf, hence the root, which the origin's signature no longer covers; a proof cannot move
// a publication to another place (the index decides the side at each level). Leaves and
// inner nodes are hashed with different prefixes, so an inner node never passes for a leaf.
#pragma once

#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <unordered_set>

#include "poldercast/crypto.hpp"
#include "poldercast/wire.hpp"

namespace psycho::poldercast {

// The most publications one signature covers.
inline constexpr std::size_t kMaxBatch = std::size_t{1} << kMaxBatchDepth;

// Signs `batch` (at most kMaxBatch publications, their signed fields final) with one
// signature: sets every publication's signer, signature and batch proof.
void sign_batch(const Crypto& crypto, std::span<Publication> batch);

// The root `p`'s proof leads to from its signed content.
Digest batch_root(const Crypto& crypto, const Publication& p);

// What the signature of a batch covers: a label and the root.
std::string batch_signed_message(const Digest& root);

// Roots whose signature has been verified, with their signer: at most `capacity`, the
// oldest forgotten first. Only verified pairs are remembered, so an entry is never wrong.
class VerifiedRoots {
 public:
  explicit VerifiedRoots(std::size_t capacity) : capacity_(capacity) {}
  bool contains(const PublicKey& signer, const Digest& root) const;
  void insert(const PublicKey& signer, const Digest& root);
  std::size_t size() const noexcept { return order_.size(); }

 private:
  using Key = std::array<std::uint8_t, 64>;  // signer, then root
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  static Key key_of(const PublicKey& signer, const Digest& root);

  std::size_t capacity_;
  std::unordered_set<Key, KeyHash> set_;
  std::deque<Key> order_;
};

}  // namespace psycho::poldercast
