#include "gateway.hpp"

#include <unistd.h>

#include <stdexcept>

namespace psycho::testing {

std::string gateway_binary() { return PSYCHO_GATEWAY_BIN; }

std::string write_temp_file(const std::string& tag, const std::string& contents) {
  std::string path = "/tmp/psycho-test-" + tag + "-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  std::ofstream(path) << contents;
  return path;
}

Gateway::Gateway(GatewayOptions options) {
  port_ = free_port();
  ws_port_ = options.websocket ? free_port() : 0;
  admin_port_ = options.admin ? free_port() : 0;
  std::vector<std::string> argv = {gateway_binary(),
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port_),
                                   "--websocket",
                                   ws_port_ ? "127.0.0.1:" + std::to_string(ws_port_) : "",
                                   "--admin",
                                   admin_port_ ? "127.0.0.1:" + std::to_string(admin_port_) : ""};
  if (!options.config_yaml.empty()) {
    config_path_ = write_temp_file("config", options.config_yaml);
    argv.push_back("--config");
    argv.push_back(config_path_);
  }
  for (auto& e : options.extra) argv.push_back(e);
  process_ = std::make_unique<Process>(argv, options.pipe_stdin);
}

Gateway::~Gateway() {
  process_.reset();
  if (!config_path_.empty()) ::unlink(config_path_.c_str());
}

std::unique_ptr<RawClient> Gateway::client() {
  auto c = std::make_unique<RawClient>(port_);
  if (c->connected()) c->line();  // INFO
  return c;
}

std::string Gateway::http_get(const std::string& path) {
  RawClient c(admin_port_);
  if (!c.connected()) return "";
  c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  c.closed_by_peer();
  return c.pending();
}

}  // namespace psycho::testing
