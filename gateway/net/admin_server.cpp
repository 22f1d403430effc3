#include "net/admin_server.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <optional>

namespace psycho::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kRequestHeaderMax = 8 * 1024;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One keep-alive HTTP/1.1 connection: read a request, answer it, repeat. Over a plain
// beast::tcp_stream, or TLS on top of one.
template <class Stream>
class AdminSession : public std::enable_shared_from_this<AdminSession<Stream>> {
 public:
  AdminSession(asio::ip::tcp::socket socket,
               const AdminHandler& handler) requires std::is_same_v<Stream, beast::tcp_stream>
      : stream_(std::move(socket)), handler_(handler) {}
  AdminSession(asio::ip::tcp::socket socket, asio::ssl::context& tls,
               const AdminHandler& handler) requires std::is_same_v<Stream, TlsStream>
      : stream_(std::move(socket), tls), handler_(handler) {}

  // TLS only: the handshake, then the request loop.
  void handshake(std::chrono::milliseconds timeout) {
    beast::get_lowest_layer(stream_).expires_after(timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](const beast::error_code& ec) {
                              if (ec) return self->close();
                              self->read();
                            });
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(kRequestHeaderMax);
    parser_->body_limit(0);  // admin requests carry no body
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

 private:
  void on_read(const beast::error_code& ec) {
    if (ec) return close();
    const auto& request = parser_->get();
    response_ = {};
    response_.version(request.version());
    response_.keep_alive(request.keep_alive());
    response_.set(http::field::server, "psycho-gateway");
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      respond(AdminResponse{405, "text/plain; charset=utf-8", "method not allowed\n"});
    } else {
      const auto raw_target = request.target();
      std::string_view target(raw_target.data(), raw_target.size());
      target = target.substr(0, target.find('?'));
      respond(handler_(target));
    }
    if (request.method() == http::verb::head) response_.body().clear();
    http::async_write(
        stream_, response_,
        [self = this->shared_from_this()](const beast::error_code& write_ec, std::size_t) {
          if (write_ec || !self->response_.keep_alive()) return self->close();
          self->read();
        });
  }

  void respond(AdminResponse r) {
    response_.result(r.status);
    response_.set(http::field::content_type, r.content_type);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
  }

  void close() {
    beast::error_code ignored;
    auto& tcp = beast::get_lowest_layer(stream_);
    tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp.close();
  }

  Stream stream_;
  const AdminHandler& handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

AdminServer::AdminServer(Workers& workers, AdminHandler handler, asio::ssl::context* tls,
                         std::chrono::milliseconds handshake_timeout)
    : handler_(std::move(handler)),
      listener_(std::make_shared<Listener>(
          workers, "admin", [this, tls, handshake_timeout](int, asio::ip::tcp::socket socket) {
            if (tls == nullptr) {
              std::make_shared<AdminSession<beast::tcp_stream>>(std::move(socket), handler_)
                  ->read();
            } else {
              std::make_shared<AdminSession<TlsStream>>(std::move(socket), *tls, handler_)
                  ->handshake(handshake_timeout);
            }
          })) {}

Status AdminServer::open(const config::Endpoint& endpoint) { return listener_->open(endpoint); }

}  // namespace psycho::net
