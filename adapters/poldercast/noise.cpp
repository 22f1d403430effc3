#include "adapters/poldercast/noise.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace psycho::poldercast::noise {

namespace {

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
std::string_view view(const Key32& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

Key32 hmac(const Key32& key, std::string_view data) {
  Key32 out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), u8(data), data.size(), out.data(),
       &size);
  return out;
}

// Noise's HKDF: two (or three) outputs chained from one HMAC of the input.
std::array<Key32, 3> hkdf(const Key32& chaining_key, std::string_view input) {
  const Key32 temp = hmac(chaining_key, input);
  std::array<Key32, 3> out{};
  out[0] = hmac(temp, "\x01");
  std::string next(view(out[0]));
  next.push_back('\x02');
  out[1] = hmac(temp, next);
  next.assign(view(out[1]));
  next.push_back('\x03');
  out[2] = hmac(temp, next);
  return out;
}

// AESGCM's nonce in Noise: 32 zero bits, then the counter big-endian.
std::array<unsigned char, 12> nonce_bytes(std::uint64_t n) {
  std::array<unsigned char, 12> out{};
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  return out;
}

}  // namespace

// --- DhKey ---------------------------------------------------------------------------------------

DhKey DhKey::generate() {
  DhKey k;
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr);
  EVP_PKEY_keygen_init(ctx);
  EVP_PKEY_keygen(ctx, &pkey);
  EVP_PKEY_CTX_free(ctx);
  k.key_ = pkey;
  std::size_t size = kDh;
  if (pkey != nullptr) EVP_PKEY_get_raw_public_key(pkey, k.public_.data(), &size);
  return k;
}

DhKey::DhKey(DhKey&& o) noexcept : key_(o.key_), public_(o.public_) { o.key_ = nullptr; }
DhKey& DhKey::operator=(DhKey&& o) noexcept {
  std::swap(key_, o.key_);
  public_ = o.public_;
  return *this;
}
DhKey::~DhKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

std::optional<Key32> DhKey::agree(const Key32& peer) const {
  EVP_PKEY* theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), kDh);
  if (theirs == nullptr || key_ == nullptr) {
    EVP_PKEY_free(theirs);
    return std::nullopt;
  }
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(static_cast<EVP_PKEY*>(key_), nullptr);
  Key32 out{};
  std::size_t size = kDh;
  // OpenSSL refuses an all-zero result (a low-order point): that peer is refused.
  const bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) > 0 &&
                  EVP_PKEY_derive_set_peer(ctx, theirs) > 0 &&
                  EVP_PKEY_derive(ctx, out.data(), &size) > 0 && size == kDh;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(theirs);
  if (!ok) return std::nullopt;
  return out;
}

// --- Cipher ------------------------------------------------------------------------------------

void Cipher::FreeContext::operator()(void* ctx) const {
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx));
}

Cipher::Cipher(const Key32& key) {
  EVP_CIPHER_CTX* e = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* d = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(e, EVP_aes_256_gcm(), nullptr, key.data(), nullptr);
  EVP_DecryptInit_ex(d, EVP_aes_256_gcm(), nullptr, key.data(), nullptr);
  encrypt_.reset(e);
  decrypt_.reset(d);
}

void Cipher::encrypt(std::string_view ad, std::string_view plain, std::string& out) {
  const auto nonce = nonce_bytes(nonce_++);
  const std::size_t at = out.size();
  out.resize(at + plain.size() + kTag);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + at);
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(encrypt_.get());
  int len = 0;
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data());
  if (!ad.empty()) EVP_EncryptUpdate(ctx, nullptr, &len, u8(ad), static_cast<int>(ad.size()));
  EVP_EncryptUpdate(ctx, dst, &len, u8(plain), static_cast<int>(plain.size()));
  EVP_EncryptFinal_ex(ctx, dst + len, &len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTag, dst + plain.size());
}

bool Cipher::decrypt(std::string_view ad, std::string_view sealed, std::string& out) {
  const auto nonce = nonce_bytes(nonce_++);
  if (sealed.size() < kTag) return false;
  const std::size_t plain = sealed.size() - kTag;
  const std::size_t at = out.size();
  out.resize(at + plain);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + at);
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(decrypt_.get());
  int len = 0;
  std::array<unsigned char, kTag> tag{};
  std::memcpy(tag.data(), sealed.data() + plain, kTag);
  EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data());
  if (!ad.empty()) EVP_DecryptUpdate(ctx, nullptr, &len, u8(ad), static_cast<int>(ad.size()));
  EVP_DecryptUpdate(ctx, dst, &len, u8(sealed), static_cast<int>(plain));
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data());
  const bool ok = EVP_DecryptFinal_ex(ctx, dst + len, &len) > 0;
  if (!ok) out.resize(at);
  return ok;
}

// --- Handshake ---------------------------------------------------------------------------------

Handshake::Handshake(bool initiator, std::shared_ptr<const DhKey> static_key,
                     std::string_view prologue, const Key32* psk)
    : initiator_(initiator), psk_mode_(psk != nullptr), static_(std::move(static_key)) {
  // Both names fit in 32 bytes, so h starts as the name itself, zero-padded.
  const std::string_view name =
      psk_mode_ ? "Noise_XXpsk0_25519_AESGCM_SHA256" : "Noise_XX_25519_AESGCM_SHA256";
  std::memcpy(h_.data(), name.data(), name.size());
  ck_ = h_;
  mix_hash(prologue);
  if (psk_mode_) mix_key_and_hash(*psk);  // the psk0 token, before everything else
}

void Handshake::mix_hash(std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int size = 0;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, h_.data(), h_.size());
  EVP_DigestUpdate(ctx, data.data(), data.size());
  EVP_DigestFinal_ex(ctx, h_.data(), &size);
  EVP_MD_CTX_free(ctx);
}

void Handshake::mix_key(const Key32& input) {
  const auto out = hkdf(ck_, view(input));
  ck_ = out[0];
  cipher_ = Cipher(out[1]);
}

void Handshake::mix_key_and_hash(const Key32& input) {
  const auto out = hkdf(ck_, view(input));
  ck_ = out[0];
  mix_hash(view(out[1]));
  cipher_ = Cipher(out[2]);
}

void Handshake::encrypt_and_hash(std::string_view plain, std::string& out) {
  const std::size_t at = out.size();
  if (cipher_.has_key()) {
    cipher_.encrypt(view(h_), plain, out);
  } else {
    out.append(plain);
  }
  mix_hash(std::string_view(out).substr(at));
}

bool Handshake::decrypt_and_hash(std::string_view sealed, std::string& out) {
  if (cipher_.has_key()) {
    if (!cipher_.decrypt(view(h_), sealed, out)) return false;
  } else {
    out.append(sealed);
  }
  mix_hash(sealed);
  return true;
}

bool Handshake::dh(const DhKey& ours, const Key32& theirs) {
  const auto shared = ours.agree(theirs);
  if (!shared) return false;
  mix_key(*shared);
  return true;
}

// Message 1 (initiator): e. Message 2 (responder): e, ee, s, es. Message 3 (initiator): s, se.
// In psk mode every `e` also goes into the key, as the spec requires.
void Handshake::write(std::string_view payload, std::string& out) {
  if (step_ == 0 || step_ == 1) {
    if (!ephemeral_) ephemeral_ = DhKey::generate();
    out.append(view(ephemeral_->public_key()));
    mix_hash(view(ephemeral_->public_key()));
    if (psk_mode_) mix_key(ephemeral_->public_key());
  }
  if (step_ == 1) {
    dh(*ephemeral_, remote_ephemeral_);  // ee; a bad remote e failed in read()
    encrypt_and_hash(view(static_->public_key()), out);
    dh(*static_, remote_ephemeral_);  // es
  } else if (step_ == 2) {
    encrypt_and_hash(view(static_->public_key()), out);
    dh(*static_, remote_ephemeral_);  // se
  }
  encrypt_and_hash(payload, out);
  ++step_;
}

bool Handshake::read(std::string_view message, std::string& payload) {
  payload.clear();
  if (step_ == 0 || step_ == 1) {
    if (message.size() < kDh) return false;
    std::memcpy(remote_ephemeral_.data(), message.data(), kDh);
    message.remove_prefix(kDh);
    mix_hash(view(remote_ephemeral_));
    if (psk_mode_) mix_key(remote_ephemeral_);
    // The responder's ee comes in write(), which cannot fail: check the peer's e now.
    if (step_ == 0) {
      ephemeral_ = DhKey::generate();
      if (!ephemeral_->agree(remote_ephemeral_)) return false;
    }
  }
  if (step_ == 1 || step_ == 2) {
    if (step_ == 1 && !dh(*ephemeral_, remote_ephemeral_)) return false;  // ee
    if (message.size() < kDh + kTag) return false;
    std::string s;
    if (!decrypt_and_hash(message.substr(0, kDh + kTag), s)) return false;
    std::memcpy(remote_static_.data(), s.data(), kDh);
    message.remove_prefix(kDh + kTag);
    // es (we are the initiator) or se (we are the responder): our e with their s.
    if (!dh(*ephemeral_, remote_static_)) return false;
  }
  if (!decrypt_and_hash(message, payload)) return false;
  ++step_;
  return true;
}

std::pair<Cipher, Cipher> Handshake::split() const {
  const auto out = hkdf(ck_, "");
  if (initiator_) return {Cipher(out[0]), Cipher(out[1])};
  return {Cipher(out[1]), Cipher(out[0])};
}

}  // namespace psycho::poldercast::noise
