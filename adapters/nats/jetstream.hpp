// Exports chosen subjects into JetStream: at-least-once into NATS. Each publish carries
// Nats-Msg-Id (from Psycho-Msg-Id), so a stream with a duplicate window drops the copies a
// retry makes. Acknowledgements are awaited asynchronously: the publisher thread never
// waits for one, except at shutdown.
#pragma once

#include <nats/nats.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "adapters/nats/nats_config.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "metrics/adapter_metrics.hpp"

namespace psycho::nats {

class JetStreamExporter {
 public:
  explicit JetStreamExporter(const JetStreamSettings& settings);
  ~JetStreamExporter();
  JetStreamExporter(const JetStreamExporter&) = delete;
  JetStreamExporter& operator=(const JetStreamExporter&) = delete;

  bool enabled() const noexcept { return settings_.enabled(); }
  bool wants(std::string_view local_subject) const noexcept;

  // Publisher thread, before any publish.
  Status start(natsConnection* connection);
  // Publisher thread: the connection closed for good; what was in flight is lost.
  void reset();
  // Publisher thread. Takes `message` (set to null) whatever the outcome; its header block
  // carries the de-duplication id (Nats-Msg-Id).
  natsStatus publish(natsMsg*& message);
  // Publisher thread: publishes again what failed and still has retries left.
  void retry_failed();
  // Publisher thread, at shutdown: waits up to `timeout` for outstanding acks, then gives
  // up on the rest (counted as lost).
  void finish(std::chrono::milliseconds timeout);

  void report(metrics::AdapterTraffic& traffic, std::vector<metrics::Sample>& samples,
              std::vector<metrics::HistogramSample>& histograms) const;

 private:
  struct InFlight {
    std::chrono::steady_clock::time_point sent;
    int attempts = 1;
  };
  static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure);
  void acknowledged(natsMsg* msg, const jsPubAckErr* error);
  void give_up(natsMsg* msg, const char* why);
  void drop_retries() REQUIRES(mutex_);

  const JetStreamSettings& settings_;
  jsCtx* js_ = nullptr;
  Mutex mutex_;
  std::unordered_map<natsMsg*, InFlight> in_flight_ GUARDED_BY(mutex_);
  std::vector<natsMsg*> to_retry_ GUARDED_BY(mutex_);
  std::atomic<std::uint64_t> acks_ok_{0}, acks_error_{0}, acks_timeout_{0}, retries_{0}, lost_{0};
  metrics::Histogram<12> ack_seconds_{
      {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5}};
};

}  // namespace psycho::nats
