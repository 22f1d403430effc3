// Psycho over a plain TCP socket or a TLS stream on top of one.
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/log.hpp"
#include "net/client_session.hpp"
#include "net/tls_identity.hpp"
#include "net/transports.hpp"

namespace psycho::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kTlsReadChunk = 16 * 1024;  // one TLS record
constexpr auto kLinger = std::chrono::milliseconds(500);

// The read buffer of every plain TCP session of this worker thread. A session waits for its
// socket to become readable and only then reads, synchronously, into this buffer, which
// on_read() has consumed (or copied from) before it returns. An idle connection therefore
// holds no read buffer at all: 64 KiB of address space per connection, a page or two of it
// touched, was most of what an idle connection cost. (A read posted with async_read_some
// could not share a buffer: the reactor may fill it before the handler runs.) Every read
// goes through the reactor, so a client that always has bytes waiting still takes turns with
// the others on its worker; reading again at once, without waiting, starved them.
// Allocated on first use: a thread_local array would sit in the static TLS of every thread
// of the process (nats.c's among them), zeroed and resident.
std::array<char, kReadChunk>& worker_read_buffer() {
  thread_local std::unique_ptr<std::array<char, kReadChunk>> buffer;
  if (!buffer) buffer = std::make_unique<std::array<char, kReadChunk>>();
  return *buffer;
}

template <class Stream>
class StreamSession final : public ClientSession {
 public:
  template <class... Args>
  StreamSession(SessionContext& ctx, int worker, asio::io_context& io, std::string remote,
                Args&&... stream_args)
      : ClientSession(ctx, worker, io, metrics::Transport::tcp, std::move(remote)),
        stream_(std::forward<Args>(stream_args)...),
        linger_(io) {}

  Stream& stream() { return stream_; }

 private:
  static constexpr bool kPlain = std::is_same_v<Stream, tcp::socket>;

  void do_read() override {
    read_in_flight_ = true;
    if constexpr (kPlain) {
      stream_.async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                  this](const boost::system::error_code& ec) {
        read_in_flight_ = false;
        if (lingering_) return ec ? close_now() : discard();
        if (ec) return on_read_failed(ec);
        auto& buffer = worker_read_buffer();
        boost::system::error_code read_ec;
        const std::size_t n = stream_.read_some(asio::buffer(buffer), read_ec);
        if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
          return do_read();  // a spurious wake-up
        }
        if (read_ec) return on_read_failed(read_ec);
        on_read({buffer.data(), n});
      });
    } else {
      if (tls_buffer_.empty()) tls_buffer_.resize(kTlsReadChunk);
      stream_.async_read_some(
          asio::buffer(tls_buffer_),
          [self = shared_from_this(), this](const boost::system::error_code& ec, std::size_t n) {
            read_in_flight_ = false;
            if (lingering_) return ec ? close_now() : discard();
            if (ec) return on_read_failed(ec);
            on_read({tls_buffer_.data(), n});
          });
    }
  }

  void do_write(const std::vector<asio::const_buffer>& buffers) override {
    asio::async_write(stream_, buffers,
                      [self = shared_from_this(), this](const boost::system::error_code& ec,
                                                        std::size_t) { on_write_done(ec); });
  }

  int socket_handle() override { return stream_.lowest_layer().native_handle(); }

  // A lingering close: send FIN after what was written, then read and throw away what the
  // peer still sends, for a moment, before closing. Closing at once with unread bytes would
  // make the kernel answer them with a reset, and a reset destroys data the peer has not read
  // yet: typically the -ERR that explains why it was closed.
  void do_shutdown() override {
    if (lingering_) return;
    lingering_ = true;
    boost::system::error_code ignored;  // the socket may already be gone; nothing to report
    auto& socket = stream_.lowest_layer();
    if (!socket.is_open()) return;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    linger_.expires_after(kLinger);
    linger_.async_wait(
        [self = shared_from_this(), this](const boost::system::error_code&) { close_now(); });
    if (!read_in_flight_) discard();  // else the pending read's handler carries on
  }

  // The TCP socket itself, under TLS too: discarded bytes need no decrypting.
  tcp::socket& raw_socket() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      return stream_;
    } else {
      return stream_.next_layer();
    }
  }

  void discard() {
    read_in_flight_ = true;
    // Bytes read here are thrown away, so the worker's buffer serves as the sink: the reactor
    // fills it between handlers, never while a session is reading from it.
    raw_socket().async_read_some(
        asio::buffer(worker_read_buffer()),
        [self = shared_from_this(), this](const boost::system::error_code& ec, std::size_t) {
          read_in_flight_ = false;
          if (ec) return close_now();
          discard();
        });
  }

  void close_now() {
    boost::system::error_code ignored;
    linger_.cancel();
    stream_.lowest_layer().close(ignored);
  }

  Stream stream_;
  std::vector<char> tls_buffer_;  // TLS only, allocated at the first read
  asio::steady_timer linger_;
  bool read_in_flight_ = false, lingering_ = false;
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
    // Reads happen in the readiness handler and must never block the worker.
    socket.non_blocking(true, ignored);
    std::make_shared<PlainSession>(ctx, worker, io, std::move(remote), std::move(socket))->start();
    return;
  }
  auto session =
      std::make_shared<TlsSession>(ctx, worker, io, std::move(remote), std::move(socket), *tls);
  if (!session->expect_start_within(ctx.config.handshake_timeout)) return;
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
