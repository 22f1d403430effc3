// A keyed hash for keys that someone else chooses.
//
// Node ids, sequence numbers, message ids and subjects arrive from clients and from other
// gateways. Hashed with a fixed function, a peer can pick thousands of keys that land in one
// bucket and turn every lookup into a scan of them (hash flooding). SipHash with a key drawn
// at random once per process makes such keys impossible to choose from outside.
//
// SipHash-c-d is written here from its specification (Aumasson and Bernstein, 2012);
// KeyedHash uses SipHash-1-3, the variant hash tables commonly use, since a table needs
// collision resistance against an attacker who never sees the hash values, not a MAC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

namespace psycho {

struct HashKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

// Drawn from the system's random source the first time it is asked for; then fixed for the
// life of the process. Thread-safe. Inline, so that libraries which must not link the core
// (the PolderCast protocol, which also builds for the browser) share the one key.
inline const HashKey& process_hash_key() {
  static const HashKey key = [] {
    std::random_device random;
    auto word = [&random] { return (static_cast<std::uint64_t>(random()) << 32) ^ random(); };
    return HashKey{word(), word()};
  }();
  return key;
}

namespace detail {

constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  explicit constexpr SipState(const HashKey& k) noexcept
      : v0(k.k0 ^ 0x736f6d6570736575ULL),
        v1(k.k1 ^ 0x646f72616e646f6dULL),
        v2(k.k0 ^ 0x6c7967656e657261ULL),
        v3(k.k1 ^ 0x7465646279746573ULL) {}

  constexpr void round() noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  template <int C>
  constexpr void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    for (int i = 0; i < C; ++i) round();
    v0 ^= m;
  }
  template <int D>
  constexpr std::uint64_t finish() noexcept {
    v2 ^= 0xff;
    for (int i = 0; i < D; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}

}  // namespace detail

// SipHash-C-D of `bytes` under `key`.
template <int C, int D>
std::uint64_t siphash(const HashKey& key, std::string_view bytes) noexcept {
  detail::SipState s(key);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) s.absorb<C>(detail::load_le64(p + i));
  std::uint64_t last = static_cast<std::uint64_t>(n & 0xff) << 56;
  for (std::size_t j = 0; i + j < n; ++j) last |= static_cast<std::uint64_t>(p[i + j]) << (8 * j);
  s.absorb<C>(last);
  return s.finish<D>();
}

// SipHash-1-3 of two 64-bit words: the same value as siphash<1, 3> of their 16
// little-endian bytes, without the byte loop.
inline std::uint64_t siphash13(const HashKey& key, std::uint64_t a, std::uint64_t b) noexcept {
  detail::SipState s(key);
  s.absorb<1>(a);
  s.absorb<1>(b);
  s.absorb<1>(std::uint64_t{16} << 56);
  return s.finish<3>();
}

// Hashers for unordered containers keyed by values a peer chooses.
struct KeyedHash {
  std::size_t operator()(std::uint64_t x) const noexcept {
    return static_cast<std::size_t>(siphash13(process_hash_key(), x, 0));
  }
  std::size_t operator()(std::uint64_t a, std::uint64_t b) const noexcept {
    return static_cast<std::size_t>(siphash13(process_hash_key(), a, b));
  }
};

}  // namespace psycho
