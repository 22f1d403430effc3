// Topic ids: a 64-bit hash of the exact subject (docs/poldercast.md). Every publication also
// carries the subject, so a receiver tells hash collisions apart; the hash only has to spread
// subjects evenly over the id space, not resist an adversary.
#pragma once

#include <cstdint>
#include <string_view>

namespace psycho::poldercast {

// FNV-1a over the bytes, then the splitmix64 finaliser, so that subjects differing in one
// trailing character land far apart.
constexpr std::uint64_t topic_id(std::string_view subject) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : subject) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace psycho::poldercast
