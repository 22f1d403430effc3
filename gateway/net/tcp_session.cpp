// Psycho over a plain TCP socket or a TLS stream on top of one.
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "core/log.hpp"
#include "net/client_session.hpp"
#include "net/tls_identity.hpp"
#include "net/transports.hpp"

namespace psycho::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kReadChunk = 64 * 1024;

template <class Stream>
class StreamSession final : public ClientSession {
 public:
  template <class... Args>
  StreamSession(SessionContext& ctx, int worker, asio::io_context& io, std::string remote,
                Args&&... stream_args)
      : ClientSession(ctx, worker, io, metrics::Transport::tcp, std::move(remote)),
        stream_(std::forward<Args>(stream_args)...) {}

  Stream& stream() { return stream_; }

 private:
  void do_read() override {
    stream_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this(), this](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return on_read_failed(ec);
          on_read({buffer_.data(), n});
        });
  }

  void do_write(const std::vector<asio::const_buffer>& buffers) override {
    asio::async_write(stream_, buffers,
                      [self = shared_from_this(), this](const boost::system::error_code& ec,
                                                        std::size_t) { on_write_done(ec); });
  }

  void do_shutdown() override {
    boost::system::error_code ignored;  // the socket may already be gone; nothing to report
    auto& socket = stream_.lowest_layer();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Stream stream_;
  std::array<char, kReadChunk> buffer_;
};

using PlainSession = StreamSession<tcp::socket>;
using TlsSession = StreamSession<asio::ssl::stream<tcp::socket>>;

}  // namespace

std::string remote_address(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  const auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
         std::to_string(ep.port());
}

void start_tcp_session(SessionContext& ctx, int worker, tcp::socket socket,
                       asio::ssl::context* tls) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote = remote_address(socket);
  auto& io = static_cast<asio::io_context&>(socket.get_executor().context());
  if (tls == nullptr) {
    std::make_shared<PlainSession>(ctx, worker, io, std::move(remote), std::move(socket))->start();
    return;
  }
  auto session =
      std::make_shared<TlsSession>(ctx, worker, io, std::move(remote), std::move(socket), *tls);
  session->expect_start_within(ctx.config.handshake_timeout);
  auto on_handshake = [session](const boost::system::error_code& ec) {
    if (ec) {
      log::info("TLS handshake failed", {{"remote", session->remote()}, {"reason", ec.message()}});
      return;
    }
    session->set_certificate_name(verified_peer_common_name(session->stream().native_handle()));
    session->start();
  };
  session->stream().async_handshake(asio::ssl::stream_base::server, std::move(on_handshake));
}

}  // namespace psycho::net
