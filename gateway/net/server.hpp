// The gateway process: workers, router, adapters, client listeners, the admin endpoint,
// signal handling and graceful shutdown. main() builds one Server from the resolved
// configuration and calls run().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/registry.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::net {

struct BoundPorts {
  std::uint16_t tcp = 0, websocket = 0, admin = 0;
};

class Server {
 public:
  Server(config::Config config, const AdapterRegistry& registry);
  ~Server();

  // Builds adapters, opens listeners and starts the workers. Main thread.
  Status start();
  // Blocks until SIGINT/SIGTERM (or, in stdio mode, the end of stdin), then shuts down
  // gracefully. Returns the process exit code.
  int run();
  // Thread-safe request for run() to return after a graceful shutdown.
  void request_stop();

  // Before run(): where a reload reads the configuration from (main: the same file and
  // flags as at start), and the file to watch. A reload happens on SIGHUP and when the file
  // changes (a Kubernetes ConfigMap update swaps a symlink; the file is polled every 2 s).
  // `stamp`: file_stamp(watch_path) taken before the running configuration was read, so that
  // a change made after that read, even before run(), is seen as one.
  void set_reload_source(std::function<Result<config::Config>()> load, std::string watch_path,
                         std::string stamp);
  // Thread-safe: reload now, as SIGHUP does.
  void request_reload();

  BoundPorts ports() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The JSON of the INFO line every client receives first; `port` is the bound client port,
// `max_payload` what the gateway accepts (at most config.max_payload).
std::string render_info_json(const config::GatewayConfig& config, std::uint64_t node_id,
                             std::uint16_t port, std::size_t max_payload);

// What changes when a file is replaced or rewritten (inode, size, mtime); "" when it cannot
// be read.
std::string file_stamp(const std::string& path);

}  // namespace psycho::net
