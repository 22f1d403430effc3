// Real NATS for integration tests: nats-server processes on loopback ports (alone or as a
// three-node cluster) and a small nats.c client that records what it receives.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ports.hpp"
#include "process.hpp"

namespace psycho::testing {

struct NatsServerOptions {
  std::string extra_config;  // appended to the generated config file
  bool jetstream = false;    // with a store in a temp dir
  // Keeps its client port across restart(): a ReservedPort. Otherwise every listener binds
  // port -1 (nats-server's "any free port") and the server reports what it got.
  bool restartable = false;
  std::string cluster_name;  // set: joins a cluster, its route listener on port -1
  std::vector<int> routes;   // cluster ports of the nodes already running
};

// The common variations, spelt out (designated initializers warn about the fields left out).
inline NatsServerOptions jetstream_server() {
  NatsServerOptions o;
  o.jetstream = true;
  return o;
}
inline NatsServerOptions restartable_server() {
  NatsServerOptions o;
  o.restartable = true;
  return o;
}
inline NatsServerOptions server_with(std::string extra_config) {
  NatsServerOptions o;
  o.extra_config = std::move(extra_config);
  return o;
}

// A nats-server on 127.0.0.1. Its ports come from the ports file it writes in its temp dir
// (ports_file_dir); the constructor waits for that file, so a NatsServer that exists
// accepts connections. One that exits first throws, with its stderr.
class NatsServer {
 public:
  explicit NatsServer(NatsServerOptions options = {});
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  int port() const noexcept { return port_; }
  int cluster_port() const noexcept { return cluster_port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  bool running() { return process_ && process_->running(); }
  // SIGKILL, as a crash would.
  void kill();
  // SIGSTOP / SIGCONT: a server that stops reading (its peers' writes back up into the
  // kernel's buffers, then block) and later carries on where it was.
  void freeze();
  void thaw();
  // Starts it again on the same client port (and store): needs `restartable`. Its
  // monitoring and cluster ports may change.
  void restart();
  // The monitoring endpoint's /routez body ("" when unreachable).
  std::string routez();
  // The body of any monitoring endpoint, e.g. "/subsz" ("" when unreachable).
  std::string monitor(const std::string& path);

 private:
  void start();

  NatsServerOptions options_;
  std::unique_ptr<ReservedPort> reserved_;  // the client port, when restartable
  int port_ = 0, http_port_ = 0, cluster_port_ = 0;
  std::string dir_, config_path_, ports_path_;
  std::unique_ptr<Process> process_;
};

class NatsCluster {
 public:
  // Three nodes, each routing to the ones started before it (all of them are then
  // connected); waits until they are. Nodes can be killed, not restarted.
  NatsCluster();
  NatsServer& node(int i) { return *nodes_.at(static_cast<std::size_t>(i)); }
  // "nats://...,nats://...,nats://..."
  std::string urls() const;

 private:
  std::vector<std::unique_ptr<NatsServer>> nodes_;
};

struct NatsMessage {
  std::string subject, reply, payload;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const;  // "" when absent
};

// A nats.c connection that reconnects forever (10 ms apart) and queues what it receives.
class NatsClient {
 public:
  explicit NatsClient(const std::string& urls);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  bool connected() const { return connection_ != nullptr; }
  // With a queue group, as a member of it.
  void subscribe(const std::string& subject, const std::string& queue = "");
  // Answers requests on `subject` with handler(request payload).
  void serve(const std::string& subject, std::function<std::string(const NatsMessage&)> handler);
  void publish(const std::string& subject, const std::string& payload,
               const std::string& reply = "",
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  bool flush();
  std::optional<std::string> request(const std::string& subject, const std::string& payload,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The next received message, in arrival order; nullopt after `timeout`.
  std::optional<NatsMessage> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits until `count` messages are queued (without taking them); returns how many there are.
  std::size_t wait_for(std::size_t count, std::chrono::milliseconds timeout);
  std::vector<NatsMessage> take_all();

  // JetStream (the server needs `jetstream`): a file-backed stream over `subjects` with a
  // two-minute duplicate window; how many messages it holds; one of them.
  void add_stream(const std::string& name, const std::vector<std::string>& subjects);
  std::uint64_t stream_messages(const std::string& name);
  std::optional<NatsMessage> stream_message(const std::string& name, std::uint64_t seq);

 private:
  struct Subscription;
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void on_complete(void* closure);
  static void on_connected(natsConnection*, void* closure);
  static NatsMessage convert(natsMsg* msg);  // and destroys it
  jsCtx* jetstream();
  void push(NatsMessage m);

  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<NatsMessage> received_;
  bool connected_once_ = false;  // under mutex_
};

}  // namespace psycho::testing
