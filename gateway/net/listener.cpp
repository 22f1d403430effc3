#include "net/listener.hpp"

#include <boost/asio/post.hpp>

#include "core/log.hpp"

namespace psycho::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Listener::Listener(Workers& workers, std::string name, OnAccept on_accept)
    : workers_(workers),
      name_(std::move(name)),
      on_accept_(std::move(on_accept)),
      acceptor_(workers.context(0)),
      retry_timer_(workers.context(0)) {}

Status Listener::open(const config::Endpoint& endpoint) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(endpoint.host, ec);
  if (ec) return fail(name_ + ": bad address '" + endpoint.host + "': " + ec.message());
  const tcp::endpoint ep(address, endpoint.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(name_ + ": cannot listen on " + endpoint.to_string() + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  return Ok{};
}

void Listener::start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Listener::close() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->retry_timer_.cancel();
    self->acceptor_.close(ignored);
  });
}

void Listener::accept() {
  const int worker = workers_.next();
  acceptor_.async_accept(
      workers_.context(worker),
      [self = shared_from_this(), worker](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
        if (ec) {
          // Typically EMFILE: back off briefly instead of spinning on a failing accept.
          log::warn("accept failed", {{"listener", self->name_}, {"reason", ec.message()}});
          self->retry_timer_.expires_after(std::chrono::milliseconds(100));
          self->retry_timer_.async_wait([self](const boost::system::error_code& wait_ec) {
            if (!wait_ec) self->accept();
          });
          return;
        }
        auto shared_socket = std::make_shared<tcp::socket>(std::move(socket));
        asio::post(self->workers_.context(worker), [self, worker, shared_socket] {
          self->on_accept_(worker, std::move(*shared_socket));
        });
        self->accept();
      });
}

}  // namespace psycho::net
