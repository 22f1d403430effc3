// Psycho over WebSocket (RFC 6455) through Beast, plain or TLS. The HTTP upgrade is checked
// against the configured path; after it, frame payloads are fed to the same parser as TCP
// bytes, so a frame may carry several ops or part of one. The gateway sends binary frames:
// payloads are arbitrary bytes, and a text frame must be valid UTF-8. With static files
// configured, a request that is not an upgrade is answered from them, once: a page's few
// dozen files do not need keep-alive, and the session never becomes a client.
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <optional>

#include "core/log.hpp"
#include "net/client_session.hpp"
#include "net/static_files.hpp"
#include "net/tls_identity.hpp"
#include "net/transports.hpp"

namespace psycho::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kUpgradeRequestMax = 8 * 1024;

template <class Stream>
class WebSocketSession final : public ClientSession {
 public:
  template <class... Args>
  WebSocketSession(SessionContext& ctx, int worker, asio::io_context& io, std::string remote,
                   Args&&... stream_args)
      : ClientSession(ctx, worker, io, metrics::Transport::websocket, std::move(remote)),
        ws_(std::forward<Args>(stream_args)...) {}

  websocket::stream<Stream>& ws() { return ws_; }

  // Reads the upgrade request, checks its path and completes the handshake.
  void upgrade(const WebSocketEndpoint& endpoint) {
    endpoint_ = endpoint;
    upgrade_request_.emplace();
    upgrade_request_->header_limit(kUpgradeRequestMax);
    upgrade_request_->body_limit(0);
    http::async_read(ws_.next_layer(), buffer_, *upgrade_request_,
                     [self = shared_this()](const beast::error_code& ec, std::size_t) {
                       self->on_upgrade_request(ec);
                     });
  }

 private:
  std::shared_ptr<WebSocketSession> shared_this() {
    return std::static_pointer_cast<WebSocketSession>(shared_from_this());
  }

  void on_upgrade_request(const beast::error_code& ec) {
    if (ec) return;  // not HTTP, or gone: nothing to answer
    auto request = upgrade_request_->release();
    if (!websocket::is_upgrade(request) && endpoint_.files) {
      serve_static(request);
      return;
    }
    if (!websocket::is_upgrade(request) || request.target() != endpoint_.path) {
      reject(request.version());
      return;
    }
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(0);  // frames are streamed into the parser, which enforces limits
    ws_.binary(true);
    // One frame per gather write: auto-fragmenting would cut it into 4 KiB frames, one
    // syscall each, which costs a quarter of the throughput at 1 KiB messages.
    ws_.auto_fragment(false);
    ws_.async_accept(request, [self = shared_this()](const beast::error_code& accept_ec) {
      if (accept_ec) return;
      self->start();
    });
  }

  void reject(unsigned version) {
    auto response =
        std::make_shared<http::response<http::string_body>>(http::status::not_found, version);
    response->set(http::field::content_type, "text/plain");
    response->body() = "Psycho WebSocket endpoint not here\n";
    response->prepare_payload();
    write_and_close(std::move(response));
  }

  void serve_static(const http::request<http::string_body>& request) {
    const auto method = request.method_string();
    const auto target = request.target();
    StaticResponse answer =
        endpoint_.files->respond({method.data(), method.size()}, {target.data(), target.size()});
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(answer.status), request.version());
    response->set(http::field::content_type, answer.content_type);
    // The apps change while a developer edits them: revalidate rather than run stale code.
    response->set(http::field::cache_control, "no-cache");
    response->set("X-Content-Type-Options", "nosniff");
    if (!answer.location.empty()) response->set(http::field::location, answer.location);
    if (!answer.allow.empty()) response->set(http::field::allow, answer.allow);
    response->body() = std::move(answer.body);
    // A HEAD answer has no body but the Content-Length of the GET's.
    response->content_length(answer.content_length);
    write_and_close(std::move(response));
  }

  void write_and_close(std::shared_ptr<http::response<http::string_body>> response) {
    response->keep_alive(false);
    http::async_write(ws_.next_layer(), *response,
                      [self = shared_this(), response](const beast::error_code&, std::size_t) {
                        self->do_shutdown();
                      });
  }

  void do_read() override {
    ws_.async_read_some(
        buffer_, kReadChunk, [self = shared_this()](const beast::error_code& ec, std::size_t) {
          if (ec) return self->on_read_failed(ec);
          const auto data = self->buffer_.cdata();
          const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
          self->buffer_.consume(self->buffer_.size());
          self->on_read(bytes);
        });
  }

  void do_write(const std::vector<asio::const_buffer>& buffers) override {
    ws_.async_write(buffers, [self = shared_this()](const beast::error_code& ec, std::size_t) {
      self->on_write_done(ec);
    });
  }

  void do_shutdown() override {
    if (shutting_down_) return;
    shutting_down_ = true;
    if (ws_.is_open() && !write_in_flight()) {
      // A close frame tells browsers this was deliberate (1000) rather than a network error.
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_this()](const beast::error_code&) { self->close_socket(); });
      return;
    }
    close_socket();
  }

  int socket_handle() override { return beast::get_lowest_layer(ws_).native_handle(); }

  void close_socket() {
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(ws_);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> upgrade_request_;
  WebSocketEndpoint endpoint_;
  bool shutting_down_ = false;
};

using PlainWebSocket = WebSocketSession<tcp::socket>;
using TlsWebSocket = WebSocketSession<beast::ssl_stream<tcp::socket>>;

}  // namespace

void start_websocket_session(SessionContext& ctx, int worker, tcp::socket socket,
                             asio::ssl::context* tls, const WebSocketEndpoint& endpoint) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote = remote_address(socket);
  auto& io = static_cast<asio::io_context&>(socket.get_executor().context());
  if (tls == nullptr) {
    auto session =
        std::make_shared<PlainWebSocket>(ctx, worker, io, std::move(remote), std::move(socket));
    if (session->expect_start_within(ctx.config.handshake_timeout)) session->upgrade(endpoint);
    return;
  }
  auto session =
      std::make_shared<TlsWebSocket>(ctx, worker, io, std::move(remote), std::move(socket), *tls);
  if (!session->expect_start_within(ctx.config.handshake_timeout)) return;
  auto on_handshake = [session, endpoint](const beast::error_code& ec) {
    if (ec) {
      log::info("TLS handshake failed", {{"remote", session->remote()}, {"reason", ec.message()}});
      return;
    }
    session->set_certificate_name(
        verified_peer_common_name(session->ws().next_layer().native_handle()));
    session->upgrade(endpoint);
  };
  session->ws().next_layer().async_handshake(asio::ssl::stream_base::server,
                                             std::move(on_handshake));
}

}  // namespace psycho::net
