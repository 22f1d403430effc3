// The Noise protocol framework's XX handshake, Noise_XX_25519_AESGCM_SHA256, and the
// XXpsk0 variant when the overlay has a shared secret (docs/poldercast.md#links), through
// OpenSSL 3. Only what the overlay's links use: no other pattern, no rekeying.
//
//   XX:  -> e          <- e, ee, s, es          -> s, se
//
// AES-256-GCM rather than ChaCha20-Poly1305 because browsers' WebCrypto has X25519, HKDF
// and AES-GCM but no ChaCha, and browser peers must run the same handshake.
//
// Not thread-safe; no I/O: the caller frames and moves the messages.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace psycho::poldercast::noise {

using Key32 = std::array<std::uint8_t, 32>;
inline constexpr std::size_t kTag = 16;  // AES-GCM's, on every encrypted message
inline constexpr std::size_t kDh = 32;   // an X25519 public key

// An X25519 key pair. A node makes a fresh one per process and binds it to its Ed25519
// identity by a signature in the handshake payload.
class DhKey {
 public:
  static DhKey generate();
  DhKey(DhKey&&) noexcept;
  DhKey& operator=(DhKey&&) noexcept;
  ~DhKey();
  const Key32& public_key() const { return public_; }
  // The shared secret with `peer`; nullopt for a low-order point (all-zero output).
  std::optional<Key32> agree(const Key32& peer) const;

 private:
  DhKey() = default;
  void* key_ = nullptr;  // EVP_PKEY
  Key32 public_{};
};

// One direction of a finished handshake: AES-256-GCM with a 64-bit counter nonce. The key is
// set up once; each message only sets its nonce (a fresh context per message cost more than
// the encryption of a small one).
class Cipher {
 public:
  Cipher() = default;
  explicit Cipher(const Key32& key);
  Cipher(Cipher&&) noexcept = default;
  Cipher& operator=(Cipher&&) noexcept = default;
  bool has_key() const { return encrypt_ != nullptr; }
  // Appends the encryption of `plain` (and its tag) to `out`.
  void encrypt(std::string_view ad, std::string_view plain, std::string& out);
  // Appends the decryption of `sealed` to `out`; false when it is not authentic (the nonce
  // still advances: the link must be dropped).
  bool decrypt(std::string_view ad, std::string_view sealed, std::string& out);

 private:
  struct FreeContext {
    void operator()(void* ctx) const;
  };
  // EVP_CIPHER_CTX, keyed for each direction of use.
  std::unique_ptr<void, FreeContext> encrypt_, decrypt_;
  std::uint64_t nonce_ = 0;
};

class Handshake {
 public:
  // `psk`: the shared overlay secret (32 bytes) for XXpsk0, or null for plain XX. Both sides
  // must agree on `prologue` and `psk`, or the handshake fails.
  Handshake(bool initiator, std::shared_ptr<const DhKey> static_key, std::string_view prologue,
            const Key32* psk);

  // Our next message, carrying `payload` (empty before the peer's identity may be sent).
  void write(std::string_view payload, std::string& out);
  // The peer's next message; its payload goes to `payload`. False: malformed or not
  // authentic (a wrong secret, a tampered message).
  bool read(std::string_view message, std::string& payload);
  bool done() const { return step_ == 3; }
  bool our_turn() const { return (step_ % 2 == 0) == initiator_; }
  // The peer's static key, once its `s` token arrived.
  const Key32& remote_static() const { return remote_static_; }
  // After done(): the cipher for what we send and the one for what we receive.
  std::pair<Cipher, Cipher> split() const;

 private:
  void mix_hash(std::string_view data);
  void mix_key(const Key32& input);
  void mix_key_and_hash(const Key32& input);
  void encrypt_and_hash(std::string_view plain, std::string& out);
  bool decrypt_and_hash(std::string_view sealed, std::string& out);
  bool dh(const DhKey& ours, const Key32& theirs);

  bool initiator_;
  bool psk_mode_;
  int step_ = 0;  // messages exchanged
  std::shared_ptr<const DhKey> static_;
  std::optional<DhKey> ephemeral_;
  Key32 remote_ephemeral_{}, remote_static_{};
  Key32 ck_{}, h_{};
  Cipher cipher_;
};

}  // namespace psycho::poldercast::noise
