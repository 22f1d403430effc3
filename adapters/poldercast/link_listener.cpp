#include "adapters/poldercast/link_listener.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <utility>

#include "core/host_port.hpp"

namespace psycho::poldercast {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

namespace {
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
}  // namespace

LinkListener::LinkListener(asio::io_context& io, std::string what, ListenerBounds bounds,
                           Admit admit)
    : io_(io),
      what_(std::move(what)),
      bounds_(bounds),
      admit_(std::move(admit)),
      acceptor_(io),
      retry_(io) {}

Result<std::uint16_t> LinkListener::listen(const std::string& host, std::uint16_t port) {
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  const std::string where = format_host_port(name, port);
  if (closed_) return fail(what_ + ": cannot listen on " + where + ": closed");
  if (acceptor_.is_open())
    return fail(what_ + ": cannot listen on " + where + ": already listening");
  ErrorCode ec;
  tcp::endpoint endpoint(asio::ip::make_address(name, ec), port);
  if (ec) {
    tcp::resolver resolver(io_);
    const auto results = resolver.resolve(name, std::to_string(port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return fail(what_ + ": cannot resolve '" + host +
                  "': " + (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ErrorCode ignored;  // already failing; the first error is the one to report
    acceptor_.close(ignored);
    return fail(what_ + ": cannot listen on " + where + ": " + ec.message());
  }
  const std::uint16_t bound = acceptor_.local_endpoint(ec).port();
  do_accept();
  return bound;
}

void LinkListener::do_accept() {
  acceptor_.async_accept([weak = weak_from_this()](const ErrorCode& ec, tcp::socket socket) {
    if (auto self = weak.lock(); self && !self->closed_) self->on_accept(ec, std::move(socket));
  });
}

void LinkListener::on_accept(const ErrorCode& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    // Typically EMFILE: back off instead of spinning on an accept that keeps failing.
    retry_.expires_after(kAcceptRetry);
    retry_.async_wait([weak = weak_from_this()](const ErrorCode& wait_ec) {
      if (auto self = weak.lock(); self && !wait_ec && !self->closed_) self->do_accept();
    });
    return;
  }
  do_accept();
  ErrorCode remote_ec;
  const Address remote = socket.remote_endpoint(remote_ec).address();
  if (remote_ec) return;  // already gone: the socket closes as it goes out of scope
  if (admitted_ >= bounds_.max_connections) {
    ++counters_.refused_no_slot;
    return;
  }
  std::size_t& from_remote = per_address_[remote];
  if (from_remote >= bounds_.max_per_address) {
    ++counters_.refused_per_address;
    return;
  }
  ++from_remote;
  ++admitted_;
  ++counters_.accepted;
  admit_(std::move(socket), remote);
}

void LinkListener::release(const Address& remote) {
  auto it = per_address_.find(remote);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
  --admitted_;
}

void LinkListener::close() {
  closed_ = true;
  ErrorCode ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  per_address_.clear();
  admitted_ = 0;
}

}  // namespace psycho::poldercast
