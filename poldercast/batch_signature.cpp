#include "poldercast/batch_signature.hpp"

#include <cstring>
#include <vector>

namespace psycho::poldercast {

namespace {

constexpr char kInnerPrefix = 0x01;  // leaves hash signed_content(), which starts with text

Digest inner(const Crypto& crypto, const Digest& left, const Digest& right) {
  char buffer[1 + 2 * sizeof(Digest)];
  buffer[0] = kInnerPrefix;
  std::memcpy(buffer + 1, left.data(), left.size());
  std::memcpy(buffer + 1 + left.size(), right.data(), right.size());
  return crypto.hash(std::string_view(buffer, sizeof(buffer)));
}

Digest leaf(const Crypto& crypto, const Publication& p) { return crypto.hash(signed_content(p)); }

}  // namespace

void sign_batch(const Crypto& crypto, std::span<Publication> batch) {
  if (batch.empty()) return;
  std::uint8_t depth = 0;
  while ((std::size_t{1} << depth) < batch.size()) ++depth;
  const std::size_t width = std::size_t{1} << depth;
  // levels[0] are the leaves (the last repeated to fill the width), levels[depth] the root.
  std::vector<std::vector<Digest>> levels(depth + 1);
  for (auto& p : batch) p.signer = crypto.public_key();
  levels[0].reserve(width);
  for (const auto& p : batch) levels[0].push_back(leaf(crypto, p));
  while (levels[0].size() < width) levels[0].push_back(levels[0].back());
  for (std::size_t level = 1; level <= depth; ++level) {
    const auto& below = levels[level - 1];
    for (std::size_t i = 0; i < below.size(); i += 2) {
      levels[level].push_back(inner(crypto, below[i], below[i + 1]));
    }
  }
  const Signature signature = crypto.sign(batch_signed_message(levels[depth][0]));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Publication& p = batch[i];
    p.signature = signature;
    p.batch = {};
    p.batch.index = static_cast<std::uint16_t>(i);
    p.batch.depth = depth;
    for (std::size_t level = 0; level < depth; ++level) {
      p.batch.path[level] = levels[level][(i >> level) ^ 1];
    }
  }
}

Digest batch_root(const Crypto& crypto, const Publication& p) {
  Digest h = leaf(crypto, p);
  for (std::size_t level = 0; level < p.batch.depth; ++level) {
    const Digest& sibling = p.batch.path[level];
    h = ((p.batch.index >> level) & 1) != 0 ? inner(crypto, sibling, h) : inner(crypto, h, sibling);
  }
  return h;
}

std::string batch_signed_message(const Digest& root) {
  std::string out = "psycho-poldercast batch 1:";
  out.append(reinterpret_cast<const char*>(root.data()), root.size());
  return out;
}

VerifiedRoots::Key VerifiedRoots::key_of(const PublicKey& signer, const Digest& root) {
  Key k;
  std::memcpy(k.data(), signer.data(), signer.size());
  std::memcpy(k.data() + signer.size(), root.data(), root.size());
  return k;
}

std::size_t VerifiedRoots::KeyHash::operator()(const Key& k) const noexcept {
  // The root is a SHA-256 output: any eight of its bytes are as good as a hash.
  std::size_t h;
  std::memcpy(&h, k.data() + 32, sizeof(h));
  return h;
}

bool VerifiedRoots::contains(const PublicKey& signer, const Digest& root) const {
  return set_.count(key_of(signer, root)) > 0;
}

void VerifiedRoots::insert(const PublicKey& signer, const Digest& root) {
  if (capacity_ == 0) return;
  const Key k = key_of(signer, root);
  if (!set_.insert(k).second) return;
  order_.push_back(k);
  if (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace psycho::poldercast
