#include "config/config.hpp"

#include "core/host_port.hpp"

namespace psycho::config {

std::string Endpoint::to_string() const {
  if (!enabled()) return "";
  return format_host_port(host, port);
}

}  // namespace psycho::config
