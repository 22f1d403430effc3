// The byte stream under a Connection: plain TCP or WebSocket (binary frames), behind one small
// interface so the connection logic is written once.
//
// Every method is called on the connection's I/O thread only. At most one read and one write
// are outstanding at a time (Beast's rule for websocket streams, and ours for TCP), and
// handlers run on that same thread. close() cancels both; their handlers then see an error.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include "clients/url.hpp"

namespace psycho::client::detail {

using IoHandler = std::function<void(boost::system::error_code, std::size_t)>;
using OpenHandler = std::function<void(boost::system::error_code)>;

class Stream {
 public:
  virtual ~Stream() = default;
  // Resolves, connects and (ws) performs the HTTP upgrade on url.path.
  virtual void async_open(const Url& url, OpenHandler done) = 0;
  virtual void async_read_some(boost::asio::mutable_buffer buffer, IoHandler done) = 0;
  // Writes the whole buffer (ws: as one binary message).
  virtual void async_write(boost::asio::const_buffer buffer, IoHandler done) = 0;
  virtual void close() = 0;
};

std::unique_ptr<Stream> make_stream(boost::asio::io_context& ioc, Scheme scheme);

}  // namespace psycho::client::detail
