// Connection against a fake server: the bytes the client puts on the wire and what it makes
// of the bytes it receives.
#include "clients/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "fake_server.hpp"

namespace psycho::client {
namespace {

using testing::FakeServer;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or the deadline passes (no sleep is used as synchronisation).
template <class F>
bool eventually(F done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// The outcome of a connect() run on another thread while the test plays the server.
// (Not a future of Result<unique_ptr>: g++ 12 warns falsely about that variant.)
struct Connecting {
  std::unique_ptr<Connection> conn;
  std::string error;
};

std::future<Connecting> connect_async(std::string url, Options options = {}) {
  return std::async(std::launch::async, [url = std::move(url), options = std::move(options)] {
    Connecting out;
    if (auto r = Connection::connect(url, options)) {
      out.conn = std::move(*r);
    } else {
      out.error = r.error();
    }
    return out;
  });
}

class ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Connection> connect(Options options = {}) {
    auto pending = connect_async(server_.url(), std::move(options));
    connect_line_ = server_.handshake();
    auto result = pending.get();
    if (!result.conn) ADD_FAILURE() << result.error;
    return std::move(result.conn);
  }

  FakeServer server_;
  std::string connect_line_;
};

TEST_F(ClientTest, ConnectSendsNonVerboseConnect) {
  Options options;
  options.name = "t\"1";
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  EXPECT_NE(connect_line_.find("\"verbose\":false"), std::string::npos) << connect_line_;
  EXPECT_NE(connect_line_.find("\"echo\":false"), std::string::npos) << connect_line_;
  EXPECT_NE(connect_line_.find("\"name\":\"t\\\"1\""), std::string::npos) << connect_line_;
  EXPECT_EQ(connect_line_.find("\"lang\""), std::string::npos) << connect_line_;
  EXPECT_TRUE(conn->is_open());
  EXPECT_EQ(conn->server_info(), "{\"server_id\":\"fake\",\"proto\":1}");
}

TEST_F(ClientTest, NatsDialectConnectCarriesNatsFields) {
  Options options;
  options.dialect = Dialect::nats;
  options.verbose = true;
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  for (const char* field : {"\"verbose\":true", "\"pedantic\":false", "\"lang\":\"cpp\"",
                            "\"protocol\":1", "\"headers\":true", "\"no_responders\":false"}) {
    EXPECT_NE(connect_line_.find(field), std::string::npos) << field << " in " << connect_line_;
  }
}

TEST_F(ClientTest, UrlCredentialsGoIntoConnect) {
  auto pending = connect_async("tcp://bob:pw@127.0.0.1:" + std::to_string(server_.port()));
  const auto line = server_.handshake();
  ASSERT_TRUE(pending.get().conn);
  EXPECT_NE(line.find("\"user\":\"bob\",\"pass\":\"pw\""), std::string::npos) << line;
}

TEST_F(ClientTest, ConnectFailsWithServerError) {
  auto pending = connect_async(server_.url());
  ASSERT_TRUE(server_.accept());
  server_.send("INFO {}\n");
  ASSERT_FALSE(server_.expect("PING\n").empty());
  server_.send("-ERR 'Authorization Violation'\n");
  auto result = pending.get();
  ASSERT_FALSE(result.conn);
  EXPECT_NE(result.error.find("Authorization Violation"), std::string::npos) << result.error;
}

TEST_F(ClientTest, ConnectTimesOutWithoutInfo) {
  Options options;
  options.connect_timeout = 200ms;
  auto result = Connection::connect(server_.url(), options);  // accepted by the backlog only
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("timed out"), std::string::npos) << result.error();
}

TEST_F(ClientTest, ConnectRefused) {
  int port = 0;
  {
    FakeServer gone;
    port = gone.port();
  }
  auto result = Connection::connect("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("cannot connect"), std::string::npos) << result.error();
}

TEST_F(ClientTest, ConnectRejectsBadUrl) { EXPECT_FALSE(Connection::connect("http://x")); }

TEST_F(ClientTest, PublishWritesPubAndHpub) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->publish("foo", "hello"));
  ASSERT_TRUE(conn->publish("foo", "", "inbox.1"));
  const std::string headers = "NATS/1.0\r\nA: b\r\n\r\n";
  ASSERT_TRUE(conn->publish("bar", "xy", "", headers));
  const std::string expected =
      "PUB foo 5\nhello\nPUB foo inbox.1 0\n\nHPUB bar 18 20\n" + headers + "xy\n";
  EXPECT_EQ(server_.read_exactly(expected.size()), expected);
}

TEST_F(ClientTest, SubscribeAndUnsubscribe) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->subscribe("foo.*"));
  ASSERT_TRUE(conn->subscribe("bar", "workers"));
  ASSERT_TRUE(conn->unsubscribe("foo.*"));
  const std::string expected = "SUB foo.*\nSUB bar workers\nUNSUB foo.*\n";
  EXPECT_EQ(server_.read_exactly(expected.size()), expected);
}

TEST_F(ClientTest, NatsDialectAssignsSids) {
  Options options;
  options.dialect = Dialect::nats;
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->subscribe("foo"));
  ASSERT_TRUE(conn->subscribe("bar", "q"));
  ASSERT_TRUE(conn->subscribe("foo"));     // already held: nothing sent
  ASSERT_TRUE(conn->unsubscribe("nope"));  // unknown: nothing sent
  ASSERT_TRUE(conn->unsubscribe("foo"));
  const std::string expected = "SUB foo 1\nSUB bar q 2\nUNSUB 1\n";
  EXPECT_EQ(server_.read_exactly(expected.size()), expected);
}

TEST_F(ClientTest, NatsDialectParsesMsgWithSid) {
  Options options;
  options.dialect = Dialect::nats;
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  server_.send("MSG foo 1 r.1 3\nabc\n");
  auto m = conn->next_message(5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->subject, "foo");
  EXPECT_EQ(m->reply, "r.1");
  EXPECT_EQ(m->payload, "abc");
}

TEST_F(ClientTest, MessagesArriveInOrderEvenWhenSplit) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  const std::string wire = "MSG a.b 5\nhello\nMSG a.c reply.x 2\r\nhi\r\nMSG a.d 0\n\n";
  for (char c : wire) server_.send(std::string_view(&c, 1));  // one byte per segment
  auto m1 = conn->next_message(5s);
  auto m2 = conn->next_message(5s);
  auto m3 = conn->next_message(5s);
  ASSERT_TRUE(m1 && m2 && m3);
  EXPECT_EQ(m1->subject, "a.b");
  EXPECT_EQ(m1->payload, "hello");
  EXPECT_EQ(m2->reply, "reply.x");
  EXPECT_EQ(m2->payload, "hi");
  EXPECT_EQ(m3->subject, "a.d");
  EXPECT_EQ(m3->payload, "");
  EXPECT_FALSE(conn->next_message(10ms));
}

TEST_F(ClientTest, HmsgKeepsHeadersApart) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  server_.send("HMSG s 19 23\nNATS/1.0\r\nK: v1\r\n\r\nbody\n");
  auto m = conn->next_message(5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->headers, "NATS/1.0\r\nK: v1\r\n\r\n");
  EXPECT_EQ(m->payload, "body");
}

TEST_F(ClientTest, ServerPingIsAnsweredWithPong) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  server_.send("PING\n");
  EXPECT_EQ(server_.read_exactly(5), "PONG\n");
}

TEST_F(ClientTest, FlushWaitsForPong) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->publish("x", "1"));
  auto flushed = std::async(std::launch::async, [&] { return conn->flush(5s); });
  EXPECT_EQ(server_.read_exactly(15), "PUB x 1\n1\nPING\n");
  EXPECT_EQ(flushed.wait_for(20ms), std::future_status::timeout);  // no PONG yet
  server_.send("PONG\n");
  EXPECT_TRUE(flushed.get());
}

TEST_F(ClientTest, FlushTimesOutWithoutPong) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto st = conn->flush(50ms);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("timed out"), std::string::npos);
}

TEST_F(ClientTest, ErrIsCapturedAndConnectionStaysUsable) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->last_error(), "");
  auto flushed = std::async(std::launch::async, [&] { return conn->flush(5s); });
  ASSERT_FALSE(server_.expect("PING\n").empty());
  server_.send("-ERR 'Invalid Subject'\nPONG\n");
  ASSERT_TRUE(flushed.get());  // the -ERR was read before the PONG
  EXPECT_EQ(conn->last_error(), "Invalid Subject");
  EXPECT_EQ(conn->errors_received(), 1u);
  EXPECT_TRUE(conn->is_open());
}

TEST_F(ClientTest, VerboseOkIsIgnored) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  server_.send("+OK\nMSG a 1\nz\n");
  auto m = conn->next_message(5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "z");
}

TEST_F(ClientTest, FullQueueDropsAndCounts) {
  Options options;
  options.max_queued_messages = 2;
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  auto flushed = std::async(std::launch::async, [&] { return conn->flush(5s); });
  ASSERT_FALSE(server_.expect("PING\n").empty());
  server_.send("MSG a 1\n1\nMSG a 1\n2\nMSG a 1\n3\nMSG a 1\n4\nPONG\n");
  ASSERT_TRUE(flushed.get());
  EXPECT_EQ(conn->dropped(), 2u);
  EXPECT_EQ(conn->next_message(1s)->payload, "1");
  EXPECT_EQ(conn->next_message(1s)->payload, "2");
  EXPECT_FALSE(conn->next_message(10ms));
}

TEST_F(ClientTest, CallbackModeDeliversOnIoThread) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  std::atomic<int> seen{0};
  std::atomic<bool> other_thread{false};
  const auto test_thread = std::this_thread::get_id();
  conn->on_message([&](const MessageView& m) {
    other_thread = std::this_thread::get_id() != test_thread;
    if (m.subject == "cb" && m.payload == "x") ++seen;
  });
  server_.send("MSG cb 1\nx\nMSG cb 1\nx\n");
  EXPECT_TRUE(eventually([&] { return seen == 2; }));
  EXPECT_TRUE(other_thread);
  EXPECT_FALSE(conn->next_message(10ms));
}

TEST_F(ClientTest, HandlerMayPublishReplies) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  Connection* raw = conn.get();
  conn->on_message([raw](const MessageView& m) { (void)raw->publish(m.reply, m.payload); });
  server_.send("MSG svc in.1 3\nabc\n");
  EXPECT_EQ(server_.read_exactly(15), "PUB in.1 3\nabc\n");
}

TEST_F(ClientTest, RequestUsesUniqueInbox) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto answer = std::async(std::launch::async, [&] { return conn->request("svc", "q", 5s); });
  const auto sub = server_.expect("\n");
  ASSERT_TRUE(sub.starts_with("SUB _INBOX.")) << sub;
  ASSERT_TRUE(sub.ends_with(".*\n")) << sub;
  const auto pub = server_.expect("\n");
  ASSERT_TRUE(pub.starts_with("PUB svc _INBOX.")) << pub;
  const auto reply = pub.substr(8, pub.find(' ', 8) - 8);
  EXPECT_EQ(server_.read_exactly(2), "q\n");
  server_.send("MSG " + reply + " 1\nA\n");
  auto m = answer.get();
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->payload, "A");
  EXPECT_FALSE(conn->next_message(10ms));  // inbox answers never reach the queue
}

TEST_F(ClientTest, RequestTimesOut) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto m = conn->request("svc", "q", 50ms);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("timed out"), std::string::npos);
}

TEST_F(ClientTest, ServerCloseIsNoticed) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  server_.close_client();
  EXPECT_TRUE(eventually([&] { return !conn->is_open(); }));
  EXPECT_FALSE(conn->next_message(10ms));
  EXPECT_FALSE(conn->publish("a", "b"));
  EXPECT_FALSE(conn->flush(1s));
  EXPECT_FALSE(conn->closed_reason().empty());
}

TEST_F(ClientTest, ProtocolErrorClosesConnection) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  server_.send("BOGUS\n");
  EXPECT_TRUE(eventually([&] { return !conn->is_open(); }));
  EXPECT_NE(conn->closed_reason().find("protocol error"), std::string::npos);
}

TEST_F(ClientTest, DestructorSendsBufferedDataThenCloses) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->publish("last", "words"));
  conn.reset();
  EXPECT_EQ(server_.read_exactly(17), "PUB last 5\nwords\n");
  EXPECT_TRUE(server_.client_closed());
}

TEST_F(ClientTest, ManyPublishesArriveIntactInBatches) {
  Options options;
  options.max_pending_out = 64 * 1024;  // forces publishers to wait for the writer
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  constexpr int count = 200'000;
  auto publisher = std::async(std::launch::async, [&] {
    for (int i = 0; i < count; ++i) {
      if (!conn->publish("p", "0123456789")) return false;
    }
    return true;
  });
  const std::string one = "PUB p 10\n0123456789\n";
  std::string all = server_.read_exactly(one.size() * count, 30s);
  ASSERT_TRUE(publisher.get());
  ASSERT_EQ(all.size(), one.size() * count);
  for (std::size_t i = 0; i < all.size(); i += one.size()) {
    ASSERT_EQ(all.compare(i, one.size(), one), 0) << "at byte " << i;
  }
}

TEST_F(ClientTest, CloseUnblocksPublisherWaitingForRoom) {
  Options options;
  options.max_pending_out = 1024;
  auto conn = connect(options);
  ASSERT_TRUE(conn);
  // The fake server stops reading: socket buffers fill, then publish() waits for room.
  auto publisher = std::async(std::launch::async, [&] {
    const std::string payload(1024, 'x');
    while (conn->publish("p", payload)) {
    }
    return true;
  });
  EXPECT_EQ(publisher.wait_for(50ms), std::future_status::timeout);
  conn->close();
  EXPECT_TRUE(publisher.get());
}

}  // namespace
}  // namespace psycho::client
