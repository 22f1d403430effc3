// The WebSocket listener's static files (`gateway.websocket_static`) through the real
// gateway: raw HTTP requests, exactly as sent, so that traversal attempts reach the gateway
// unnormalised; and the WebSocket upgrade beside them still works.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class StaticFilesGateway : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/psycho-static-it-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    fs::create_directories(base_ / "www" / "app");
    std::ofstream(base_ / "www" / "app" / "index.html") << "<title>app</title>";
    std::ofstream(base_ / "www" / "app" / "main.mjs") << "export const x = 1;\n";
    std::ofstream(base_ / "secret.txt") << "top secret";
    fs::create_symlink(base_ / "secret.txt", base_ / "www" / "link.txt");
    GatewayOptions options;
    options.extra = {"--websocket-static", (base_ / "www").string()};
    gateway_.emplace(options);
  }
  void TearDown() override {
    gateway_.reset();
    fs::remove_all(base_);
  }

  // The whole response to one raw request (the gateway closes after it).
  std::string ask(const std::string& request_line, const std::string& headers = "") {
    RawClient client(gateway_->websocket_port());
    client.send(request_line + "\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
    EXPECT_TRUE(client.closed_by_peer(5s)) << "one response, then the connection closes";
    return client.pending();
  }

  fs::path base_;
  std::optional<Gateway> gateway_;
};

TEST_F(StaticFilesGateway, ServesAPageAndItsModules) {
  const auto page = ask("GET /app/ HTTP/1.1");
  EXPECT_TRUE(page.starts_with("HTTP/1.1 200 OK\r\n")) << page;
  EXPECT_NE(page.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos) << page;
  EXPECT_NE(page.find("Cache-Control: no-cache\r\n"), std::string::npos) << page;
  EXPECT_TRUE(page.ends_with("\r\n\r\n<title>app</title>")) << page;
  const auto module = ask("GET /app/main.mjs HTTP/1.1");
  EXPECT_NE(module.find("Content-Type: text/javascript; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(module.find("Content-Length: 20\r\n"), std::string::npos) << module;
}

TEST_F(StaticFilesGateway, HeadAnswersTheLengthWithoutTheBody) {
  const auto head = ask("HEAD /app/main.mjs HTTP/1.1");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("Content-Length: 20\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

TEST_F(StaticFilesGateway, RefusesWhatIsNotUnderTheDirectory) {
  for (const char* target : {"/../secret.txt", "/app/../../secret.txt", "/%2e%2e/secret.txt",
                             "/app/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/app/%00"}) {
    const auto response = ask(std::string("GET ") + target + " HTTP/1.1");
    EXPECT_TRUE(response.starts_with("HTTP/1.1 400 Bad Request\r\n")) << target << response;
    EXPECT_EQ(response.find("top secret"), std::string::npos) << target;
  }
  const auto link = ask("GET /link.txt HTTP/1.1");
  EXPECT_TRUE(link.starts_with("HTTP/1.1 403 Forbidden\r\n")) << link;
  EXPECT_EQ(link.find("top secret"), std::string::npos);
}

TEST_F(StaticFilesGateway, AnswersErrorsClearly) {
  const auto missing = ask("GET /nothing.js HTTP/1.1");
  EXPECT_TRUE(missing.starts_with("HTTP/1.1 404 Not Found\r\n")) << missing;
  EXPECT_TRUE(missing.ends_with("not found\n")) << missing;
  const auto post = ask("POST /app/ HTTP/1.1", "Content-Length: 0\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos) << post;
  const auto long_target = ask("GET /" + std::string(3000, 'a') + " HTTP/1.1");
  EXPECT_TRUE(long_target.starts_with("HTTP/1.1 414 URI Too Long\r\n")) << long_target;
  const auto directory = ask("GET /app HTTP/1.1");
  EXPECT_TRUE(directory.starts_with("HTTP/1.1 301 Moved Permanently\r\n")) << directory;
  EXPECT_NE(directory.find("Location: /app/\r\n"), std::string::npos) << directory;
}

TEST_F(StaticFilesGateway, TheWebSocketUpgradeStillWorks) {
  RawClient client(gateway_->websocket_port());
  client.send(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_NE(client.expect("\r\n\r\n").find("101 Switching Protocols"), std::string::npos);
}

TEST(StaticFilesOff, ByDefaultThereAreNoFiles) {
  Gateway gateway;
  RawClient client(gateway.websocket_port());
  client.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(client.closed_by_peer(5s));
  EXPECT_TRUE(client.pending().starts_with("HTTP/1.1 404 Not Found\r\n")) << client.pending();
  EXPECT_NE(client.pending().find("Psycho WebSocket endpoint not here"), std::string::npos);
}

TEST(StaticFilesOff, AMissingDirectoryStopsTheStart) {
  Process gateway({gateway_binary(), "--listen", "127.0.0.1:0", "--websocket", "127.0.0.1:0",
                   "--admin", "", "--websocket-static", "/nonexistent/psycho-apps"});
  EXPECT_EQ(gateway.wait(10s), 1);
  EXPECT_NE(gateway.errors().find("gateway.websocket_static: '/nonexistent/psycho-apps'"),
            std::string::npos)
      << gateway.errors();
}

}  // namespace
}  // namespace psycho::testing
