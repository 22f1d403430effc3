// Runs the real psycho-gateway binary on loopback. Every listener binds port 0 and the
// gateway reports what it bound in its --ports-file, which the constructor waits for: a
// Gateway that exists is listening. One that exits first throws, with its stderr.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "process.hpp"
#include "raw_client.hpp"

namespace psycho::testing {

struct GatewayOptions {
  std::string config_yaml;         // written to a temp file and passed with --config
  std::vector<std::string> extra;  // more flags
  bool websocket = true;
  bool admin = true;
  bool pipe_stdin = false;
};

inline GatewayOptions with_config(std::string yaml) {
  GatewayOptions o;
  o.config_yaml = std::move(yaml);
  return o;
}

class Gateway {
 public:
  explicit Gateway(GatewayOptions options = {});
  ~Gateway();

  int port() const noexcept { return port_; }
  int websocket_port() const noexcept { return ws_port_; }
  int admin_port() const noexcept { return admin_port_; }
  // The port the gateway's --ports-file gives `name` ("poldercast" for that adapter's
  // listener); 0 when it reports none.
  int reported_port(const std::string& name) const;
  Process& process() { return *process_; }
  // The configuration file the gateway was started with ("" without one).
  const std::string& config_path() const noexcept { return config_path_; }

  // A connected raw client that has already read the INFO line.
  std::unique_ptr<RawClient> client();
  // GET path on the admin port; returns the whole HTTP response ("" on failure).
  std::string http_get(const std::string& path);

 private:
  void stop();  // ends the process and removes its files

  int port_ = 0, ws_port_ = 0, admin_port_ = 0;
  std::string config_path_;
  std::string dir_;    // holds the ports file
  std::string ports_;  // its contents
  std::unique_ptr<Process> process_;
};

std::string gateway_binary();
std::string write_temp_file(const std::string& tag, const std::string& contents);

}  // namespace psycho::testing
