#include "nats.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "raw_client.hpp"

namespace psycho::testing {

namespace {

using namespace std::chrono_literals;

std::string http_get(int port, const std::string& path) {
  RawClient c(port, 200ms);
  if (!c.connected()) return "";
  c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  c.closed_by_peer(2s);
  return c.pending();
}

// Process runs a path, not a name: find nats-server the way a shell would.
std::string nats_server_binary() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/sbin:/usr/bin";
  dirs += ":/usr/sbin:/usr/bin";
  std::size_t start = 0;
  while (start < dirs.size()) {
    const std::size_t colon = dirs.find(':', start);
    const std::string candidate = dirs.substr(start, colon - start) + "/nats-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  throw std::runtime_error("nats-server is not installed (scripts/setup installs it)");
}

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

}  // namespace

// --- NatsServer ---------------------------------------------------------------------------

NatsServer::NatsServer(NatsServerOptions options) : options_(std::move(options)) {
  if (options_.restartable) reserved_ = std::make_unique<ReservedPort>();
  char tmpl[] = "/tmp/psycho-nats-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  config_path_ = dir_ + "/nats.conf";
  std::ofstream conf(config_path_);
  conf << "listen: 127.0.0.1:" << (reserved_ ? reserved_->port() : -1) << "\n";
  conf << "http: 127.0.0.1:-1\n";
  conf << "ports_file_dir: \"" << dir_ << "\"\n";
  if (options_.jetstream) conf << "jetstream { store_dir: \"" << dir_ << "/js\" }\n";
  if (!options_.cluster_name.empty()) {
    conf << "cluster {\n  name: " << options_.cluster_name
         << "\n  listen: 127.0.0.1:-1\n  routes: [";
    for (std::size_t i = 0; i < options_.routes.size(); ++i) {
      conf << (i ? ", " : "") << "nats-route://127.0.0.1:" << options_.routes[i];
    }
    conf << "]\n}\n";
  }
  conf << options_.extra_config << "\n";
  conf.close();
  start();
}

NatsServer::~NatsServer() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    if (process_->wait(5s) == -1) process_->signal(SIGKILL);
  }
  process_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void NatsServer::start() {
  process_ =
      std::make_unique<Process>(std::vector<std::string>{nats_server_binary(), "-c", config_path_});
  // nats-server writes "<dir>/nats-server_<pid>.ports" once every listener is open, e.g.
  // {"nats":["nats://127.0.0.1:4222"],"monitoring":["http://127.0.0.1:8222"],"cluster":[...]}.
  // It is not written atomically: read it until every port we need is in it.
  ports_path_ = dir_ + "/nats-server_" + std::to_string(process_->pid()) + ".ports";
  process_->wait_until_ready(
      "nats-server did not report its ports",
      [&] {
        const std::string text = slurp(ports_path_);
        port_ = reported_port(text, "nats");
        http_port_ = reported_port(text, "monitoring");
        cluster_port_ = reported_port(text, "cluster");
        return port_ != 0 && http_port_ != 0 &&
               (options_.cluster_name.empty() || cluster_port_ != 0);
      },
      10s);
}

void NatsServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(5s);
  ::unlink(ports_path_.c_str());  // a killed server leaves it behind
}

void NatsServer::freeze() {
  if (process_) process_->signal(SIGSTOP);
}

void NatsServer::thaw() {
  if (process_) process_->signal(SIGCONT);
}

void NatsServer::restart() {
  if (!reserved_) throw std::logic_error("NatsServer::restart() needs options.restartable");
  kill();
  start();
}

std::string NatsServer::routez() { return http_get(http_port_, "/routez"); }
std::string NatsServer::monitor(const std::string& path) { return http_get(http_port_, path); }

// --- NatsCluster --------------------------------------------------------------------------

NatsCluster::NatsCluster() {
  std::vector<int> routes;
  for (int i = 0; i < 3; ++i) {
    NatsServerOptions o;
    o.cluster_name = "psycho-test";
    o.routes = routes;
    nodes_.push_back(std::make_unique<NatsServer>(o));
    routes.push_back(nodes_.back()->cluster_port());
  }
  const bool formed = eventually(
      [&] {
        for (auto& n : nodes_) {
          if (n->routez().find("\"num_routes\": 2") == std::string::npos) return false;
        }
        return true;
      },
      15s);
  if (!formed) throw std::runtime_error("the three nats-server nodes did not form a cluster");
}

std::string NatsCluster::urls() const {
  std::string out;
  for (const auto& n : nodes_) out += (out.empty() ? "" : ",") + n->url();
  return out;
}

// --- NatsClient ---------------------------------------------------------------------------

std::string NatsMessage::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

struct NatsClient::Subscription {
  NatsClient* client = nullptr;
  natsSubscription* sub = nullptr;
  std::function<std::string(const NatsMessage&)> responder;  // set: answer, don't queue
  bool complete = false;  // nats.c's last callback has returned (under client->mutex_)
};

void NatsClient::on_complete(void* closure) {
  auto* s = static_cast<Subscription*>(closure);
  {
    std::lock_guard lock(s->client->mutex_);
    s->complete = true;
  }
  s->client->arrived_.notify_all();
}

NatsClient::NatsClient(const std::string& urls) {
  natsOptions* opts = nullptr;
  check(natsOptions_Create(&opts), "options");
  natsOptions_SetURL(opts, urls.c_str());
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 10);
  natsOptions_SetReconnectJitter(opts, 0, 0);
  // Retried in the background, and waited for here with a bound: without a callback nats.c
  // would retry inside natsConnection_Connect for as long as the server stays away.
  natsOptions_SetRetryOnFailedConnect(opts, true, &on_connected, this);
  const natsStatus s = natsConnection_Connect(&connection_, opts);
  natsOptions_Destroy(opts);
  check(s == NATS_NOT_YET_CONNECTED ? NATS_OK : s, "connect");
  if (s == NATS_OK) return;
  std::unique_lock lock(mutex_);
  if (!arrived_.wait_for(lock, std::chrono::seconds(10), [&] { return connected_once_; })) {
    lock.unlock();
    natsConnection_Destroy(connection_);
    throw std::runtime_error("NATS test client: not connected within 10 s (" + urls + ")");
  }
}

void NatsClient::on_connected(natsConnection*, void* closure) {
  auto* client = static_cast<NatsClient*>(closure);
  {
    std::lock_guard lock(client->mutex_);
    client->connected_once_ = true;
  }
  client->arrived_.notify_all();
}

NatsClient::~NatsClient() {
  // A callback may still be running after unsubscribing: each subscription is freed once
  // nats.c says its last one has returned (bounded; one that has not is leaked).
  for (auto& s : subscriptions_) natsSubscription_Unsubscribe(s->sub);
  {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::all_of(subscriptions_.begin(), subscriptions_.end(),
                         [](const auto& s) { return s->complete; });
    });
    for (auto& s : subscriptions_) {
      if (!s->complete) static_cast<void>(s.release());
    }
  }
  for (auto& s : subscriptions_) {
    if (s != nullptr) natsSubscription_Destroy(s->sub);
  }
  if (js_ != nullptr) jsCtx_Destroy(js_);
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
}

jsCtx* NatsClient::jetstream() {
  if (js_ == nullptr) check(natsConnection_JetStream(&js_, connection_, nullptr), "JetStream");
  return js_;
}

void NatsClient::add_stream(const std::string& name, const std::vector<std::string>& subjects) {
  std::vector<const char*> subject_ptrs;
  for (const auto& s : subjects) subject_ptrs.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subject_ptrs.data();
  cfg.SubjectsLen = static_cast<int>(subject_ptrs.size());
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = std::chrono::nanoseconds(std::chrono::minutes(2)).count();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  check(js_AddStream(&info, jetstream(), &cfg, nullptr, &code), "add stream");
  jsStreamInfo_Destroy(info);
}

std::uint64_t NatsClient::stream_messages(const std::string& name) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&info, jetstream(), name.c_str(), nullptr, &code) != NATS_OK) return 0;
  const std::uint64_t n = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return n;
}

std::optional<NatsMessage> NatsClient::stream_message(const std::string& name, std::uint64_t seq) {
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (js_GetMsg(&msg, jetstream(), name.c_str(), seq, nullptr, &code) != NATS_OK) {
    return std::nullopt;
  }
  return convert(msg);
}

void NatsClient::on_message(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* s = static_cast<Subscription*>(closure);
  NatsMessage m = convert(msg);
  if (s->responder) {
    if (!m.reply.empty()) {
      const std::string answer = s->responder(m);
      natsConnection_Publish(nc, m.reply.c_str(), answer.data(), static_cast<int>(answer.size()));
    }
    return;
  }
  s->client->push(std::move(m));
}

NatsMessage NatsClient::convert(natsMsg* msg) {
  NatsMessage m;
  m.subject = natsMsg_GetSubject(msg);
  m.reply = natsMsg_GetReply(msg) != nullptr ? natsMsg_GetReply(msg) : "";
  m.payload.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {  // every value of every name, in order per name
      const char** values = nullptr;
      int value_count = 0;
      if (natsMsgHeader_Values(msg, keys[i], &values, &value_count) != NATS_OK) continue;
      for (int v = 0; v < value_count; ++v) m.headers.emplace_back(keys[i], values[v]);
      std::free(static_cast<void*>(values));
    }
    std::free(static_cast<void*>(keys));
  }
  natsMsg_Destroy(msg);
  return m;
}

void NatsClient::push(NatsMessage m) {
  {
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(m));
  }
  arrived_.notify_all();
}

void NatsClient::subscribe(const std::string& subject, const std::string& queue) {
  auto s = std::make_unique<Subscription>();
  s->client = this;
  check(queue.empty()
            ? natsConnection_Subscribe(&s->sub, connection_, subject.c_str(), &on_message, s.get())
            : natsConnection_QueueSubscribe(&s->sub, connection_, subject.c_str(), queue.c_str(),
                                            &on_message, s.get()),
        "subscribe");
  check(natsSubscription_SetOnCompleteCB(s->sub, &on_complete, s.get()), "on complete");
  // Tests count every message of a flood: the client itself must never drop one.
  check(natsSubscription_SetPendingLimits(s->sub, -1, -1), "pending limits");
  subscriptions_.push_back(std::move(s));
  flush();
}

void NatsClient::serve(const std::string& subject,
                       std::function<std::string(const NatsMessage&)> handler) {
  auto s = std::make_unique<Subscription>();
  s->client = this;
  s->responder = std::move(handler);
  check(natsConnection_Subscribe(&s->sub, connection_, subject.c_str(), &on_message, s.get()),
        "serve");
  check(natsSubscription_SetOnCompleteCB(s->sub, &on_complete, s.get()), "on complete");
  subscriptions_.push_back(std::move(s));
  flush();
}

void NatsClient::publish(const std::string& subject, const std::string& payload,
                         const std::string& reply,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  natsMsg* msg = nullptr;
  check(natsMsg_Create(&msg, subject.c_str(), reply.empty() ? nullptr : reply.c_str(),
                       payload.data(), static_cast<int>(payload.size())),
        "message");
  for (const auto& [k, v] : headers) natsMsgHeader_Add(msg, k.c_str(), v.c_str());
  const natsStatus s = natsConnection_PublishMsg(connection_, msg);
  natsMsg_Destroy(msg);
  check(s, "publish");
}

bool NatsClient::flush() { return natsConnection_FlushTimeout(connection_, 5000) == NATS_OK; }

std::optional<std::string> NatsClient::request(const std::string& subject,
                                               const std::string& payload,
                                               std::chrono::milliseconds timeout) {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, connection_, subject.c_str(), payload.data(),
                             static_cast<int>(payload.size()), timeout.count()) != NATS_OK) {
    return std::nullopt;
  }
  std::string out(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

std::optional<NatsMessage> NatsClient::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!arrived_.wait_for(lock, timeout, [&] { return !received_.empty(); })) return std::nullopt;
  NatsMessage m = std::move(received_.front());
  received_.pop_front();
  return m;
}

std::size_t NatsClient::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
  return received_.size();
}

std::vector<NatsMessage> NatsClient::take_all() {
  std::lock_guard lock(mutex_);
  std::vector<NatsMessage> out(std::make_move_iterator(received_.begin()),
                               std::make_move_iterator(received_.end()));
  received_.clear();
  return out;
}

}  // namespace psycho::testing
