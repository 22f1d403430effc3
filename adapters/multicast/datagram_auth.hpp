// Keyed multicast datagrams (docs/multicast.md#keys). With group keys, every datagram ends
// in a 24-byte trailer: the sender's datagram counter (8 bytes, one value per datagram it
// ever sends, retransmissions included) and a 16-byte tag, and its common header's byte 7
// names the key (1-255; 0 is an unkeyed datagram). The tag is HMAC-SHA256 over everything
// before it, cut to 16 bytes; with `encrypt`, AES-256-GCM encrypts everything after the
// common header, with the common header and the counter as associated data and the sender's
// node id and counter as its 16-byte IV. Each mode uses its own key derived from the secret,
// so a datagram of one mode never passes as the other.
//
// The receiving side checks, before anything the datagram says is believed: the key id, the
// sender's replay window (read only), the tag; only then does the window record the counter.
// A stranger without the key costs one MAC check; an unkeyed datagram not even that.
//
// KeyRing is immutable and shared; Sealer and Opener hold one thread's OpenSSL contexts and
// are used by that thread only.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/multicast/group_keys.hpp"
#include "adapters/multicast/replay_window.hpp"

namespace psycho::multicast {

inline constexpr std::size_t kKeyIdOffset = 7;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kTrailerSize = 8 + kTagSize;

class KeyRing {
 public:
  struct Key {
    std::uint8_t id = 0;
    std::array<unsigned char, 32> key{};  // derived for this ring's mode
  };
  // `keys`: non-empty, the sending key first.
  KeyRing(const std::vector<GroupKey>& keys, bool encrypt);
  bool encrypt() const noexcept { return encrypt_; }
  const std::vector<Key>& keys() const noexcept { return keys_; }  // keys()[0] sends
  const Key* find(std::uint8_t id) const noexcept;

 private:
  bool encrypt_;
  std::vector<Key> keys_;
};

// Why a datagram was refused before decoding; the names are drop reasons.
enum class AuthError { none, unauthenticated, unknown_key, replayed, truncated };

// One thread's OpenSSL contexts for the keys of a ring, made when the ring changes.
class KeyContexts {
 public:
  KeyContexts();
  ~KeyContexts();
  KeyContexts(const KeyContexts&) = delete;
  KeyContexts& operator=(const KeyContexts&) = delete;
  // Makes contexts for `ring` unless they are for it already.
  void use(const std::shared_ptr<const KeyRing>& ring);
  const KeyRing& ring() const noexcept { return *ring_; }
  // The tag of `bytes` under key `index` of the ring (HMAC mode).
  void mac(std::size_t index, std::string_view bytes, unsigned char* tag);
  // AES-256-GCM under key `index`: `aad` authenticated, `[body, body+size)` transformed in
  // place (`out` may equal `in`). Encrypting writes `tag`; decrypting checks it.
  bool crypt(std::size_t index, bool encrypting, const unsigned char* iv,
             std::string_view aad_header, std::string_view aad_counter, const char* in, char* out,
             std::size_t size, unsigned char* tag);

 private:
  struct Contexts;
  std::shared_ptr<const KeyRing> ring_;
  std::unique_ptr<Contexts> contexts_;
};

class Sealer {
 public:
  // Makes `datagram` (as encode_*() made it) a keyed one under the ring's sending key:
  // names the key, appends the next value of `counter` and the tag (encrypting when the ring
  // says so). Reuses `datagram`'s capacity: no allocation once it has held a full one.
  void seal(const std::shared_ptr<const KeyRing>& ring, std::atomic<std::uint64_t>& counter,
            std::string& datagram);

 private:
  KeyContexts contexts_;
};

class Opener {
 public:
  // Replay windows are kept for at most `max_senders` senders; beyond, the one that sent
  // least recently is forgotten (only authenticated datagrams make an entry).
  explicit Opener(std::size_t max_senders);
  // `ring` null: this gateway has no keys, and any keyed datagram is `unknown_key`. On
  // success `plain` is the datagram as decode() reads it, without the trailer: a view into
  // `datagram`, or into this Opener's buffer (valid until the next call) when encrypted.
  // What is not ours (another magic, another version, too short) passes unchanged, for
  // decode() to name.
  AuthError open(const std::shared_ptr<const KeyRing>& ring, std::string_view datagram,
                 std::string_view& plain);
  // Any thread: how many senders' windows are kept.
  std::size_t senders() const noexcept { return sender_count_.load(std::memory_order_relaxed); }

 private:
  struct Sender {
    ReplayWindow window;
    std::uint64_t last_used = 0;
  };
  void record(std::uint64_t sender, std::uint64_t counter);

  KeyContexts contexts_;
  std::size_t max_senders_;
  std::unordered_map<std::uint64_t, Sender> senders_;
  std::uint64_t tick_ = 0;
  std::atomic<std::size_t> sender_count_{0};
  std::string buffer_;
};

// The first value of a gateway's datagram counter: the wall clock in nanoseconds, so that a
// restarted gateway's counters follow its earlier ones (and an AES-GCM IV never repeats,
// should a node id ever be kept across restarts).
std::uint64_t first_counter() noexcept;

}  // namespace psycho::multicast
