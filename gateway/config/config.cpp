#include "config/config.hpp"

namespace psycho::config {

std::string Endpoint::to_string() const {
  if (!enabled()) return "";
  // A host with a colon can only be an IPv6 address (parse_endpoint insists on brackets),
  // and it needs them back to be parsed again or pasted into a URL.
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace psycho::config
