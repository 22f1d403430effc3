// Client certificates against the real gateway: good, expired, signed by another CA, none;
// and a verified certificate's common name mapped to a user (gateway.auth.tls_map).
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>

#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A CA, a server certificate for 127.0.0.1 and client certificates, made with openssl.
class Pki {
 public:
  Pki() {
    char tmpl[] = "/tmp/psycho-pki-XXXXXX";
    dir_ = mkdtemp(tmpl);
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=psycho-test-ca");
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem "
        "-days 2 -subj /CN=another-ca");
    run("printf 'subjectAltName=IP:127.0.0.1' > san.ext && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=127.0.0.1 && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out server.pem -days 2 -extfile san.ext");
    client("bob", "ca", 2);
    client("expired", "ca", -1);  // its validity ended yesterday
    client("stranger", "other-ca", 2);
  }
  ~Pki() { std::system(("rm -rf " + dir_).c_str()); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  void client(const std::string& cn, const std::string& ca, int days) {
    run("openssl req -newkey rsa:2048 -nodes -keyout " + cn + ".key -out " + cn +
        ".csr -subj /CN=" + cn + " && openssl x509 -req -in " + cn + ".csr -CA " + ca +
        ".pem -CAkey " + ca + ".key -CAcreateserial -out " + cn + ".pem -days " +
        std::to_string(days));
  }
  void run(const std::string& cmd) {
    const std::string full = "cd " + dir_ + " && (" + cmd + ") >/dev/null 2>&1";
    if (std::system(full.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
  }
  std::string dir_;
};

// Connects with the client certificate `name` ("" for none); returns the first line the
// gateway sends after the handshake (INFO), or "" when the handshake or the read failed.
class TlsClient {
 public:
  TlsClient(const Pki& pki, int port, const std::string& name)
      : ctx_(make_context(pki, name)), stream_(io_, ctx_) {
    boost::system::error_code ec;
    stream_.next_layer().connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
    if (!ec) stream_.handshake(asio::ssl::stream_base::client, ec);
    ok_ = !ec;
  }
  // With TLS 1.3 a refused client certificate shows on the first read, not the handshake.
  std::string line() {
    if (!ok_) return "";
    boost::system::error_code ec;
    asio::read_until(stream_, in_, "\n", ec);
    if (ec) return "";
    std::string text(asio::buffers_begin(in_.data()), asio::buffers_end(in_.data()));
    const auto end = text.find('\n') + 1;
    in_.consume(end);
    return text.substr(0, end);
  }
  // Reads until the peer closes; "" when nothing came.
  std::string rest() {
    if (!ok_) return "";
    boost::system::error_code ec;
    asio::read(stream_, in_, asio::transfer_all(), ec);
    std::string text(asio::buffers_begin(in_.data()), asio::buffers_end(in_.data()));
    in_.consume(in_.size());
    return text;
  }
  void send(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(stream_, asio::buffer(bytes), ec);
  }

 private:
  static asio::ssl::context make_context(const Pki& pki, const std::string& name) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(pki.path("ca.pem"));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!name.empty()) {
      ctx.use_certificate_chain_file(pki.path(name + ".pem"));
      ctx.use_private_key_file(pki.path(name + ".key"), asio::ssl::context::pem);
    }
    return ctx;
  }

  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ssl::stream<tcp::socket> stream_;
  asio::streambuf in_;
  bool ok_ = false;
};

std::string tls_config(const Pki& pki, const std::string& more = "") {
  return "gateway:\n  handshake_timeout: 3s\n  tls:\n    cert_file: " + pki.path("server.pem") +
         "\n    key_file: " + pki.path("server.key") + "\n    ca_file: " + pki.path("ca.pem") +
         "\n    verify_clients: true\n" + more;
}

TEST(TlsClients, OnlyACurrentCertificateFromTheCaGetsIn) {
  Pki pki;
  Gateway gw(with_config(tls_config(pki)));
  ASSERT_TRUE(eventually([&] { return TlsClient(pki, gw.port(), "bob").line() != ""; }));
  EXPECT_EQ(TlsClient(pki, gw.port(), "bob").line().rfind("INFO {", 0), 0u);
  EXPECT_EQ(TlsClient(pki, gw.port(), "expired").line(), "");
  EXPECT_EQ(TlsClient(pki, gw.port(), "stranger").line(), "");
  EXPECT_EQ(TlsClient(pki, gw.port(), "").line(), "");
  EXPECT_TRUE(gw.process().running());
}

TEST(TlsClients, ACertificateNamesTheUser) {
  Pki pki;
  Gateway gw(with_config(tls_config(pki,
                                    "  auth:\n    tls_map: true\n    users:\n      - user: bob\n"
                                    "        permissions: {publish: {allow: [bob.>]}}\n")));
  ASSERT_TRUE(eventually([&] { return TlsClient(pki, gw.port(), "bob").line() != ""; }));
  TlsClient bob(pki, gw.port(), "bob");
  ASSERT_NE(bob.line().find("\"auth_required\":true"), std::string::npos);
  bob.send("CONNECT {\"verbose\":false}\nPUB bob.x 1\nx\nPUB alice.x 1\nx\nPING\n");
  EXPECT_EQ(bob.line(), "-ERR 'Permissions Violation for Publish to \"alice.x\"'\n");
  EXPECT_EQ(bob.line(), "PONG\n");
}

TEST(TlsClients, TheAdminEndpointSpeaksHttpsAndCanRequireCertificates) {
  Pki pki;
  Gateway gw(with_config("gateway:\n  admin_tls:\n    cert_file: " + pki.path("server.pem") +
                         "\n    key_file: " + pki.path("server.key") +
                         "\n    ca_file: " + pki.path("ca.pem") + "\n    verify_clients: true\n"));
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto fetch = [&](const std::string& cert) {
    TlsClient c(pki, gw.admin_port(), cert);
    c.send(get);
    return c.rest();
  };
  ASSERT_TRUE(eventually([&] { return fetch("bob").rfind("HTTP/1.1 200", 0) == 0; }));
  EXPECT_EQ(fetch(""), "");                // no client certificate
  EXPECT_EQ(fetch("stranger"), "");        // another CA
  EXPECT_EQ(gw.http_get("/healthz"), "");  // plain HTTP
  EXPECT_TRUE(gw.process().running());
}

}  // namespace
}  // namespace psycho::testing
