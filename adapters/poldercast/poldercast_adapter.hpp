// The PolderCast adapter: bridges subjects between gateways anywhere over a PolderCast
// overlay, with no broker (docs/poldercast.md). Only the registry entry is public.
#pragma once

#include "adapters/registry.hpp"

namespace psycho::poldercast {

// Section "poldercast", and the `--poldercast-seed HOST:PORT` flag.
AdapterFactory adapter_factory();

}  // namespace psycho::poldercast
