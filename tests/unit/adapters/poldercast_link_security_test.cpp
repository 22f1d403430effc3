// The overlay's link handshake (Noise XX / XXpsk0 with Ed25519 identities) and node keys:
// what completes, and each reason a link is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "adapters/poldercast/link_security.hpp"
#include "adapters/poldercast/node_key.hpp"

namespace psycho::poldercast {
namespace {

namespace fs = std::filesystem;

noise::Key32 psk(std::uint8_t fill) {
  noise::Key32 k{};
  k.fill(fill);
  return k;
}

AdmissionPolicy open_policy() {
  AdmissionPolicy p;
  p.open = true;
  return p;
}

AdmissionPolicy secret_policy(std::vector<std::pair<std::uint8_t, noise::Key32>> secrets) {
  AdmissionPolicy p;
  p.secrets = std::move(secrets);
  return p;
}

struct Side {
  std::shared_ptr<NodeKey> key = NodeKey::generate();
  AdmissionPolicy policy = open_policy();
  std::shared_ptr<LinkSecurity> security() const {
    return std::make_shared<LinkSecurity>(key, policy);
  }
};

// Runs a handshake between `a` (dialling) and `b`; the refusal that stopped it, if any, and
// on which side.
struct Outcome {
  Refusal initiator = Refusal::none, responder = Refusal::none;
  std::unique_ptr<SecureLink> i, r;
};
Outcome handshake(const Side& a, const Side& b) {
  Outcome o{Refusal::none, Refusal::none, a.security()->start(true), b.security()->start(false)};
  std::string m2, m3, none;
  o.responder = o.r->on_message(o.i->first_message(), m2);
  if (o.responder != Refusal::none) return o;
  o.initiator = o.i->on_message(m2, m3);
  if (o.initiator != Refusal::none) return o;
  o.responder = o.r->on_message(m3, none);
  EXPECT_TRUE(none.empty());
  return o;
}

TEST(PolderCastLinkSecurity, OpenHandshakeAuthenticatesBothAndSeals) {
  Side a, b;
  auto o = handshake(a, b);
  ASSERT_EQ(o.initiator, Refusal::none);
  ASSERT_EQ(o.responder, Refusal::none);
  ASSERT_TRUE(o.i->ready());
  ASSERT_TRUE(o.r->ready());
  EXPECT_EQ(o.i->peer(), b.key->id());
  EXPECT_EQ(o.r->peer(), a.key->id());
  for (const std::string& plain : {std::string(), std::string("hello"), std::string(70000, 'x')}) {
    std::string sealed, opened;
    o.i->seal(plain, sealed);
    EXPECT_EQ(sealed.size(), plain.size() + noise::kTag);
    EXPECT_EQ(sealed.find("hello"), std::string::npos);
    ASSERT_TRUE(o.r->open(sealed, opened));
    EXPECT_EQ(opened, plain);
  }
}

TEST(PolderCastLinkSecurity, TamperedOrReplayedFramesDoNotOpen) {
  Side a, b;
  auto o = handshake(a, b);
  ASSERT_TRUE(o.r->ready());
  std::string first, second, opened;
  o.i->seal("one", first);
  o.i->seal("two", second);
  std::string flipped = first;
  flipped[1] ^= 1;
  EXPECT_FALSE(o.r->open(flipped, opened));
  // The counter moved on: even the genuine first frame no longer opens (the link is cut
  // after any failure anyway), and a replay of it never does.
  auto fresh = handshake(a, b);
  std::string s1, s2;
  fresh.i->seal("one", s1);
  ASSERT_TRUE(fresh.r->open(s1, opened));
  EXPECT_FALSE(fresh.r->open(s1, opened));
}

TEST(PolderCastLinkSecurity, SharedSecretAdmitsOnlyItsHolders) {
  Side a, b;
  a.policy = b.policy = secret_policy({{1, psk(1)}});
  EXPECT_TRUE(handshake(a, b).r->ready());
  Side stranger;
  stranger.policy = secret_policy({{1, psk(2)}});
  EXPECT_EQ(handshake(stranger, b).responder, Refusal::bad_secret);
  Side open;  // no secret at all
  EXPECT_EQ(handshake(open, b).responder, Refusal::bad_secret);
  // A secret holder dialling an open node is refused too: the secrets differ.
  EXPECT_EQ(handshake(a, open).responder, Refusal::bad_secret);
}

TEST(PolderCastLinkSecurity, SecretsRotateWithTwoValidAtOnce) {
  Side old_only, both, new_only;
  old_only.policy = secret_policy({{1, psk(1)}});
  both.policy = secret_policy({{2, psk(2)}, {1, psk(1)}});
  new_only.policy = secret_policy({{2, psk(2)}});
  EXPECT_TRUE(handshake(old_only, both).r->ready());
  EXPECT_TRUE(handshake(both, new_only).r->ready());
  EXPECT_EQ(handshake(old_only, new_only).responder, Refusal::bad_secret);
}

TEST(PolderCastLinkSecurity, AllowListRefusesOthersOnBothSides) {
  Side a, b, c;
  a.policy = AdmissionPolicy{};
  a.policy.allow = {a.key->public_key(), b.key->public_key()};
  b.policy = a.policy;
  c.policy = a.policy;  // c holds the list but is not on it
  EXPECT_TRUE(handshake(a, b).r->ready());
  EXPECT_EQ(handshake(c, b).responder, Refusal::not_allowed);
  EXPECT_EQ(handshake(a, c).initiator, Refusal::not_allowed);
}

Certificate certify(const NodeKey& ca, const PublicKey& node, std::uint64_t not_after) {
  return {not_after, ca.sign(certificate_statement(node, not_after))};
}

TEST(PolderCastLinkSecurity, ACaAdmitsTheNodesItCertifiedUntilTheirCertificatesRunOut) {
  auto ca = NodeKey::generate(), other_ca = NodeKey::generate();
  const auto now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  auto member = [&](std::optional<Certificate> cert, Side& side) {
    side.policy = AdmissionPolicy{};
    side.policy.ca = ca->public_key();
    side.policy.certificate = cert;
  };
  Side a, b, uncertified, expired, foreign, stolen;
  member(certify(*ca, a.key->public_key(), 0), a);
  member(certify(*ca, b.key->public_key(), now + 3600), b);
  member(std::nullopt, uncertified);
  member(certify(*ca, expired.key->public_key(), now - 1), expired);
  member(certify(*other_ca, foreign.key->public_key(), 0), foreign);
  member(certify(*ca, a.key->public_key(), 0), stolen);  // a's certificate, another key
  EXPECT_TRUE(handshake(a, b).r->ready());
  EXPECT_TRUE(handshake(b, a).r->ready());
  for (Side* outsider : {&uncertified, &expired, &foreign, &stolen}) {
    EXPECT_EQ(handshake(*outsider, a).responder, Refusal::bad_certificate);
    EXPECT_EQ(handshake(a, *outsider).initiator, Refusal::bad_certificate);
  }
  Identity id{a.key->public_key(), {}, certify(*ca, a.key->public_key(), 0)};
  EXPECT_TRUE(certified(ca->public_key(), id, *a.key));
  id.certificate->not_after = 1;
  EXPECT_FALSE(certified(ca->public_key(), id, *a.key));
}

// A Crypto that presents another node's public key but cannot sign for it.
class Impostor final : public Crypto {
 public:
  explicit Impostor(PublicKey victim) : victim_(victim) {}
  const PublicKey& public_key() const override { return victim_; }
  Signature sign(std::string_view m) const override { return own_->sign(m); }
  bool verify(const PublicKey& k, std::string_view m, const Signature& s) const override {
    return own_->verify(k, m, s);
  }
  Digest hash(std::string_view d) const override { return own_->hash(d); }
  std::uint64_t node_id(const PublicKey& k) const override { return own_->node_id(k); }

 private:
  PublicKey victim_;
  std::shared_ptr<NodeKey> own_ = NodeKey::generate();
};

TEST(PolderCastLinkSecurity, AKeyThatDidNotSignTheLinkIsRefused) {
  Side victim, b;
  auto impostor = std::make_shared<LinkSecurity>(
      std::make_shared<Impostor>(victim.key->public_key()), open_policy());
  auto i = impostor->start(true);
  auto r = b.security()->start(false);
  std::string m2, m3, none;
  ASSERT_EQ(r->on_message(i->first_message(), m2), Refusal::none);
  ASSERT_EQ(i->on_message(m2, m3), Refusal::none);
  EXPECT_EQ(r->on_message(m3, none), Refusal::bad_identity);
  EXPECT_FALSE(r->ready());
}

TEST(PolderCastLinkSecurity, MalformedAndTamperedHandshakeMessages) {
  Side a, b;
  std::string reply;
  EXPECT_EQ(b.security()->start(false)->on_message("", reply), Refusal::malformed);
  EXPECT_EQ(b.security()->start(false)->on_message(std::string(10, '\0'), reply),
            Refusal::malformed);
  EXPECT_EQ(b.security()->start(false)->on_message(std::string(600, '\0'), reply),
            Refusal::malformed);
  auto i = a.security()->start(true);
  auto r = b.security()->start(false);
  std::string m2;
  ASSERT_EQ(r->on_message(i->first_message(), m2), Refusal::none);
  m2[40] ^= 1;  // inside the sealed static key
  EXPECT_EQ(i->on_message(m2, reply), Refusal::bad_secret);
  EXPECT_FALSE(i->ready());
}

TEST(PolderCastLinkSecurity, IdentityPayloadDecodesOnlyItsOwnForm) {
  Identity id;
  id.key.fill(3);
  id.signature.fill(4);
  const std::string bytes = encode_identity(id);
  Identity back;
  ASSERT_TRUE(decode_identity(bytes, back));
  EXPECT_EQ(back.key, id.key);
  EXPECT_FALSE(decode_identity(bytes.substr(1), back));
  EXPECT_FALSE(decode_identity(bytes + "x", back));
  std::string other_version = bytes;
  other_version[0] = 2;
  other_version[0] = 3;
  EXPECT_FALSE(decode_identity(other_version, back));
  // Version 2 carries a certificate, and must be exactly that long.
  id.certificate = Certificate{1234, {}};
  id.certificate->signature.fill(5);
  const std::string certified_bytes = encode_identity(id);
  ASSERT_EQ(certified_bytes.size(), kCertifiedIdentitySize);
  ASSERT_TRUE(decode_identity(certified_bytes, back));
  ASSERT_TRUE(back.certificate.has_value());
  EXPECT_EQ(back.certificate->not_after, 1234u);
  EXPECT_EQ(back.certificate->signature, id.certificate->signature);
  EXPECT_FALSE(decode_identity(certified_bytes.substr(0, kIdentitySize), back));
}

class NodeKeyFile : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_ = fs::temp_directory_path() / ("psycho-key-" + std::to_string(getpid()));
};

TEST_F(NodeKeyFile, CreatedOwnerOnlyAndKeptAcrossRestarts) {
  const std::string path = (dir_ / "sub" / "node.key").string();
  auto first = NodeKey::load(path, true);
  ASSERT_TRUE(first) << first.error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = NodeKey::load(path, false);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again.value()->id(), first.value()->id());
  EXPECT_EQ(again.value()->public_key(), first.value()->public_key());
  EXPECT_EQ(first.value()->id(), NodeKey::id_of(first.value()->public_key()));
}

TEST_F(NodeKeyFile, RefusesAKeyOthersMayReadAndAMissingOrForeignOne) {
  const std::string path = (dir_ / "node.key").string();
  ASSERT_TRUE(NodeKey::load(path, true));
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  auto readable = NodeKey::load(path, false);
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.error().find("read or written by others"), std::string::npos);
  EXPECT_FALSE(NodeKey::load((dir_ / "missing.key").string(), false));
  const std::string junk = (dir_ / "junk.key").string();
  std::ofstream(junk) << "not a key\n";
  fs::permissions(junk, fs::perms::owner_read | fs::perms::owner_write);
  auto foreign = NodeKey::load(junk, false);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().find("Ed25519"), std::string::npos);
}

TEST(NodeKeyTest, SignaturesVerifyOnlyForTheirKeyAndMessage) {
  auto a = NodeKey::generate(), b = NodeKey::generate();
  const auto sig = a->sign("message");
  EXPECT_TRUE(b->verify(a->public_key(), "message", sig));
  EXPECT_FALSE(b->verify(a->public_key(), "messagE", sig));
  EXPECT_FALSE(b->verify(b->public_key(), "message", sig));
  EXPECT_NE(a->id(), b->id());
}

}  // namespace
}  // namespace psycho::poldercast
