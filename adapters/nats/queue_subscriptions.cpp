#include "adapters/nats/queue_subscriptions.hpp"

#include <algorithm>

#include "adapters/nats/connection_options.hpp"
#include "adapters/nats/raw_message.hpp"
#include "core/log.hpp"
#include "core/subject.hpp"

namespace psycho::nats {

namespace {

using namespace std::chrono_literals;

void on_up(natsConnection*, void* closure) {
  static_cast<QueueSubscriptions*>(closure)->set_connected(true);
}
void on_down(natsConnection*, void* closure) {
  static_cast<QueueSubscriptions*>(closure)->set_connected(false);
}
void on_closed(natsConnection*, void* closure) {
  static_cast<QueueSubscriptions*>(closure)->closed();
}

}  // namespace

QueueSubscriptions::QueueSubscriptions(const NatsConfig& config, Receive receive)
    : config_(config), receive_(std::move(receive)) {}

QueueSubscriptions::~QueueSubscriptions() { stop(0ms); }

void QueueSubscriptions::on_message(natsConnection*, natsSubscription* sub, natsMsg* msg,
                                    void* closure) {
  auto* s = static_cast<Subscription*>(closure);
  s->owner->receive_(s->local_queue, sub, msg);  // local_queue never changes: no lock
  free_message(msg);
}

void QueueSubscriptions::on_complete(void* closure) {
  auto* s = static_cast<Subscription*>(closure);
  s->owner->retired_.completed(*s);
}

void QueueSubscriptions::closed() {
  {
    MutexLock lock(closed_mutex_);  // open() reads both under it
    set_connected(false);
    closed_ = true;
  }
  closed_cv_.notify_all();
}

// Opened with the first group, not at start: a gateway without queue groups keeps one
// connection. Unreachable servers are retried in the background, as for the main one.
bool QueueSubscriptions::open() {
  if (connection_ != nullptr) return true;
  auto options = make_options(config_, {&on_up, &on_down, &on_up, &on_closed, nullptr, this});
  if (!options) {
    log::warn("nats: queue-group connection options", {{"error", options.error()}});
    return false;
  }
  // Set before nats.c can call back: its callback thread may report this connection up or
  // closed before natsConnection_Connect returns.
  set_connected(false);
  {
    MutexLock lock(closed_mutex_);
    closed_ = false;
  }
  natsConnection* connection = nullptr;
  const natsStatus s = natsConnection_Connect(&connection, options.value().get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    log::warn("nats: queue-group connection failed", {{"error", natsStatus_GetText(s)}});
    return false;
  }
  MutexLock lock(closed_mutex_);
  connection_ = connection;
  if (s == NATS_OK && !closed_) set_connected(true);
  return true;
}

void QueueSubscriptions::change(const SubjectFilter& filter, std::string_view local_pattern,
                                std::string_view queue, bool added) {
  LocalKey local{std::string(local_pattern), std::string(queue)};
  auto it = local_.find(local);
  if (added) {
    if (it != local_.end()) return;  // the router reports each group once
    std::vector<FabricKey> keys;
    acquire(filter, local, keys);
    local_.emplace(std::move(local), std::move(keys));
  } else if (it != local_.end()) {
    for (const auto& key : it->second) release(key);
    local_.erase(it);
  }
}

void QueueSubscriptions::refilter(const SubjectFilter& filter) {
  auto old = std::move(local_);
  local_.clear();
  for (const auto& [local, keys] : old) {
    std::vector<FabricKey> now;
    acquire(filter, local, now);
    local_.emplace(local, std::move(now));
  }
  for (const auto& [local, keys] : old) {
    for (const auto& key : keys) release(key);
  }
}

void QueueSubscriptions::acquire(const SubjectFilter& filter, const LocalKey& local,
                                 std::vector<FabricKey>& out) {
  const std::string fabric_queue = filter.fabric_queue(local.first, local.second);
  auto patterns = filter.queue_patterns_for(local.first);
  // Connecting may take a while: never under the lock that route building reads.
  const bool opened = !patterns.empty() && open();
  for (auto& pattern : patterns) {
    FabricKey key{std::move(pattern), fabric_queue};
    out.push_back(key);
    WriterLock lock(mutex_);
    auto& s = subscriptions_[key];
    if (s == nullptr) {
      s = std::make_unique<Subscription>();
      s->owner = this;
      s->pattern = key.first;
      s->fabric_queue = key.second;
      s->local_queue = local.second;
      if (opened) subscribe(*s);
    }
    ++s->refs;
  }
}

void QueueSubscriptions::release(const FabricKey& key) {
  std::unique_ptr<Subscription> gone;
  {
    WriterLock lock(mutex_);
    auto it = subscriptions_.find(key);
    if (it == subscriptions_.end() || --it->second->refs > 0) return;
    gone = std::move(it->second);
    subscriptions_.erase(it);
  }
  if (gone->sub == nullptr) return;
  natsSubscription_Unsubscribe(gone->sub);
  natsSubscription_Destroy(gone->sub);
  gone->sub = nullptr;
  retired_.add(std::move(gone));
}

void QueueSubscriptions::subscribe(Subscription& s) {
  natsStatus st = natsConnection_QueueSubscribe(&s.sub, connection_, s.pattern.c_str(),
                                                s.fabric_queue.c_str(), &on_message, &s);
  if (st == NATS_OK) st = natsSubscription_SetOnCompleteCB(s.sub, &on_complete, &s);
  if (st == NATS_OK) {
    st = natsSubscription_SetPendingLimits(s.sub, config_.pending_messages,
                                           config_.nats_pending_bytes());
  }
  if (st != NATS_OK) {
    log::warn(
        "nats: queue subscribe failed",
        {{"subject", s.pattern}, {"queue", s.fabric_queue}, {"error", natsStatus_GetText(st)}});
    if (s.sub != nullptr) natsSubscription_Destroy(s.sub);
    s.sub = nullptr;
  }
}

bool QueueSubscriptions::confirm() {
  retired_.collect();
  if (connection_ == nullptr || !connected()) return false;
  bool waiting = false;
  {
    ReaderLock lock(mutex_);
    for (const auto& [key, s] : subscriptions_) waiting = waiting || (!s->live && s->sub);
  }
  // The server has taken every SUB sent before the PONG it answers this flush with.
  if (!waiting || natsConnection_FlushTimeout(connection_, 1000) != NATS_OK) return false;
  WriterLock lock(mutex_);
  for (auto& [key, s] : subscriptions_) s->live = s->live || s->sub != nullptr;
  return true;
}

void QueueSubscriptions::reopen_if_closed() {
  {
    MutexLock lock(closed_mutex_);
    if (connection_ == nullptr || !closed_) return;
  }
  // The closed callback has run; the subscriptions' last callbacks may still come.
  {
    WriterLock lock(mutex_);
    retire_all(true);
  }
  natsConnection_Destroy(connection_);
  connection_ = nullptr;
  if (!open()) return;
  WriterLock lock(mutex_);
  for (auto& [key, s] : subscriptions_) subscribe(*s);
}

void QueueSubscriptions::stop(std::chrono::milliseconds drain) {
  if (connection_ == nullptr) return;
  if (natsConnection_DrainTimeout(connection_, std::max<std::int64_t>(drain.count(), 1)) !=
      NATS_OK) {
    natsConnection_Close(connection_);
  }
  MutexLock lock(closed_mutex_);
  const auto deadline = std::chrono::steady_clock::now() + drain + 1s;
  while (!closed_ && lock.wait_until(closed_cv_, deadline) == std::cv_status::no_timeout) {
  }
  if (!closed_) {
    // nats.c may still call us: leaking the connection and the closures it may call is
    // safer than freeing them under it.
    log::warn("nats: queue-group connection did not close in time", {});
    connection_ = nullptr;
    lock.unlock();
    WriterLock guard(mutex_);
    for (auto& [key, s] : subscriptions_) static_cast<void>(s.release());
    subscriptions_.clear();
    static_cast<void>(retired_.finish(std::chrono::steady_clock::now()));
    return;
  }
  lock.unlock();
  {
    WriterLock guard(mutex_);
    retire_all(false);
  }
  // The last callbacks follow the close within moments, drained or not.
  if (const std::size_t leaked = retired_.finish(std::chrono::steady_clock::now() + 1s);
      leaked > 0) {
    log::warn("nats: queue subscriptions not finished in time; their closures are leaked",
              {{"subscriptions", leaked}});
  }
  natsConnection_Destroy(connection_);
  connection_ = nullptr;
}

void QueueSubscriptions::retire_all(bool successors) {
  for (auto& [key, s] : subscriptions_) {
    if (s->sub == nullptr) continue;  // never subscribed: nats.c does not know it
    natsSubscription_Destroy(s->sub);
    s->sub = nullptr;
    std::unique_ptr<Subscription> next;
    if (successors) {
      next = std::make_unique<Subscription>();
      next->owner = this;
      next->pattern = s->pattern;
      next->fabric_queue = s->fabric_queue;
      next->local_queue = s->local_queue;
      next->refs = s->refs;
    }
    retired_.add(std::move(s));
    s = std::move(next);
  }
  if (!successors) subscriptions_.clear();
}

bool QueueSubscriptions::chooses(std::string_view fabric_subject, std::string_view queue) const {
  ReaderLock lock(mutex_);
  return std::any_of(subscriptions_.begin(), subscriptions_.end(), [&](const auto& entry) {
    const Subscription& s = *entry.second;
    return s.live && s.local_queue == queue && subject_matches(s.pattern, fabric_subject);
  });
}

bool QueueSubscriptions::covers(std::string_view fabric_subject) const {
  ReaderLock lock(mutex_);
  return std::any_of(subscriptions_.begin(), subscriptions_.end(), [&](const auto& entry) {
    return entry.second->live && subject_matches(entry.second->pattern, fabric_subject);
  });
}

std::size_t QueueSubscriptions::size() const {
  ReaderLock lock(mutex_);
  return subscriptions_.size();
}

std::vector<std::string> QueueSubscriptions::patterns() const {
  ReaderLock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, s] : subscriptions_) {
    out.push_back(key.first + " " + key.second + (s->live ? "" : " (unconfirmed)"));
  }
  return out;
}

}  // namespace psycho::nats
