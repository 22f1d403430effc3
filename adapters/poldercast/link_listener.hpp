// Where overlay links are accepted: the stream transport's listener and the browsers'
// WebSocket listener share it. It binds (a name is resolved, "[v6]" brackets are taken off),
// accepts, backs off for a moment when accepting fails (out of descriptors, typically)
// rather than spinning, and admits a connection only within two bounds: one over all
// connections and one per remote IP address, so that one host cannot take every slot.
// A refused connection is closed at once; the peer sees the close.
//
// Threading: everything runs on the io_context's thread. No callback follows close(), and
// handlers may outlive the owner's interest (they hold the listener weakly).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace psycho::poldercast {

struct ListenerBounds {
  std::size_t max_connections = 1024;  // admitted and not yet released, over all addresses
  std::size_t max_per_address = 16;    // the same, from one remote IP address
};

struct ListenerCounters {
  std::uint64_t accepted = 0;             // admitted
  std::uint64_t refused_no_slot = 0;      // beyond max_connections
  std::uint64_t refused_per_address = 0;  // beyond max_per_address
};

class LinkListener : public std::enable_shared_from_this<LinkListener> {
 public:
  using Address = boost::asio::ip::address;
  // Takes an admitted connection. The owner calls release(remote) exactly once when it ends.
  using Admit = std::function<void(boost::asio::ip::tcp::socket socket, const Address& remote)>;

  // `what` names the listener in errors, e.g. "poldercast" or "poldercast.websocket".
  LinkListener(boost::asio::io_context& io, std::string what, ListenerBounds bounds, Admit admit);

  // Binds and listens (port 0: an ephemeral one); returns the bound port.
  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  // A connection admitted from `remote` has ended: its slots are free again.
  void release(const Address& remote);
  void close();

  const ListenerCounters& counters() const { return counters_; }
  // Connections admitted and not yet released.
  std::size_t admitted() const { return admitted_; }

 private:
  void do_accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const std::string what_;
  const ListenerBounds bounds_;
  const Admit admit_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::map<Address, std::size_t> per_address_;  // Boost 1.74 has no std::hash for it
  std::size_t admitted_ = 0;
  ListenerCounters counters_;
  bool closed_ = false;
};

}  // namespace psycho::poldercast
