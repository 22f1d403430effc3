// Keyed multicast (docs/multicast.md#keys): the key file, the replay window, and sealing and
// opening datagrams, with every refusal path.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "adapters/multicast/codec.hpp"
#include "adapters/multicast/datagram_auth.hpp"
#include "adapters/multicast/group_keys.hpp"
#include "adapters/multicast/replay_window.hpp"

namespace psycho::multicast {
namespace {

const std::string kHex1 = std::string(64, 'a');
const std::string kHex2 = std::string(62, '0') + "01";
// 32 bytes as base64.
const std::string kBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

// --- the key file ---------------------------------------------------------------------------

TEST(GroupKeys, TheFirstLineSendsAndEveryOneIsAccepted) {
  const auto keys = parse_group_keys(
      "# rotation in progress\n\n2 " + kHex2 + "\n  1\t" + kBase64 + "  \r\n", "k");
  ASSERT_TRUE(keys) << keys.error();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].id, 2);
  EXPECT_EQ((*keys)[0].secret, std::string(31, '\0') + "\x01");
  EXPECT_EQ((*keys)[1].id, 1);
  ASSERT_EQ((*keys)[1].secret.size(), 32u);
  EXPECT_EQ((*keys)[1].secret[31], '\x1f');
}

TEST(GroupKeys, EveryMistakeIsNamedWithoutTheSecret) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "holds no key"},
      {"# nothing\n", "holds no key"},
      {"1\n", "k:1: expected 'ID SECRET'"},
      {"0 " + kHex1, "k:1: the key id must be a whole number from 1 to 255"},
      {"256 " + kHex1, "from 1 to 255"},
      {"x " + kHex1, "from 1 to 255"},
      {"1 " + kHex1 + "\n1 " + kHex2, "k:2: key id 1 is listed twice"},
      {"1 abcd", "at least 32 bytes"},
      {"1 " + std::string(63, 'a'), "at least 32 bytes"},  // odd: not hex, not base64
      {"1 " + kBase64.substr(1), "at least 32 bytes"},
      {"1 not*base64!!", "at least 32 bytes"},
  };
  for (const auto& [text, part] : bad) {
    const auto keys = parse_group_keys(text, "k");
    ASSERT_FALSE(keys) << text;
    EXPECT_NE(keys.error().find(part), std::string::npos) << keys.error();
    EXPECT_EQ(keys.error().find(kHex1), std::string::npos) << keys.error();
  }
  std::string many;
  for (int i = 1; i <= 17; ++i) many += std::to_string(i) + " " + kHex1 + "\n";
  EXPECT_FALSE(parse_group_keys(many, "k"));
}

TEST(GroupKeys, AFileOthersMayReadIsRefused) {
  const std::string path = ::testing::TempDir() + "/multicast_keys_test.keys";
  std::ofstream(path) << "1 " << kHex1 << "\n";
  ::chmod(path.c_str(), 0644);
  auto keys = read_group_keys(path);
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().find("may be read or written by others"), std::string::npos);
  ::chmod(path.c_str(), 0620);
  EXPECT_FALSE(read_group_keys(path));
  ::chmod(path.c_str(), 0640);
  keys = read_group_keys(path);
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_EQ(keys->front().id, 1);
  std::remove(path.c_str());
  EXPECT_FALSE(read_group_keys(path));
}

// --- the replay window ----------------------------------------------------------------------

TEST(ReplayWindow, EachCounterOnceWithinTheWindow) {
  ReplayWindow w;
  EXPECT_FALSE(w.fresh(0));
  for (const std::uint64_t c : {std::uint64_t{1000}, std::uint64_t{1002}, std::uint64_t{1001},
                                1005 - ReplayWindow::kSize}) {
    ASSERT_TRUE(w.fresh(c)) << c;
    w.accept(c);
    EXPECT_FALSE(w.fresh(c)) << c;
  }
  EXPECT_EQ(w.highest(), 1002u);
  EXPECT_FALSE(w.fresh(1002 - ReplayWindow::kSize));  // behind the window: refused
  EXPECT_TRUE(w.fresh(1003));
  // A jump far ahead clears what the window held.
  w.accept(1'000'000);
  EXPECT_TRUE(w.fresh(1'000'000 - 1));
  EXPECT_FALSE(w.fresh(1002));
  EXPECT_FALSE(w.fresh(1'000'000));
}

TEST(ReplayWindow, ReorderedAcrossBlockBoundaries) {
  ReplayWindow w;
  // Every counter once, in an order that crosses many blocks, each seen out of order.
  for (std::uint64_t base = 64; base < 64 * 40; base += 2) {
    for (std::uint64_t c : {base + 1, base}) {
      ASSERT_TRUE(w.fresh(c)) << c;
      w.accept(c);
    }
  }
  for (std::uint64_t c = 64 * 40 - ReplayWindow::kSize; c < 64 * 40; ++c) {
    EXPECT_FALSE(w.fresh(c)) << c;
  }
}

// --- sealing and opening --------------------------------------------------------------------

std::vector<GroupKey> keys(std::vector<std::pair<int, std::string>> list) {
  std::vector<GroupKey> out;
  for (auto& [id, secret] : list) out.push_back({static_cast<std::uint8_t>(id), secret});
  return out;
}

const std::string kSecretA(32, 'A'), kSecretB(32, 'B');

std::string announce_from(std::uint64_t sender) {
  std::string d;
  encode_announce(d, sender, {7, 3});
  return d;
}

class Sealed : public ::testing::TestWithParam<bool> {
 protected:
  std::shared_ptr<const KeyRing> ring(std::vector<std::pair<int, std::string>> list) {
    return std::make_shared<const KeyRing>(keys(std::move(list)), GetParam());
  }
  std::atomic<std::uint64_t> counter_{100};
  Sealer sealer_;
  Opener opener_{4};
};

TEST_P(Sealed, ADatagramOpensOnceAndDecodesAsSent) {
  const auto a = ring({{1, kSecretA}});
  const std::string plain = announce_from(42);
  std::string d = plain;
  sealer_.seal(a, counter_, d);
  ASSERT_EQ(d.size(), plain.size() + kTrailerSize);
  EXPECT_EQ(d[kKeyIdOffset], 1);
  EXPECT_EQ(counter_.load(), 101u);
  // Encrypted, nothing after the common header shows; authenticated only, all of it does.
  EXPECT_EQ(d.substr(kCommonHeaderSize, plain.size() - kCommonHeaderSize) ==
                plain.substr(kCommonHeaderSize),
            !GetParam());
  std::string_view opened;
  ASSERT_EQ(opener_.open(a, d, opened), AuthError::none);
  Datagram out;
  ASSERT_EQ(decode(opened, 1 << 20, out, true), DecodeError::none);
  EXPECT_EQ(out.type, Type::announce);
  EXPECT_EQ(out.key_id, 1);
  EXPECT_EQ(out.sender, 42u);
  EXPECT_EQ(out.announce.next_seq, 7u);
  EXPECT_EQ(opener_.open(a, d, opened), AuthError::replayed);
  EXPECT_EQ(opener_.senders(), 1u);
}

TEST_P(Sealed, EveryRefusal) {
  const auto a = ring({{1, kSecretA}});
  std::string good = announce_from(42);
  sealer_.seal(a, counter_, good);
  std::string_view opened;
  // Unkeyed, at a keyed gateway.
  EXPECT_EQ(opener_.open(a, announce_from(42), opened), AuthError::unauthenticated);
  // Another key id; keyed, at an unkeyed gateway.
  EXPECT_EQ(opener_.open(ring({{2, kSecretA}}), good, opened), AuthError::unknown_key);
  EXPECT_EQ(opener_.open(nullptr, good, opened), AuthError::unknown_key);
  // The same id with another secret, or the other mode: the tag does not verify.
  EXPECT_EQ(opener_.open(ring({{1, kSecretB}}), good, opened), AuthError::unauthenticated);
  EXPECT_EQ(opener_.open(std::make_shared<const KeyRing>(keys({{1, kSecretA}}), !GetParam()), good,
                         opened),
            AuthError::unauthenticated);
  // Any bit changed anywhere, the sender's id and the counter included.
  for (std::size_t i = 0; i < good.size(); ++i) {
    if (i < kMagic.size() + 1 || i == kKeyIdOffset) continue;  // not ours / another key
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_EQ(opener_.open(a, bad, opened), AuthError::unauthenticated) << i;
  }
  EXPECT_EQ(opener_.open(a, good.substr(0, kCommonHeaderSize + kTrailerSize - 1), opened),
            AuthError::truncated);
  // None of it touched the window: the real one still opens, once.
  EXPECT_EQ(opener_.senders(), 0u);
  EXPECT_EQ(opener_.open(a, good, opened), AuthError::none);
  EXPECT_EQ(opener_.open(a, good, opened), AuthError::replayed);
  // Not ours at all: passed on for decode() to name.
  EXPECT_EQ(opener_.open(a, "hello", opened), AuthError::none);
  EXPECT_EQ(opened, "hello");
}

TEST_P(Sealed, TwoKeysAreValidAtOnceWhileTheyRotate) {
  const auto old_only = ring({{1, kSecretA}});
  const auto both = ring({{1, kSecretA}, {2, kSecretB}});
  const auto new_first = ring({{2, kSecretB}, {1, kSecretA}});
  std::string_view opened;
  std::string d1 = announce_from(42), d2 = announce_from(43);
  sealer_.seal(old_only, counter_, d1);
  sealer_.seal(new_first, counter_, d2);
  EXPECT_EQ(d2[kKeyIdOffset], 2);
  EXPECT_EQ(opener_.open(both, d1, opened), AuthError::none);
  EXPECT_EQ(opener_.open(both, d2, opened), AuthError::none);
  EXPECT_EQ(opener_.open(old_only, d2, opened), AuthError::unknown_key);
}

TEST_P(Sealed, SendersBeyondTheBoundForgetTheLeastRecent) {
  const auto a = ring({{1, kSecretA}});
  std::vector<std::string> sealed;
  for (std::uint64_t sender = 1; sender <= 6; ++sender) {
    sealed.push_back(announce_from(sender));
    sealer_.seal(a, counter_, sealed.back());
  }
  std::string_view opened;
  for (const auto& d : sealed) ASSERT_EQ(opener_.open(a, d, opened), AuthError::none);
  EXPECT_EQ(opener_.senders(), 4u);
  EXPECT_EQ(opener_.open(a, sealed[5], opened), AuthError::replayed);  // still known
}

INSTANTIATE_TEST_SUITE_P(Modes, Sealed, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "encrypted" : "hmac";
                         });

}  // namespace
}  // namespace psycho::multicast
