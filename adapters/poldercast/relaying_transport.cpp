#include "adapters/poldercast/relaying_transport.hpp"

#include "metrics/adapter_metrics.hpp"
#include "poldercast/relay.hpp"

namespace psycho::poldercast {

bool RelayingTransport::send(const std::string& address, std::uint64_t peer,
                             const SharedBytes& message) {
  if (links_ != nullptr && links_->linked(address)) return links_->send(address, message);
  const auto relay = relay_of(address);
  if (relay.empty()) return stream_->send(address, peer, message);
  if (relay == self_) {
    // Ours, but its link is gone: the browser left (on_link_closed told the node).
    ++counters_.not_here;
    return false;
  }
  auto envelope = std::make_shared<std::string>();
  encode_relay(address, *message, *envelope);
  ++counters_.relayed;
  return stream_->send(std::string(relay), 0, envelope);
}

// A peer cut off for flooding: a gateway loses its stream links (with security), a page its
// browser link; both are refused for a while.
void RelayingTransport::disconnect(std::uint64_t peer) {
  stream_->disconnect(peer);
  if (links_ != nullptr) links_->disconnect(peer);
}

std::size_t RelayingTransport::backlog(const std::string& address) const {
  if (links_ != nullptr && links_->linked(address)) return links_->backlog(address);
  const auto relay = relay_of(address);
  return stream_->backlog(relay.empty() ? address : std::string(relay));
}

// A browser linked here is never waited for (its link drops what overflows it, counted);
// one linked elsewhere is as slow as the link to its relay.
bool RelayingTransport::holds_up(const std::string& address) const {
  if (!stream_->backed_up()) return false;  // the common case, without parsing the address
  if (links_ != nullptr && links_->linked(address)) return false;
  const auto relay = relay_of(address);
  return stream_->holds_up(relay.empty() ? address : std::string(relay));
}

// A gateway relays only to browsers linked here; it never sends an envelope on to a third
// node, so no envelope travels more than gateway -> gateway -> browser.
void RelayingTransport::on_message(std::string_view bytes, std::uint64_t sender) {
  std::string_view destination, message;
  if (!is_relay(bytes)) return overlay_.on_message(bytes, sender);
  if (decode_relay(bytes, limits_, destination, message) != DecodeError::none) {
    ++counters_.malformed;
    return;
  }
  const std::string to(destination);
  if (links_ == nullptr || !links_->linked(to)) {
    ++counters_.not_here;
    return;
  }
  ++counters_.relayed;
  links_->send(to, std::make_shared<std::string>(message));
}

// What a browser asks this gateway to pass on goes where this gateway would send it.
void RelayingTransport::on_link_relay(const std::string& destination, std::string_view message) {
  if (destination == self_) return overlay_.on_message(message, 0);
  send(destination, 0, std::make_shared<std::string>(message));
}

void RelayingTransport::report(AdapterStatus& st) const {
  using SampleType = metrics::Sample::Type;
  auto& d = st.traffic.dropped;
  d["relay_malformed"] = counters_.malformed;
  d["relay_not_here"] = counters_.not_here;
  metrics::add_sample(st.samples, SampleType::counter, "relayed_total",
                      "Messages passed on for undialable nodes (browsers): envelopes sent towards "
                      "their relay, or opened for a browser linked here.",
                      static_cast<double>(counters_.relayed));
  if (links_ == nullptr) return;
  const WebSocketLinkCounters c = links_->counters();
  d["browser_malformed"] = c.malformed;
  d["browser_foreign_sender"] = c.foreign_sender;
  d["browser_queue_full"] = c.queue_full;
  d["browser_no_link"] = c.no_link;
  d["browser_link_closed"] = c.link_closed;
  d["browser_no_slot"] = c.refused_no_slot;
  d["browser_address_limit"] = c.refused_per_address;
  d["browser_banned"] = c.banned;
  metrics::add_sample(st.samples, SampleType::gauge, "browser_links",
                      "Open overlay links that browsers opened over WebSocket.",
                      static_cast<double>(c.open));
  metrics::add_family(
      st.samples, SampleType::counter, "browser_messages_total",
      "Overlay messages over browser links, by direction.", "direction",
      {{"in", static_cast<double>(c.messages_in)}, {"out", static_cast<double>(c.messages_out)}});
}

}  // namespace psycho::poldercast
