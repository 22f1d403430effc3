#include "adapters/poldercast/stream_transport.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "adapters/poldercast/link_listener.hpp"
#include "adapters/poldercast/stream_core.hpp"
#include "adapters/poldercast/stream_inbound.hpp"
#include "adapters/poldercast/stream_outbound.hpp"
#include "core/host_port.hpp"

namespace psycho::poldercast {

namespace asio = boost::asio;

namespace detail {

Result<std::uint16_t> StreamCore::listen(const std::string& host, std::uint16_t port) {
  if (closed_) return fail("poldercast: cannot listen on '" + host + "': transport closed");
  if (!listener_) {
    listener_ = std::make_shared<LinkListener>(
        io_, "poldercast",
        ListenerBounds{.max_connections = options_.max_connections,
                       .max_per_address = options_.max_connections_per_address},
        [weak = weak_from_this()](tcp::socket socket, const asio::ip::address& remote) {
          if (auto self = weak.lock()) self->admit(std::move(socket), remote);
        });
  }
  return listener_->listen(host, port);
}

void StreamCore::admit(tcp::socket socket, const asio::ip::address& remote) {
  auto c = std::make_shared<Inbound>(*this, std::move(socket), remote);
  inbound_.insert(c);
  c->start();
}

bool StreamCore::send(const std::string& address, std::uint64_t peer, const SharedBytes& message) {
  if (closed_ || message == nullptr || message->empty()) return false;
  if (peer != 0 && banned(peer)) {
    refuse(Refusal::banned);
    return false;
  }
  if (message->size() > options_.max_frame || message->size() > UINT32_MAX) {
    ++counters_.dropped_oversized;
    return false;
  }
  auto it = outbound_.find(address);
  if (it == outbound_.end()) {
    if (resting_.contains(address)) {
      ++counters_.dropped_stalled;
      return false;
    }
    auto target = parse_host_port(address);
    if (!target) {
      ++counters_.dropped_bad_address;
      return false;
    }
    if (outbound_.size() >= options_.max_connections) {
      ++counters_.dropped_no_connection_slot;
      return false;
    }
    it = outbound_.emplace(address, std::make_shared<Outbound>(*this, address)).first;
    it->second->start(*target);
  }
  if (!it->second->enqueue(message, peer)) {
    ++counters_.dropped_queue_full;
    return false;
  }
  return true;
}

void StreamCore::forget(Outbound& c) {
  c.detach();
  // The caller is a handler of `c` that holds a reference: erasing does not destroy it.
  if (auto it = outbound_.find(c.address()); it != outbound_.end() && it->second.get() == &c) {
    outbound_.erase(it);
  }
}

void StreamCore::forget(Inbound& c) {
  c.detach();
  if (inbound_.erase(c.shared_from_this()) == 0) return;  // already forgotten
  listener_->release(c.remote());
}

void StreamCore::disconnect(std::uint64_t peer) {
  if (peer == 0 || !options_.security) return;
  banned_.add(peer, Clock::now() + options_.ban_duration);
  std::vector<std::shared_ptr<Inbound>> in;
  for (const auto& c : inbound_) {
    if (c->peer() == peer) in.push_back(c);
  }
  for (const auto& c : in) forget(*c);
  std::vector<std::shared_ptr<Outbound>> out;
  for (const auto& [address, c] : outbound_) {
    if (c->peer() == peer) out.push_back(c);
  }
  for (const auto& c : out) forget(*c);
  // Publications held up for those links may go on (LinkEvents): nothing else would say so
  // until another link writes. Last: the owner may send() from it.
  if (!out.empty() && links_ != nullptr) links_->on_links_moved();
}

void StreamCore::close() {
  closed_ = true;
  if (listener_) listener_->close();
  for (const auto& entry : outbound_) entry.second->detach();
  for (const auto& c : inbound_) c->detach();
  outbound_.clear();
  inbound_.clear();
}

}  // namespace detail

StreamTransport::StreamTransport(asio::io_context& io, StreamTransportOptions options,
                                 TransportEvents& events, LinkEvents* links)
    : core_(std::make_shared<detail::StreamCore>(io, options, events, links)) {}

StreamTransport::~StreamTransport() { core_->close(); }

Result<std::uint16_t> StreamTransport::listen(const std::string& host, std::uint16_t port) {
  return core_->listen(host, port);
}

bool StreamTransport::send(const std::string& address, std::uint64_t peer,
                           const SharedBytes& message) {
  return core_->send(address, peer, message);
}

std::size_t StreamTransport::backlog(const std::string& address) const {
  auto it = core_->outbound_.find(address);
  return it == core_->outbound_.end() ? 0 : it->second->queued_bytes();
}

bool StreamTransport::backed_up() const { return core_->backed_up_links_ > 0; }

bool StreamTransport::holds_up(const std::string& address) const {
  if (core_->backed_up_links_ == 0) return false;  // the common case, without a lookup
  auto it = core_->outbound_.find(address);
  return it != core_->outbound_.end() && it->second->holds_up();
}

bool StreamTransport::holds_up_past(std::size_t bytes, std::uint64_t except) const {
  if (core_->backed_up_links_ == 0) return false;  // the common case, without a look
  return std::any_of(core_->outbound_.begin(), core_->outbound_.end(), [&](const auto& entry) {
    const detail::Outbound& link = *entry.second;
    return link.holds_up() && link.queued_bytes() > bytes && (except == 0 || link.peer() != except);
  });
}

void StreamTransport::disconnect(std::uint64_t peer) { core_->disconnect(peer); }

void StreamTransport::secure(std::shared_ptr<const LinkSecurity> security) {
  core_->options_.security = std::move(security);
}

void StreamTransport::close() { core_->close(); }

StreamTransportCounters StreamTransport::counters() const {
  StreamTransportCounters c = core_->counters_;
  c.connections_in = core_->inbound_.size();
  c.connections_out = core_->outbound_.size();
  if (const auto& listener = core_->listener_) {
    c.dropped_no_connection_slot += listener->counters().refused_no_slot;
    c.refused_per_address = listener->counters().refused_per_address;
  }
  for (const auto& in : core_->inbound_) c.receive_buffer_bytes += in->buffer_bytes();
  return c;
}

}  // namespace psycho::poldercast
