#include "gateway.hpp"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "ports.hpp"

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
  char dir[] = "/tmp/psycho-gw-XXXXXX";
  if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
  const std::string ports_file = dir_ + "/ports.json";
  const std::string any = "127.0.0.1:0";
  std::vector<std::string> argv = {gateway_binary(),
                                   "--listen",
                                   any,
                                   "--websocket",
                                   options.websocket ? any : "",
                                   "--admin",
                                   options.admin ? any : "",
                                   "--ports-file",
                                   ports_file};
  if (!options.config_yaml.empty()) {
    config_path_ = write_temp_file("config", options.config_yaml);
    argv.push_back("--config");
    argv.push_back(config_path_);
  }
  for (auto& e : options.extra) argv.push_back(e);
  process_ = std::make_unique<Process>(argv, options.pipe_stdin);
  // Written whole (renamed into place) once every listener is open. Generous: a dozen
  // gateways starting at once under the sanitizers take their time.
  try {
    process_->wait_until_ready(
        "psycho-gateway did not report its ports",
        [&] {
          ports_ = slurp(ports_file);
          return !ports_.empty();
        },
        std::chrono::seconds(30));
  } catch (...) {
    stop();  // no destructor runs for an object whose constructor threw
    throw;
  }
  port_ = reported_port("listen");
  ws_port_ = reported_port("websocket");
  admin_port_ = reported_port("admin");
}

Gateway::~Gateway() { stop(); }

void Gateway::stop() {
  process_.reset();
  if (!config_path_.empty()) ::unlink(config_path_.c_str());
  std::error_code ignored;  // a leftover temp dir is no reason to fail a test
  std::filesystem::remove_all(dir_, ignored);
}

int Gateway::reported_port(const std::string& name) const {
  return testing::reported_port(ports_, name);
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
