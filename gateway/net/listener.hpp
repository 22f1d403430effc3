// Accepts connections on one endpoint and starts a session for each on the next worker.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "net/workers.hpp"

namespace psycho::net {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Called on the chosen worker's thread with the accepted socket.
  using OnAccept = std::function<void(int worker, boost::asio::ip::tcp::socket)>;

  Listener(Workers& workers, std::string name, OnAccept on_accept);

  // Binds and listens (main thread). Port 0 picks a free port; port() tells which.
  Status open(const config::Endpoint& endpoint);
  void start();
  // Stops accepting; thread-safe.
  void close();
  std::uint16_t port() const noexcept { return port_; }
  const std::string& name() const noexcept { return name_; }

 private:
  void accept();

  Workers& workers_;
  std::string name_;
  OnAccept on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::uint16_t port_ = 0;
};

}  // namespace psycho::net
