// The multicast adapter: bridges subjects between the gateways of one LAN over a UDP
// multicast group, with no broker (docs/multicast.md). Only the registry entry is public.
#pragma once

#include "adapters/registry.hpp"

namespace psycho::multicast {

// Section "multicast", and the `--multicast GROUP:PORT` flag that enables it with defaults.
AdapterFactory adapter_factory();

}  // namespace psycho::multicast
