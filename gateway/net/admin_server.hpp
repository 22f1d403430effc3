// The admin HTTP endpoint (/metrics, /healthz, /readyz, /varz). The routes themselves are a
// plain function supplied by the server, so this file knows HTTP and nothing about them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/result.hpp"
#include "net/listener.hpp"
#include "net/workers.hpp"

namespace boost::asio::ssl {
class context;
}

namespace psycho::net {

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on a worker thread with the request path (query string removed).
using AdminHandler = std::function<AdminResponse(std::string_view path)>;

class AdminServer {
 public:
  // With `tls` (which must outlive the server), HTTPS: a connection has `handshake_timeout`
  // for its TLS handshake.
  AdminServer(Workers& workers, AdminHandler handler, boost::asio::ssl::context* tls = nullptr,
              std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10));
  Status open(const config::Endpoint& endpoint);
  void start() { listener_->start(); }
  void close() { listener_->close(); }
  std::uint16_t port() const noexcept { return listener_->port(); }

 private:
  AdminHandler handler_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace psycho::net
