// NATS subscriptions follow local interest: the router's changes are coalesced and applied
// by the publisher thread, the only one that calls into nats.c for subscriptions.
#include "adapters/nats/nats_adapter_impl.hpp"
#include "adapters/nats/raw_message.hpp"
#include "core/log.hpp"

namespace psycho::nats {

void on_message(natsConnection*, natsSubscription* sub, natsMsg* msg, void* closure) {
  auto* fs = static_cast<FabricSubscription*>(closure);
  fs->adapter->receive(fs->id, sub, msg);
  free_message(msg);
}

void on_subscription_complete(void* closure) {
  auto* fs = static_cast<FabricSubscription*>(closure);
  fs->adapter->subscription_complete(*fs);
}

void NatsAdapter::on_interest(std::string_view pattern, bool added) {
  {
    MutexLock lock(interest_mutex_);
    auto it = pending_interest_.find(pattern);
    if (it == pending_interest_.end()) it = pending_interest_.emplace(pattern, 0).first;
    it->second += added ? 1 : -1;
    if (it->second == 0) pending_interest_.erase(it);  // added and removed before we looked
  }
  queue_.poke();
}

void NatsAdapter::on_queue_interest(std::string_view pattern, std::string_view queue, bool added) {
  {
    MutexLock lock(interest_mutex_);
    auto key = std::make_pair(std::string(pattern), std::string(queue));
    auto it = pending_queue_interest_.try_emplace(std::move(key), 0).first;
    it->second += added ? 1 : -1;
    if (it->second == 0) pending_queue_interest_.erase(it);
  }
  queue_.poke();
}

void NatsAdapter::apply_interest() {
  std::map<std::string, int, std::less<>> changes;
  std::map<std::pair<std::string, std::string>, int> queue_changes;
  bool refilter = false;
  {
    MutexLock lock(interest_mutex_);
    changes.swap(pending_interest_);
    queue_changes.swap(pending_queue_interest_);
    refilter = std::exchange(refilter_pending_, false);
  }
  if (refilter) {
    const auto c = table_.refilter(filter());
    for (const auto& [id, fabric] : c.subscribe) subscribe(id, fabric);
    for (const auto id : c.unsubscribe) unsubscribe(id);
    queues_.refilter(*filter());
  }
  for (const auto& [key, delta] : queue_changes) {
    queues_.change(*filter(), key.first, key.second, delta > 0);
  }
  // A group nats-server now chooses for (or no longer does) changes the router's routes.
  if (queues_.confirm() || !queue_changes.empty()) host_->exports_changed();
  for (const auto& [pattern, delta] : changes) {
    const auto c = table_.change(pattern, delta > 0);
    // Subscribe first: during the swap a message may come twice (owns() keeps one) but is
    // never missed.
    for (const auto& [id, fabric] : c.subscribe) subscribe(id, fabric);
    for (const auto id : c.unsubscribe) unsubscribe(id);
  }
}

void NatsAdapter::subscribe(InterestTable::SubscriptionId id, const std::string& pattern) {
  if (connection_ == nullptr) return;  // reopen() subscribes everything live when it connects
  auto fs = std::make_unique<FabricSubscription>();
  fs->adapter = this;
  fs->id = id;
  natsStatus s =
      natsConnection_Subscribe(&fs->sub, connection_, pattern.c_str(), &on_message, fs.get());
  if (s == NATS_OK)
    s = natsSubscription_SetOnCompleteCB(fs->sub, &on_subscription_complete, fs.get());
  if (s == NATS_OK) {
    s = natsSubscription_SetPendingLimits(fs->sub, config_.pending_messages,
                                          config_.nats_pending_bytes());
  }
  if (s != NATS_OK) {
    log::warn("nats: subscribe failed", {{"subject", pattern}, {"error", natsStatus_GetText(s)}});
    if (fs->sub != nullptr) natsSubscription_Destroy(fs->sub);
    return;
  }
  subscriptions_.emplace(id, std::move(fs));
}

void NatsAdapter::unsubscribe(InterestTable::SubscriptionId id) {
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  std::unique_ptr<FabricSubscription> fs = std::move(it->second);
  subscriptions_.erase(it);
  int64_t dropped = 0;
  if (natsSubscription_GetDropped(fs->sub, &dropped) == NATS_OK) {
    slow_dropped_retired_ += static_cast<std::uint64_t>(dropped);
  }
  natsSubscription_Unsubscribe(fs->sub);
  natsSubscription_Destroy(fs->sub);
  fs->sub = nullptr;
  retired_.add(std::move(fs));
}

void NatsAdapter::retire_subscriptions() {
  for (auto& [id, fs] : subscriptions_) {
    natsSubscription_Destroy(fs->sub);
    fs->sub = nullptr;
    retired_.add(std::move(fs));
  }
  subscriptions_.clear();
}

}  // namespace psycho::nats
