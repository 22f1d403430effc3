// The --ports-file report: which ports the gateway's listeners actually bound. Whoever starts
// a gateway with port 0 (tests, benchmarks, a supervisor) reads it instead of picking a
// "free" port and handing it on, which races with every other process taking ports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace psycho::net {

// A listener by the name the report gives it: "listen", "websocket", "admin", or an
// adapter's name for the adapter's own listener ("poldercast").
struct NamedPort {
  std::string name;
  std::uint16_t port = 0;
};

// {"listen":4242,"websocket":4243,"admin":9242,"poldercast":4250}: one number per open
// listener, in the given order; disabled listeners are left out.
std::string render_ports_json(const std::vector<NamedPort>& ports);

// Writes the report to `path` through a temporary file in the same directory renamed into
// place: a reader sees the whole file or none. Called once every listener is open.
Status write_ports_file(const std::string& path, const std::vector<NamedPort>& ports);

// Removes the report at shutdown (errors ignored: it may never have been written).
void remove_ports_file(const std::string& path);

}  // namespace psycho::net
