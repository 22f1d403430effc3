// The smallest complete adapter: the one to copy when adding a fabric (docs/architecture.md,
// "Adding an adapter"). Its fabric is in-process: every adapter attached to one
// LoopbackFabric hears what the others send, as gateways on one bus would. Tests attach the
// adapters of two gateways to one fabric to bridge them without a network.
//
// What a real adapter adds to this shape: a thread or an io_context of its own (send() must
// not block, so it queues into an OutboundQueue), a codec for its wire format (with
// adapters/wire_bytes.hpp), a config struct beside its SubjectFilter, and a report for status().
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"
#include "adapters/import.hpp"
#include "adapters/registry.hpp"
#include "adapters/subject_filter.hpp"
#include "adapters/traffic_counters.hpp"
#include "core/mutex.hpp"

namespace psycho::loopback {

class LoopbackAdapter;

// The in-process bus. Thread-safe.
class LoopbackFabric {
 public:
  void attach(LoopbackAdapter& adapter);
  void detach(LoopbackAdapter& adapter);
  // Hands `m` to every attached adapter but `from`, synchronously (it never blocks: each
  // receiver only checks the message and injects it into its router, which queues it).
  void carry(const LoopbackAdapter& from, const FabricMessage& m, const Trace& trace);

 private:
  Mutex mutex_;
  std::vector<LoopbackAdapter*> attached_ GUARDED_BY(mutex_);
};

// Labels of psycho_adapter_dropped_total{adapter="loopback"}.
enum class Drop { malformed, not_imported, count };
inline constexpr TrafficCounters<Drop>::Names kDropNames = {"malformed", "not_imported"};

class LoopbackAdapter final : public Adapter {
 public:
  LoopbackAdapter(LoopbackFabric& fabric, SubjectFilter subjects)
      : fabric_(fabric), subjects_(std::move(subjects)) {}

  std::string_view name() const override { return "loopback"; }
  Status start(AdapterHost& host) override;
  void stop(std::chrono::milliseconds drain) override;

  bool exports(std::string_view subject) const override { return subjects_.exports(subject); }
  void send(const MessagePtr& message) override;
  // Every message reaches every attached adapter, so there is nothing to subscribe to.
  void on_interest(std::string_view, bool) override {}
  AdapterStatus status() const override;

  // The fabric's side: a message another adapter sent.
  void receive(const FabricMessage& m, const Trace& trace);

 private:
  LoopbackFabric& fabric_;
  const SubjectFilter subjects_;
  std::atomic<AdapterHost*> host_{nullptr};  // set while attached; status() reads it
  TrafficCounters<Drop> counters_{kDropNames};
  const Importer<Drop> import_{counters_,
                               {.malformed = Drop::malformed, .not_imported = Drop::not_imported}};
};

// The registry entry: `loopback:` sections take the shared subject keys (subjects, import,
// export, prefixes). Registered by whoever owns `fabric` (tests); builtin_adapters() has no
// in-process fabric to offer, so a gateway binary does not list it.
AdapterFactory adapter_factory(LoopbackFabric& fabric);

}  // namespace psycho::loopback
