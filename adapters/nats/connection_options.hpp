// Turns a NatsConfig into nats.c connection options: servers, credentials, TLS, reconnect.
#pragma once

#include <nats/nats.h>

#include <memory>

#include "adapters/nats/nats_config.hpp"
#include "core/result.hpp"

namespace psycho::nats {

struct OptionsDeleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;

// The connection callbacks the adapter wants; `closure` is passed to each.
struct ConnectionCallbacks {
  natsConnectionHandler connected = nullptr;  // first connect (connecting is retried)
  natsConnectionHandler disconnected = nullptr;
  natsConnectionHandler reconnected = nullptr;
  natsConnectionHandler closed = nullptr;
  natsErrHandler error = nullptr;
  void* closure = nullptr;
};

Result<OptionsPtr> make_options(const NatsConfig& config, const ConnectionCallbacks& callbacks);

// "nats: <what> failed: <nats.c's text>".
std::string describe(std::string_view what, natsStatus status);

}  // namespace psycho::nats
