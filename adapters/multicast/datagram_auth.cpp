#include "adapters/multicast/datagram_auth.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "adapters/multicast/codec.hpp"
#include "adapters/wire_bytes.hpp"

namespace psycho::multicast {

namespace {

// Labels of the keys derived from a secret: one per mode, so that they never mix.
constexpr std::string_view kMacLabel = "psycho multicast v1 hmac-sha256";
constexpr std::string_view kAeadLabel = "psycho multicast v1 aes-256-gcm";
constexpr std::size_t kReceiveBuffer = 65536;

bool ours(std::string_view d) noexcept {
  return d.size() >= kCommonHeaderSize &&
         std::memcmp(d.data(), kMagic.data(), kMagic.size()) == 0 &&
         static_cast<std::uint8_t>(d[kMagic.size()]) == kVersion;
}

}  // namespace

KeyRing::KeyRing(const std::vector<GroupKey>& keys, bool encrypt) : encrypt_(encrypt) {
  const std::string_view label = encrypt ? kAeadLabel : kMacLabel;
  for (const GroupKey& k : keys) {
    Key derived{k.id, {}};
    unsigned int size = 0;
    HMAC(EVP_sha256(), k.secret.data(), static_cast<int>(k.secret.size()),
         reinterpret_cast<const unsigned char*>(label.data()), label.size(), derived.key.data(),
         &size);
    keys_.push_back(derived);
  }
}

const KeyRing::Key* KeyRing::find(std::uint8_t id) const noexcept {
  for (const Key& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

// --- OpenSSL contexts ----------------------------------------------------------------------

struct KeyContexts::Contexts {
  EVP_MAC* hmac = nullptr;
  std::vector<EVP_MAC_CTX*> macs;
  std::vector<EVP_CIPHER_CTX*> ciphers;
  ~Contexts() {
    for (auto* m : macs) EVP_MAC_CTX_free(m);
    for (auto* c : ciphers) EVP_CIPHER_CTX_free(c);
    EVP_MAC_free(hmac);
  }
};

KeyContexts::KeyContexts() = default;
KeyContexts::~KeyContexts() = default;

void KeyContexts::use(const std::shared_ptr<const KeyRing>& ring) {
  if (ring == ring_) return;
  auto made = std::make_unique<Contexts>();
  for (const KeyRing::Key& k : ring->keys()) {
    if (ring->encrypt()) {
      EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
      // The IV is the sender's node id and counter: 16 bytes, which GCM takes as they are
      // hashed into its first counter block.
      EVP_CipherInit_ex(c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, 1);
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 16, nullptr);
      EVP_CipherInit_ex(c, nullptr, nullptr, k.key.data(), nullptr, 1);
      made->ciphers.push_back(c);
    } else {
      if (made->hmac == nullptr) made->hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      EVP_MAC_CTX* m = EVP_MAC_CTX_new(made->hmac);
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
          OSSL_PARAM_construct_end()};
      EVP_MAC_init(m, k.key.data(), k.key.size(), params);
      made->macs.push_back(m);
    }
  }
  contexts_ = std::move(made);
  ring_ = ring;
}

void KeyContexts::mac(std::size_t index, std::string_view bytes, unsigned char* tag) {
  EVP_MAC_CTX* m = contexts_->macs[index];
  std::array<unsigned char, 32> full{};
  std::size_t size = 0;
  // A null key starts again with the key it was made with.
  EVP_MAC_init(m, nullptr, 0, nullptr);
  EVP_MAC_update(m, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  EVP_MAC_final(m, full.data(), &size, full.size());
  std::memcpy(tag, full.data(), kTagSize);
}

bool KeyContexts::crypt(std::size_t index, bool encrypting, const unsigned char* iv,
                        std::string_view aad_header, std::string_view aad_counter, const char* in,
                        char* out, std::size_t size, unsigned char* tag) {
  EVP_CIPHER_CTX* c = contexts_->ciphers[index];
  int n = 0;
  const auto u = [](const char* p) { return reinterpret_cast<const unsigned char*>(p); };
  if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, iv, encrypting ? 1 : 0) != 1 ||
      EVP_CipherUpdate(c, nullptr, &n, u(aad_header.data()), static_cast<int>(aad_header.size())) !=
          1 ||
      EVP_CipherUpdate(c, nullptr, &n, u(aad_counter.data()),
                       static_cast<int>(aad_counter.size())) != 1 ||
      EVP_CipherUpdate(c, reinterpret_cast<unsigned char*>(out), &n, u(in),
                       static_cast<int>(size)) != 1) {
    return false;
  }
  if (!encrypting && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1) return false;
  if (EVP_CipherFinal_ex(c, reinterpret_cast<unsigned char*>(out) + n, &n) != 1) return false;
  return !encrypting || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kTagSize, tag) == 1;
}

// --- sealing -------------------------------------------------------------------------------

void Sealer::seal(const std::shared_ptr<const KeyRing>& ring, std::atomic<std::uint64_t>& counter,
                  std::string& datagram) {
  contexts_.use(ring);
  const std::size_t body = datagram.size();
  datagram[kKeyIdOffset] = static_cast<char>(ring->keys()[0].id);
  ByteWriter(datagram).u64(counter.fetch_add(1, std::memory_order_relaxed));
  std::array<unsigned char, kTagSize> tag{};
  if (ring->encrypt()) {
    std::array<unsigned char, 16> iv{};
    std::memcpy(iv.data(), datagram.data() + 8, 8);  // the sender's node id
    std::memcpy(iv.data() + 8, datagram.data() + body, 8);
    char* payload = datagram.data() + kCommonHeaderSize;
    contexts_.crypt(0, true, iv.data(), std::string_view(datagram).substr(0, kCommonHeaderSize),
                    std::string_view(datagram).substr(body, 8), payload, payload,
                    body - kCommonHeaderSize, tag.data());
  } else {
    contexts_.mac(0, datagram, tag.data());
  }
  datagram.append(reinterpret_cast<const char*>(tag.data()), tag.size());
}

// --- opening -------------------------------------------------------------------------------

Opener::Opener(std::size_t max_senders) : max_senders_(std::max<std::size_t>(max_senders, 1)) {
  buffer_.reserve(kReceiveBuffer);
}

AuthError Opener::open(const std::shared_ptr<const KeyRing>& ring, std::string_view datagram,
                       std::string_view& plain) {
  plain = datagram;
  if (!ours(datagram)) return AuthError::none;  // decode() names it
  const auto key_id = static_cast<std::uint8_t>(datagram[kKeyIdOffset]);
  if (!ring) return key_id == 0 ? AuthError::none : AuthError::unknown_key;
  if (key_id == 0) return AuthError::unauthenticated;
  const KeyRing::Key* key = ring->find(key_id);
  if (key == nullptr) return AuthError::unknown_key;
  if (datagram.size() < kCommonHeaderSize + kTrailerSize) return AuthError::truncated;
  const std::size_t body = datagram.size() - kTrailerSize;
  const std::uint64_t sender = load_be(datagram.data() + 8, 8);
  const std::uint64_t counter = load_be(datagram.data() + body, 8);
  const auto known = senders_.find(sender);
  if (known != senders_.end() && !known->second.window.fresh(counter)) return AuthError::replayed;
  contexts_.use(ring);
  const auto index = static_cast<std::size_t>(key - ring->keys().data());
  std::array<unsigned char, kTagSize> tag{};
  std::memcpy(tag.data(), datagram.data() + body + 8, kTagSize);
  if (ring->encrypt()) {
    std::array<unsigned char, 16> iv{};
    std::memcpy(iv.data(), datagram.data() + 8, 8);
    std::memcpy(iv.data() + 8, datagram.data() + body, 8);
    buffer_.assign(datagram.substr(0, body));
    char* payload = buffer_.data() + kCommonHeaderSize;
    if (!contexts_.crypt(index, false, iv.data(), datagram.substr(0, kCommonHeaderSize),
                         datagram.substr(body, 8), payload, payload, body - kCommonHeaderSize,
                         tag.data())) {
      return AuthError::unauthenticated;
    }
    plain = buffer_;
  } else {
    std::array<unsigned char, kTagSize> expected{};
    contexts_.mac(index, datagram.substr(0, body + 8), expected.data());
    if (CRYPTO_memcmp(expected.data(), tag.data(), kTagSize) != 0) {
      return AuthError::unauthenticated;
    }
    plain = datagram.substr(0, body);
  }
  record(sender, counter);
  return AuthError::none;
}

void Opener::record(std::uint64_t sender, std::uint64_t counter) {
  auto it = senders_.find(sender);
  if (it == senders_.end()) {
    if (senders_.size() >= max_senders_) {
      senders_.erase(std::min_element(
          senders_.begin(), senders_.end(),
          [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; }));
    }
    it = senders_.emplace(sender, Sender{}).first;
    sender_count_.store(senders_.size(), std::memory_order_relaxed);
  }
  it->second.window.accept(counter);
  it->second.last_used = ++tick_;
}

std::uint64_t first_counter() noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return ns > 0 ? static_cast<std::uint64_t>(ns) : 1;
}

}  // namespace psycho::multicast
