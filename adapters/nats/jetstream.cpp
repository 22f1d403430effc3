#include "adapters/nats/jetstream.hpp"

#include <algorithm>

#include "adapters/nats/connection_options.hpp"
#include "core/log.hpp"
#include "core/subject.hpp"

namespace psycho::nats {

JetStreamExporter::JetStreamExporter(const JetStreamSettings& settings) : settings_(settings) {}

JetStreamExporter::~JetStreamExporter() {
  // finish() normally empties these; after a failed start nothing was ever sent.
  for (auto& [msg, flight] : in_flight_) natsMsg_Destroy(msg);
  if (js_ != nullptr) jsCtx_Destroy(js_);
}

bool JetStreamExporter::wants(std::string_view local_subject) const noexcept {
  return std::any_of(settings_.exports.begin(), settings_.exports.end(),
                     [&](const std::string& p) { return subject_matches(p, local_subject); });
}

void JetStreamExporter::drop_retries() {
  // These came back from the library in the ack handler: ours to free.
  for (natsMsg* m : to_retry_) natsMsg_Destroy(m);
  to_retry_.clear();
}

void JetStreamExporter::reset() {
  if (js_ == nullptr) return;
  {
    MutexLock lock(mutex_);
    lost_.fetch_add(in_flight_.size(), std::memory_order_relaxed);
    in_flight_.clear();
    drop_retries();
  }
  jsCtx_Destroy(js_);
  js_ = nullptr;
}

Status JetStreamExporter::start(natsConnection* connection) {
  if (!enabled()) return Ok{};
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = settings_.max_pending;
  options.PublishAsync.AckHandler = &JetStreamExporter::on_ack;
  options.PublishAsync.AckHandlerClosure = this;
  if (const natsStatus s = natsConnection_JetStream(&js_, connection, &options); s != NATS_OK) {
    return fail("nats: " + describe("JetStream context", s));
  }
  return Ok{};
}

natsStatus JetStreamExporter::publish(natsMsg*& message) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = static_cast<int64_t>(settings_.ack_timeout.count());
  natsMsg* sent = message;
  {
    MutexLock lock(mutex_);
    in_flight_[sent] = {std::chrono::steady_clock::now(), 1};
  }
  // On success the library owns the message and nulls our pointer; the ack handler gets it.
  const natsStatus s = js_PublishMsgAsync(js_, &message, &options);
  if (s != NATS_OK) {
    MutexLock lock(mutex_);
    in_flight_.erase(sent);
    natsMsg_Destroy(message);
    message = nullptr;
  }
  return s;
}

void JetStreamExporter::on_ack(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* error, void* closure) {
  static_cast<JetStreamExporter*>(closure)->acknowledged(msg, error);
}

void JetStreamExporter::acknowledged(natsMsg* msg, const jsPubAckErr* error) {
  MutexLock lock(mutex_);
  auto it = in_flight_.find(msg);
  if (it == in_flight_.end()) {  // not ours to track (cannot happen); still free it
    lock.unlock();
    natsMsg_Destroy(msg);
    return;
  }
  if (error == nullptr) {
    ack_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.sent).count());
    in_flight_.erase(it);
    lock.unlock();
    acks_ok_.fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
    return;
  }
  (error->Err == NATS_TIMEOUT ? acks_timeout_ : acks_error_)
      .fetch_add(1, std::memory_order_relaxed);
  if (it->second.attempts <= settings_.retries) {
    // Kept, not destroyed: the publisher thread sends it again (never from this callback,
    // which runs on a library thread and must not block on a full in-flight window).
    to_retry_.push_back(msg);
    return;
  }
  in_flight_.erase(it);
  lock.unlock();
  give_up(msg, error->ErrText != nullptr ? error->ErrText : natsStatus_GetText(error->Err));
}

void JetStreamExporter::give_up(natsMsg* msg, const char* why) {
  const std::uint64_t lost = lost_.fetch_add(1, std::memory_order_relaxed) + 1;
  // One line for the first loss and then one per thousand: a stream that is down must not
  // flood the log.
  if (lost == 1 || lost % 1000 == 0) {
    log::warn("nats: JetStream publish failed after retries",
              {{"subject", natsMsg_GetSubject(msg)}, {"error", why}, {"lost_so_far", lost}});
  }
  natsMsg_Destroy(msg);
}

void JetStreamExporter::retry_failed() {
  std::vector<natsMsg*> batch;
  {
    MutexLock lock(mutex_);
    if (to_retry_.empty()) return;
    batch.swap(to_retry_);
    for (natsMsg* m : batch) {
      auto& flight = in_flight_[m];
      ++flight.attempts;
      flight.sent = std::chrono::steady_clock::now();
    }
  }
  for (natsMsg* m : batch) {
    retries_.fetch_add(1, std::memory_order_relaxed);
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = static_cast<int64_t>(settings_.ack_timeout.count());
    natsMsg* original = m;
    // The Nats-Msg-Id header is in the message's own header block.
    if (const natsStatus s = js_PublishMsgAsync(js_, &m, &options); s != NATS_OK) {
      {
        MutexLock lock(mutex_);
        in_flight_.erase(original);
      }
      give_up(m, natsStatus_GetText(s));
    }
  }
}

void JetStreamExporter::finish(std::chrono::milliseconds timeout) {
  if (js_ == nullptr) return;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    retry_failed();
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                               deadline - std::chrono::steady_clock::now())
                                               .count());
    js_PublishAsyncComplete(js_, &options);
    MutexLock lock(mutex_);
    if (in_flight_.empty()) return;
    if (to_retry_.empty()) break;  // waiting on acks that did not come in time
  }
  MutexLock lock(mutex_);
  drop_retries();
  // What is still unacknowledged is owned by the library until the connection closes; it is
  // counted as lost here, and the library frees it.
  lost_.fetch_add(in_flight_.size(), std::memory_order_relaxed);
  in_flight_.clear();
}

void JetStreamExporter::report(metrics::AdapterTraffic& traffic,
                               std::vector<metrics::Sample>& samples,
                               std::vector<metrics::HistogramSample>& histograms) const {
  if (!enabled()) return;
  using Type = metrics::Sample::Type;
  const auto v = [](const std::atomic<std::uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  metrics::add_family(
      samples, Type::counter, "jetstream_acks_total",
      "JetStream publish acknowledgements, by result.", "result",
      {{"ok", v(acks_ok_)}, {"error", v(acks_error_)}, {"timeout", v(acks_timeout_)}});
  metrics::add_sample(samples, Type::counter, "jetstream_retries_total",
                      "JetStream publishes sent again after a failed or missing ack.", v(retries_));
  traffic.dropped["jetstream_failed"] = lost_.load(std::memory_order_relaxed);
  histograms.push_back(ack_seconds_.sample(
      "jetstream_ack_seconds", "Time from a JetStream publish to its acknowledgement."));
}

}  // namespace psycho::nats
