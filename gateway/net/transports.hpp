// Factories for the transports' sessions. Only this header is needed to start a session;
// the Asio/Beast stream types stay inside the transport .cpp files.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/session_context.hpp"

namespace psycho::net {

// Starts a Psycho session on an accepted TCP socket (TLS when `tls` is not null), on the
// socket's own io_context. Must be called on that context's thread.
void start_tcp_session(SessionContext& ctx, int worker, boost::asio::ip::tcp::socket socket,
                       boost::asio::ssl::context* tls);

class StaticFiles;

// What a WebSocket listener answers: the upgrade on `path`, and, when `files` is set, plain
// HTTP GET/HEAD requests with the files under its directory.
struct WebSocketEndpoint {
  std::string path = "/";
  std::shared_ptr<const StaticFiles> files;
};

// Same for WebSocket: performs the HTTP upgrade on the endpoint's path, then speaks Psycho in
// binary frames (a frame may hold several ops or part of one). A request that is not an
// upgrade gets a static file (one response, then the connection closes) or a 404.
void start_websocket_session(SessionContext& ctx, int worker, boost::asio::ip::tcp::socket socket,
                             boost::asio::ssl::context* tls, const WebSocketEndpoint& endpoint);

// The threads that carry stdin/stdout for the stdio session; destroying it stops them.
class StdioPipe {
 public:
  virtual ~StdioPipe() = default;
};

// One client on stdin/stdout (`psycho-gateway --stdio`). `on_closed` runs on the worker
// once the client has gone (end of input), so the server can exit. Call on the worker.
// Keep the returned pipe until the workers have stopped.
std::unique_ptr<StdioPipe> start_stdio_session(SessionContext& ctx, int worker,
                                               boost::asio::io_context& io,
                                               std::function<void()> on_closed);

std::string remote_address(const boost::asio::ip::tcp::socket& socket);

}  // namespace psycho::net
