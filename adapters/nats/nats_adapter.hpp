// The NATS adapter: mirrors subjects both ways between the gateway and a NATS cluster
// (docs/nats.md). Only the registry entry is public; nats.c stays inside adapters/nats.
#pragma once

#include "adapters/registry.hpp"

namespace psycho::nats {

// Section "nats", and the `--nats URL[,URL...]` flag that enables it with defaults.
AdapterFactory adapter_factory();

}  // namespace psycho::nats
