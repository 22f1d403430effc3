#include "auth/authenticator.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "auth/bcrypt.hpp"
#include "auth/hmac_connect.hpp"

namespace psycho::auth {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(Bcrypt, HashesVerifyAndRejectOthers) {
  const auto hash = bcrypt_hash("s3cret", 4);
  ASSERT_TRUE(hash) << hash.error();
  EXPECT_EQ(hash->rfind("$2b$04$", 0), 0u);
  EXPECT_TRUE(bcrypt_verify("s3cret", *hash));
  EXPECT_FALSE(bcrypt_verify("s3cret!", *hash));
  EXPECT_FALSE(bcrypt_verify("s3cret", "plain-text"));
  EXPECT_NE(*bcrypt_hash("s3cret", 4), *hash);  // salted
}

TEST(HmacConnect, AcceptsOnceWithinTheSkew) {
  HmacVerifier v("a-shared-secret-of-some-length", std::chrono::seconds(30), 2);
  const std::int64_t now = now_ms();
  const auto sig = hmac_connect_signature("a-shared-secret-of-some-length", now, "nonce-0001");
  using V = HmacVerifier::Verdict;
  EXPECT_EQ(v.verify(now, "nonce-0001", sig, now), V::ok);
  EXPECT_EQ(v.verify(now, "nonce-0001", sig, now), V::replayed);
  EXPECT_EQ(v.verify(now, "nonce-0002", sig, now), V::bad_signature);  // signs another nonce
  const auto old = now - 60'000;
  EXPECT_EQ(
      v.verify(old, "nonce-0003",
               hmac_connect_signature("a-shared-secret-of-some-length", old, "nonce-0003"), now),
      V::expired);
  EXPECT_EQ(v.verify(now, "short", sig, now), V::malformed);
  const auto wrong = hmac_connect_signature("another-secret-entirely-xx", now, "nonce-0004");
  EXPECT_EQ(v.verify(now, "nonce-0004", wrong, now), V::bad_signature);
  // The replay cache is bounded: with two live nonces remembered, a third waits its turn.
  EXPECT_EQ(
      v.verify(now, "nonce-0005",
               hmac_connect_signature("a-shared-secret-of-some-length", now, "nonce-0005"), now),
      V::ok);
  EXPECT_EQ(
      v.verify(now, "nonce-0006",
               hmac_connect_signature("a-shared-secret-of-some-length", now, "nonce-0006"), now),
      V::busy);
  // Once the window has passed, remembered nonces are forgotten and room comes back.
  const auto later = now + 31'000;
  EXPECT_EQ(v.verify(later, "nonce-0007",
                     hmac_connect_signature("a-shared-secret-of-some-length", later, "nonce-0007"),
                     later),
            V::ok);
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::AuthConfig c;
    c.token = "tok-123";
    c.tls_map = true;
    config::UserConfig alice;
    alice.user = "alice";
    alice.password = *bcrypt_hash("wonderland", 4);
    alice.permissions.publish.allow = {"orders.>"};
    c.users.push_back(alice);
    config::UserConfig bob;  // certificate only
    bob.user = "bob";
    c.users.push_back(bob);
    auto a = Authenticator::create(c);
    ASSERT_TRUE(a) << a.error();
    auth_ = std::move(*a);
  }
  Verdict verify(protocol::ConnectOptions o, std::string_view cn = "") {
    return auth_->verify(o, cn);
  }
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, TokenInConstantTimeAndWithoutEchoingIt) {
  protocol::ConnectOptions o;
  o.auth_token = "tok-123";
  EXPECT_TRUE(verify(o).ok);
  EXPECT_EQ(verify(o).user, nullptr);
  o.auth_token = "tok-12";
  const Verdict v = verify(o);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason.find("tok-12"), std::string::npos);
}

TEST_F(AuthenticatorTest, PasswordsAgainstBcryptHashes) {
  protocol::ConnectOptions o;
  o.user = "alice";
  o.pass = "wonderland";
  EXPECT_TRUE(auth_->is_slow(o, ""));
  Verdict v = verify(o);
  ASSERT_TRUE(v.ok);
  ASSERT_NE(v.user, nullptr);
  EXPECT_FALSE(v.user->permissions.may_publish("payments.x"));
  EXPECT_TRUE(verify(o).ok);  // again, from the cache
  o.pass = "wrong";
  EXPECT_FALSE(verify(o).ok);
  o.user = "mallory";
  EXPECT_FALSE(verify(o).ok);
  o.user = "bob";  // has no password: certificate only
  o.pass = "anything";
  EXPECT_FALSE(verify(o).ok);
}

TEST_F(AuthenticatorTest, CertificatesMapToUsers) {
  protocol::ConnectOptions o;
  Verdict v = verify(o, "bob");
  ASSERT_TRUE(v.ok);
  EXPECT_EQ(v.user->name, "bob");
  EXPECT_EQ(v.method, Method::certificate);
  EXPECT_FALSE(verify(o, "eve").ok);
  EXPECT_FALSE(verify(o, "").ok);  // no credentials at all
}

TEST(AuthenticatorCreate, HmacSecretFileMustHoldASecret) {
  const std::string path = "/tmp/psycho-hmac-test-secret";
  std::ofstream(path) << "short\n";
  config::AuthConfig c;
  c.hmac_secret_file = path;
  EXPECT_FALSE(Authenticator::create(c));
  std::ofstream(path) << "a-secret-long-enough-to-use\n";
  auto a = Authenticator::create(c);
  ASSERT_TRUE(a) << a.error();
  protocol::ConnectOptions o;
  o.hmac_ts = now_ms();
  o.hmac_nonce = "n-123456789";
  o.hmac_sig = hmac_connect_signature("a-secret-long-enough-to-use", o.hmac_ts, o.hmac_nonce);
  EXPECT_TRUE((*a)->verify(o, "").ok);
  EXPECT_FALSE((*a)->verify(o, "").ok);  // replayed
  std::remove(path.c_str());
}

}  // namespace
}  // namespace psycho::auth
