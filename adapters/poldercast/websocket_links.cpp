#include "adapters/poldercast/websocket_links.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapters/poldercast/expiring_set.hpp"
#include "adapters/poldercast/link_listener.hpp"
#include "poldercast/relay.hpp"

namespace psycho::poldercast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

namespace {
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
}  // namespace

namespace detail {

class Link;

// What the links share. A link's pointer to it is cleared when the link is forgotten or the
// whole closes, and every handler checks it first: that is how no callback follows close().
class LinkCore : public std::enable_shared_from_this<LinkCore> {
 public:
  LinkCore(asio::io_context& io, WebSocketLinkOptions options, WebSocketLinkEvents& events)
      : io_(io), options_(std::move(options)), events_(events) {}

  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  void on_frame(Link& link, std::string_view bytes);
  void forget(Link& link);
  void disconnect(std::uint64_t node_id);
  void close();

  asio::io_context& io_;
  const WebSocketLinkOptions options_;
  WebSocketLinkEvents& events_;
  std::string relay_;  // this gateway's overlay address
  WebSocketLinkCounters counters_;
  std::unordered_set<std::shared_ptr<Link>> links_;
  std::unordered_map<std::string, std::shared_ptr<Link>> bound_;  // by the browser's address
  std::shared_ptr<LinkListener> listener_;                        // once listening

 private:
  void admit(tcp::socket socket, const asio::ip::address& remote);
  // Binds `link` to the browser at `address` with `node_id`; false (the link is cut) when
  // that node is banned.
  bool bind(Link& link, const std::string& address, std::uint64_t node_id);
  ExpiringSet<std::uint64_t> banned_{kMaxBanned};  // nodes cut off for flooding

  WireMessage scratch_;  // decoding target, reused
  bool closed_ = false;
};

// One browser's link: reads whole WebSocket messages, writes one at a time from a bounded
// queue.
class Link : public std::enable_shared_from_this<Link> {
 public:
  Link(LinkCore& core, tcp::socket socket, asio::ip::address remote)
      : core_(&core), ws_(std::move(socket)), remote_(std::move(remote)) {}

  void start() {
    websocket::stream_base::timeout timeout;
    timeout.handshake_timeout = kHandshakeTimeout;
    timeout.idle_timeout =
        core_->options_.idle_timeout.count() > 0
            ? std::chrono::duration_cast<std::chrono::seconds>(core_->options_.idle_timeout)
            : websocket::stream_base::none();
    // Pings at half the idle time: a tab that vanished without a close is found then.
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(core_->options_.limits.max_publication + kRelayOverhead);
    ws_.auto_fragment(false);
    ws_.async_accept([self = shared_from_this()](const ErrorCode& ec) {
      if (self->core_ == nullptr) return;
      if (ec) return self->core_->forget(*self);
      auto hello = std::make_shared<std::string>(R"({"poldercast":1,"relay":")" +
                                                 self->core_->relay_ + R"("})");
      self->enqueue(std::move(hello), true);
      self->do_read();
    });
  }

  const std::string& address() const { return address_; }
  std::uint64_t node_id() const { return node_id_; }
  void set_node_id(std::uint64_t id) { node_id_ = id; }
  const asio::ip::address& remote() const { return remote_; }
  void set_address(std::string address) { address_ = std::move(address); }
  std::size_t backlog() const { return queued_bytes_; }

  bool enqueue(SharedBytes bytes, bool text = false) {
    if (queued_bytes_ + bytes->size() > core_->options_.max_queue_bytes) {
      ++core_->counters_.queue_full;
      return false;
    }
    queued_bytes_ += bytes->size();
    queue_.push_back({std::move(bytes), text});
    if (!writing_) do_write();
    return true;
  }

  // Closes the socket. Returns how many queued messages that drops (the queue itself stays
  // until the link is gone: a write in flight still points into it).
  std::size_t detach() {
    if (core_ == nullptr) return 0;
    core_ = nullptr;
    ErrorCode ignored;  // nothing to report about a socket we are dropping
    beast::get_lowest_layer(ws_).close(ignored);
    return queue_.size();
  }

 private:
  struct Out {
    SharedBytes bytes;
    bool text;
  };

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(const ErrorCode& ec) {
    if (core_ == nullptr) return;
    if (ec) return core_->forget(*this);  // closed, reset, too large, or silent too long
    const auto data = buffer_.cdata();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (!ws_.got_binary()) {
      ++core_->counters_.malformed;
      return core_->forget(*this);
    }
    core_->on_frame(*this, bytes);
    if (core_ == nullptr) return;
    buffer_.consume(buffer_.size());
    do_read();
  }

  void do_write() {
    writing_ = true;
    const Out& out = queue_.front();
    ws_.text(out.text);
    ws_.async_write(
        asio::buffer(*out.bytes),
        [self = shared_from_this()](const ErrorCode& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const ErrorCode& ec) {
    writing_ = false;
    if (core_ == nullptr) return;
    if (ec) return core_->forget(*this);
    const auto size = queue_.front().bytes->size();
    queued_bytes_ -= size;
    queue_.pop_front();
    ++core_->counters_.messages_out;
    core_->counters_.bytes_out += size;
    if (!queue_.empty()) do_write();
  }

  LinkCore* core_;
  websocket::stream<tcp::socket> ws_;
  const asio::ip::address remote_;
  beast::flat_buffer buffer_;
  std::deque<Out> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  std::string address_;        // the browser's, bound by its first valid message
  std::uint64_t node_id_ = 0;  // its node id, bound with it
};

Result<std::uint16_t> LinkCore::listen(const std::string& host, std::uint16_t port) {
  if (closed_ || listener_) {
    return fail("poldercast.websocket: cannot listen on '" + host +
                "': " + (closed_ ? "closed" : "already listening"));
  }
  listener_ = std::make_shared<LinkListener>(
      io_, "poldercast.websocket",
      ListenerBounds{.max_connections = options_.max_links,
                     .max_per_address = options_.max_links_per_address},
      [weak = weak_from_this()](tcp::socket socket, const asio::ip::address& remote) {
        if (auto self = weak.lock()) self->admit(std::move(socket), remote);
      });
  return listener_->listen(host, port);
}

void LinkCore::admit(tcp::socket socket, const asio::ip::address& remote) {
  auto link = std::make_shared<Link>(*this, std::move(socket), remote);
  links_.insert(link);
  link->start();
}

// Checks one message from a browser: the wire decoder must take it (inside its envelope, if
// it has one), and its sender must be the browser's own undialable address here. Anything
// else is a page that does not follow the protocol: its link is cut.
void LinkCore::on_frame(Link& link, std::string_view bytes) {
  ++counters_.messages_in;
  counters_.bytes_in += bytes.size();
  std::string_view message = bytes, destination;
  DecodeError e = DecodeError::none;
  if (is_relay(bytes)) e = decode_relay(bytes, options_.limits, destination, message);
  if (e == DecodeError::none) e = decode(message, options_.limits, scratch_);
  if (e != DecodeError::none) {
    ++counters_.malformed;
    return forget(link);
  }
  const std::string& from = scratch_.sender.address;
  const std::uint64_t id = scratch_.sender.node_id;
  if (relay_of(from) != relay_ || id == 0 ||
      (!link.address().empty() && (link.address() != from || link.node_id() != id))) {
    ++counters_.foreign_sender;
    return forget(link);
  }
  if (link.address().empty() && !bind(link, from, id)) return;
  if (destination.empty()) {
    events_.on_link_message(message, id);
  } else {
    events_.on_link_relay(std::string(destination), message);
  }
}

// A browser that reconnects keeps its address: the newer link takes it over.
bool LinkCore::bind(Link& link, const std::string& address, std::uint64_t node_id) {
  if (banned_.contains(node_id)) {
    ++counters_.banned;
    forget(link);
    return false;
  }
  auto& slot = bound_[address];
  if (slot) {
    auto older = slot;
    older->set_address({});  // no longer its own: closing it must not report the browser gone
    forget(*older);
  }
  link.set_address(address);
  link.set_node_id(node_id);
  slot = link.shared_from_this();
  return true;
}

void LinkCore::disconnect(std::uint64_t node_id) {
  banned_.add(node_id, std::chrono::steady_clock::now() + options_.ban_duration);
  std::vector<std::shared_ptr<Link>> cut;
  for (const auto& [address, link] : bound_) {
    if (link->node_id() == node_id) cut.push_back(link);
  }
  for (const auto& link : cut) {
    ++counters_.banned;
    forget(*link);
  }
}

void LinkCore::forget(Link& link) {
  auto self = link.shared_from_this();  // alive until the end of this call
  if (links_.erase(self) == 0) return;  // already forgotten
  listener_->release(link.remote());
  counters_.link_closed += link.detach();
  if (link.address().empty()) return;
  auto it = bound_.find(link.address());
  if (it == bound_.end() || it->second != self) return;
  bound_.erase(it);
  events_.on_link_closed(link.address());
}

void LinkCore::close() {
  closed_ = true;
  if (listener_) listener_->close();
  for (const auto& link : links_) counters_.link_closed += link->detach();
  links_.clear();
  bound_.clear();
}

}  // namespace detail

WebSocketLinks::WebSocketLinks(asio::io_context& io, WebSocketLinkOptions options,
                               WebSocketLinkEvents& events)
    : core_(std::make_shared<detail::LinkCore>(io, std::move(options), events)) {}

WebSocketLinks::~WebSocketLinks() { close(); }

Result<std::uint16_t> WebSocketLinks::listen(const std::string& host, std::uint16_t port,
                                             std::string relay) {
  core_->relay_ = std::move(relay);
  return core_->listen(host, port);
}

bool WebSocketLinks::linked(const std::string& address) const {
  return core_->bound_.count(address) > 0;
}

bool WebSocketLinks::send(const std::string& address, const SharedBytes& message) {
  auto it = core_->bound_.find(address);
  if (it == core_->bound_.end()) {
    ++core_->counters_.no_link;
    return false;
  }
  return it->second->enqueue(message);
}

std::size_t WebSocketLinks::backlog(const std::string& address) const {
  auto it = core_->bound_.find(address);
  return it == core_->bound_.end() ? 0 : it->second->backlog();
}

void WebSocketLinks::disconnect(std::uint64_t node_id) { core_->disconnect(node_id); }

void WebSocketLinks::close() { core_->close(); }

WebSocketLinkCounters WebSocketLinks::counters() const {
  auto c = core_->counters_;
  c.open = core_->links_.size();
  if (const auto& listener = core_->listener_) {
    c.accepted = listener->counters().accepted;
    c.refused_no_slot = listener->counters().refused_no_slot;
    c.refused_per_address = listener->counters().refused_per_address;
  }
  return c;
}

}  // namespace psycho::poldercast
