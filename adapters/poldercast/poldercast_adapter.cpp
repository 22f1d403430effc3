#include "adapters/poldercast/poldercast_adapter.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "adapters/import.hpp"
#include "adapters/interest_table.hpp"
#include "adapters/outbound_queue.hpp"
#include "adapters/poldercast/poldercast_config.hpp"
#include "adapters/poldercast/relaying_transport.hpp"
#include "adapters/poldercast/report.hpp"
#include "adapters/poldercast/stream_transport.hpp"
#include "adapters/poldercast/subject_holds.hpp"
#include "adapters/poldercast/websocket_links.hpp"
#include "core/log.hpp"
#include "poldercast/node.hpp"

namespace psycho::poldercast {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Bytes of publications put on the overlay in one batch at most (with kMaxBatch their
// count): a quarter of a link's 1 MiB high mark, so that mark still paces publishers.
constexpr std::size_t kMaxBatchBytes = 256 * 1024;

// A link that holds up and is past this many quarters of its high mark is crowded: many
// subjects go to one slow peer, each sent a little more before it was held. Everything
// waits for it then, so that the link never reaches the last quarter of its queue, where
// publications are dropped, and what a flood holds stays near the high mark.
constexpr std::size_t kCrowdedQuarters = 5;

// The largest string buffer a publication of the batch keeps for the next (a batch of
// large messages must not leave kMaxBatch of them allocated for good).
constexpr std::size_t kKeptBufferBytes = 2048;

bool has_wildcard(std::string_view pattern) {
  return pattern == ">" || pattern.find('*') != std::string_view::npos || pattern.ends_with(".>");
}

// Everything below runs on the adapter's own event-loop thread, which owns the node and
// the transport; other threads only post to it (send, on_interest, status).
//
// Flow control (on_full: block; docs/poldercast.md, "Flow control: one bound per link"):
// once a publication of a subject went to a link that is backed up (past its high mark),
// that subject's next publications wait in holds_ until the link catches up, and
// flow_for() pauses that subject's publishers meanwhile; other subjects go on. A backed-up
// link that moves nothing for a fifth of stall_timeout stops holding anything up (its peer
// stopped reading; what it held up goes on at once to the others), and is cut after
// stall_timeout.
class PolderCastAdapter final : public Adapter, private TransportEvents, private LinkEvents {
 public:
  explicit PolderCastAdapter(PolderCastConfig config)
      : config_(std::move(config)),
        filter_(std::make_shared<SubjectFilter>(config_.subjects)),
        queue_(config_.queue),
        blocks_(config_.queue.on_full == OnFull::block),
        hold_limit_(config_.queue.bytes),
        crowded_backlog_(config_.transport.high_mark() / 4 * kCrowdedQuarters),
        interest_(filter_),
        timer_(io_) {}

  ~PolderCastAdapter() override { stop(0ms); }

  std::string_view name() const override { return "poldercast"; }
  Status start(AdapterHost& host) override;
  Status listen_for_browsers(const std::string& advertise);
  void stop(std::chrono::milliseconds drain) override;
  bool exports(std::string_view subject) const override { return filter_->exports(subject); }
  // Every exported message is published: the overlay finds its subscribers (FIND_SUB).
  std::vector<std::string> onward_patterns() const override { return filter_->export_patterns(); }
  FlowState flow() const noexcept override;
  FlowState flow_for(const Message& message) const noexcept override;
  void send(const MessagePtr& message) override;
  void on_interest(std::string_view pattern, bool added) override;
  AdapterStatus status() const override;
  std::uint16_t listening_port() const override { return listening_port_; }
  std::vector<ListeningPort> more_listening_ports() const override;

 private:
  // TransportEvents, forwarded to the node (which needs the transport to exist first).
  void on_message(std::string_view bytes, std::uint64_t sender) override {
    open_burst();
    node_->on_message(bytes, sender);
  }
  // What one read of a link brings reaches the router as one burst (AdapterHost::
  // begin_burst), which ends once this turn of the loop is over: the post runs after the
  // handler that read it.
  void open_burst() {
    if (burst_open_ || host_ == nullptr || !host_->begin_burst()) return;
    burst_open_ = true;
    asio::post(io_, [this] {
      burst_open_ = false;
      host_->end_burst();
    });
  }
  // Last: publications held up by a link that was just cut can go to the others now, and
  // the node must know first, or they would reconnect to the peer that stopped reading.
  // (It may come from inside a send(): resume_held() only posts.)
  void on_unreachable(const std::string& address, std::uint64_t peer) override {
    node_->on_unreachable(address, peer);
    resume_held();
  }
  // LinkEvents: a write completed.
  void on_links_moved() override;
  // Reads pause (each for a moment, stream_inbound.cpp) while the gateway is behind on what
  // links deliver, and, with on_full: block, while a link is crowded: what arrives may be
  // relayed there, where it would be dropped in the last quarter. Upstream, the link to
  // us then backs up, and holds up its publishers (or relays) in turn. A link crowded
  // towards the very peer we read from does not count: nothing is relayed back to where it
  // came from, and two ring neighbours that each waited for the other to read first would
  // crawl at one read per pause both ways.
  bool receiving_congested(std::uint64_t peer) override {
    return (host_ != nullptr && host_->congested(WaitFor::congested)) ||
           (blocks_ && transport_->holds_up_past(crowded_backlog_, peer));
  }

  void schedule_drain();
  void drain_queue();
  // Publishes what waited for links that no longer hold it up.
  void release_holds();
  void resume_held();
  void update_flow();
  // A publication of `subject` went to a link that holds up (Node::on_held_up).
  void held_up(std::string_view subject, const std::string& address);
  // Adds `m` to batch_ as a publication of `fabric_subject` (unless it cannot cross,
  // counted), and puts the batch on the overlay once it is full.
  void add_to_batch(const psycho::Message& m, std::string_view fabric_subject);
  void flush_batch();
  void deliver(const Publication& p);
  void apply(const InterestTable::Changes& changes);
  void schedule_tick(std::chrono::milliseconds delay);
  AdapterStatus snapshot() const;

  const PolderCastConfig config_;
  std::shared_ptr<const SubjectFilter> filter_;
  AdapterHost* host_ = nullptr;
  bool burst_open_ = false;  // the loop's thread only
  OutboundQueue queue_;
  const bool blocks_;  // on_full: block
  std::atomic<bool> drain_posted_{false};
  // Taken from queue_ and neither published nor held yet: they wait here while a link is
  // crowded (on_full: block). queue_ is not taken from while anything waits here, nor while
  // holds_ hold as much as queue_'s bound, so all three stay within three times that bound.
  // (A subject's publishers pause once it is held, but what they queued before, up to
  // queue_'s bound, comes to holds_.)
  std::deque<MessagePtr> taken_;
  std::size_t taken_bytes_ = 0;  // OutboundQueue::cost_of, summed over taken_
  SubjectHolds holds_;
  const std::size_t hold_limit_;       // queue_'s bound in bytes
  std::vector<std::string> crowded_;   // addresses of crowded links (kCrowdedQuarters)
  const std::size_t crowded_backlog_;  // a link's backlog past which it is crowded
  bool flushing_ = false;              // stopping: nothing is held any more
  std::string fabric_subject_;         // scratch: the subject being taken, as the overlay's
  std::size_t batch_bytes_ = 0;        // OutboundQueue::cost_of, summed over batch_
  // What flow() reports on top of queue_'s: a crowded link, or too much held, and a count
  // of link writes (progress a paused publisher waits on).
  std::atomic<bool> links_congested_{false};
  std::atomic<std::uint64_t> link_writes_{0};
  InterestTable interest_;
  std::map<InterestTable::SubscriptionId, std::string> rings_by_id_;  // exact fabric subjects

  mutable asio::io_context io_;
  asio::steady_timer timer_;
  std::vector<MessagePtr> draining_;  // a batch taken from queue_, kept to reuse its memory
  // Publications put on the overlay together (one signature): the first batch_size_. Those
  // past it are kept from earlier batches, so that their strings' buffers serve again.
  std::vector<Publication> batch_;
  std::size_t batch_size_ = 0;
  std::shared_ptr<NodeKey> key_;  // set by start()
  // Browsers' links (poldercast.websocket, optional) and what joins them to transport_.
  std::unique_ptr<RelayingTransport> relaying_;
  std::unique_ptr<WebSocketLinks> links_;
  std::unique_ptr<StreamTransport> transport_;
  std::uint16_t listening_port_ = 0;  // set by start()
  std::uint16_t websocket_port_ = 0;
  std::unique_ptr<Node> node_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  bool stopped_ = false;
  std::mt19937_64 jitter_{std::random_device{}()};
  AdapterCounters counters_;
  const Importer<Drop> import_{counters_,
                               {.malformed = Drop::malformed, .not_imported = Drop::not_imported}};
};

// --- life cycle --------------------------------------------------------------------------------

Status PolderCastAdapter::start(AdapterHost& host) {
  host_ = &host;
  relaying_ = std::make_unique<RelayingTransport>(
      static_cast<TransportEvents&>(*this),
      Limits{.max_gossip_message = config_.node.max_gossip_message,
             .max_publication = config_.node.max_publication});
  transport_ = std::make_unique<StreamTransport>(io_, config_.transport, *relaying_,
                                                 static_cast<LinkEvents*>(this));
  auto port = transport_->listen(config_.listen.host, config_.listen.port);
  if (!port) return fail(port.error());  // it names the address and the module already
  listening_port_ = port.value();
  // With an ephemeral listen port, the advertised address takes the real one.
  std::string advertise = config_.advertise;
  if (config_.listen.port == 0 && advertise == config_.listen.to_string()) {
    advertise = config::Endpoint{config_.listen.host, port.value()}.to_string();
  }
  if (auto st = listen_for_browsers(advertise); !st) return st;
  // Keyed by the real address: two gateways on port 0 sharing a state_dir must not share a
  // key. A restart keeps its key only on the same address, as other gateways know it there.
  auto key = load_node_key(config_, advertise);
  if (!key) return fail(key.error());
  key_ = key.value();
  const std::uint64_t id = key_->id();
  // A node in a CA's overlay must hold a certificate for this very key, or every peer would
  // refuse it: say so now rather than after a cycle of refused handshakes.
  if (const auto& a = config_.admission;
      a.ca && !certified(*a.ca, {key_->public_key(), {}, a.certificate}, *key_)) {
    return fail(
        "poldercast: 'admission.certificate_file' is not a current certificate from "
        "'admission.ca' for this node's key " +
        to_hex(
            {reinterpret_cast<const char*>(key_->public_key().data()), key_->public_key().size()}));
  }
  // Nothing was accepted yet: the loop that runs the acceptor starts below.
  if (!config_.plaintext) {
    transport_->secure(std::make_shared<LinkSecurity>(key_, config_.admission));
  }
  node_ = std::make_unique<Node>(config_.node, id, advertise, *relaying_, jitter_());
  node_->set_seeds(config_.seeds);
  if (!config_.plaintext) node_->set_crypto(key_.get());
  node_->on_deliver([this](const Publication& p) { deliver(p); });
  if (blocks_) {
    node_->on_held_up(
        [this](const Publication& p, const std::string& address) { held_up(p.subject, address); });
  }
  apply(interest_.start());
  const std::string_view public_key(reinterpret_cast<const char*>(key_->public_key().data()),
                                    key_->public_key().size());
  log::info("poldercast: listening", {{"address", advertise},
                                      {"node_id", hex_id(id)},
                                      {"node_key", to_hex(public_key)},
                                      {"seeds", config_.seeds.size()}});
  schedule_tick(10ms);  // bootstrap straight away, then once per cycle
  running_.store(true);
  thread_ = std::thread([this] { io_.run(); });
  return Ok{};
}

void PolderCastAdapter::stop(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  if (host_ == nullptr || !thread_.joinable()) return;  // never started
  queue_.close();
  // Tell the neighbours, give the LEAVEs a moment to leave, then close everything.
  asio::post(io_, [this] {
    flushing_ = true;
    drain_queue();
    node_->leave();
  });
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(drain, 200ms));
  asio::post(io_, [this] {
    timer_.cancel();
    if (links_) links_->close();
    transport_->close();
    io_.stop();
  });
  thread_.join();
  running_.store(false);
}

// Browsers link here over WebSocket and name this gateway as their relay; without
// poldercast.websocket the relaying transport only wraps the stream transport.
Status PolderCastAdapter::listen_for_browsers(const std::string& advertise) {
  if (config_.websocket.enabled()) {
    links_ = std::make_unique<WebSocketLinks>(
        io_,
        WebSocketLinkOptions{.limits = {.max_gossip_message = config_.node.max_gossip_message,
                                        .max_publication = config_.node.max_publication},
                             .max_queue_bytes = config_.transport.max_queue_bytes,
                             .max_links = config_.transport.max_connections,
                             .max_links_per_address = config_.websocket_max_per_address,
                             .idle_timeout = config_.transport.idle_timeout,
                             .ban_duration = config_.transport.ban_duration},
        *relaying_);
    auto port = links_->listen(config_.websocket.host, config_.websocket.port, advertise);
    if (!port) return fail(port.error());
    websocket_port_ = port.value();
    log::info("poldercast: browser links listening",
              {{"address", config::Endpoint{config_.websocket.host, port.value()}.to_string()}});
  }
  relaying_->attach(*transport_, links_.get(), advertise);
  return Ok{};
}

std::vector<ListeningPort> PolderCastAdapter::more_listening_ports() const {
  if (!links_) return {};
  return {{"poldercast.websocket", websocket_port_}};
}

void PolderCastAdapter::schedule_tick(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    node_->tick(std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count());
    // ±20% jitter, so that gateways started together do not gossip in lockstep.
    const auto cycle = config_.cycle.count();
    const auto spread = std::uniform_int_distribution<std::int64_t>(-cycle / 5, cycle / 5)(jitter_);
    schedule_tick(std::chrono::milliseconds(cycle + spread));
  });
}

// --- gateway -> overlay --------------------------------------------------------------------------

void PolderCastAdapter::send(const MessagePtr& message) {
  if (!queue_.push(message)) {
    counters_.count(Drop::queue_full);
    return;
  }
  schedule_drain();
}

// One wake-up per burst: the loop takes everything queued at once.
void PolderCastAdapter::schedule_drain() {
  if (!drain_posted_.exchange(true)) asio::post(io_, [this] { drain_queue(); });
}

FlowState PolderCastAdapter::flow() const noexcept {
  FlowState f = queue_.flow();
  f.congested = f.congested || links_congested_.load(std::memory_order_relaxed);
  f.drained += link_writes_.load(std::memory_order_relaxed);
  return f;
}

FlowState PolderCastAdapter::flow_for(const Message& message) const noexcept {
  FlowState f = flow();
  if (!f.congested && holds_.any()) {
    thread_local std::string fabric_subject;
    config_.subjects.to_fabric(message.subject(), fabric_subject);
    f.congested = holds_.holds(fabric_subject);
  }
  return f;
}

// With on_full: block, a subject whose publications went to a backed-up link waits in
// holds_ (in order, behind what waits already) until that link catches up; the others go
// on. A crowded link holds everything up, the rest waiting in taken_ (and in queue_ behind
// it). A link that stops moving no longer holds anything up after a fifth of stall_timeout,
// so a stopped peer holds its subjects up for that long at most. With on_full: drop nothing
// waits, and a link that cannot keep up drops what overflows it (link_busy, link_queue_full).
void PolderCastAdapter::drain_queue() {
  drain_posted_.store(false);
  const bool gated = blocks_ && !flushing_;
  if (gated) {
    release_holds();
  } else if (!holds_.empty()) {
    holds_.take_everything([this](const Message& m) {
      config_.subjects.to_fabric(m.subject(), fabric_subject_);
      add_to_batch(m, fabric_subject_);
    });
  }
  const bool resumed = !taken_.empty();
  if (!resumed && !(gated && holds_.bytes() >= hold_limit_)) {
    draining_.clear();
    queue_.take_all(draining_, 0ms);
    for (auto& m : draining_) {
      taken_bytes_ += OutboundQueue::cost_of(m);
      taken_.push_back(std::move(m));
    }
    draining_.clear();
  }
  while (!taken_.empty() && !(gated && !crowded_.empty())) {
    MessagePtr m = std::move(taken_.front());
    taken_.pop_front();
    taken_bytes_ -= OutboundQueue::cost_of(m);
    config_.subjects.to_fabric(m->subject(), fabric_subject_);
    if (gated && holds_.holding(fabric_subject_)) {
      holds_.hold(fabric_subject_, std::move(m));
    } else {
      add_to_batch(*m, fabric_subject_);
    }
  }
  flush_batch();
  // What arrived while these waited posted a drain that found them waiting: take it now.
  if (resumed && taken_.empty()) schedule_drain();
  update_flow();
}

void PolderCastAdapter::release_holds() {
  // The relaying transport: a browser's address stands for its relay's link.
  const auto holds_up = [this](const std::string& address) { return relaying_->holds_up(address); };
  std::erase_if(crowded_, [&](const std::string& address) { return !holds_up(address); });
  if (!crowded_.empty() || holds_.empty()) return;
  for (const std::string& subject : holds_.release(holds_up)) {
    // A batch at a time, until a link holds the subject up again.
    while (crowded_.empty() && holds_.take(subject, kMaxBatch, kMaxBatchBytes,
                                           [&](const Message& m) { add_to_batch(m, subject); })) {
      flush_batch();
    }
  }
}

void PolderCastAdapter::held_up(std::string_view subject, const std::string& address) {
  holds_.held_up(subject, address);
  if (relaying_->backlog(address) > crowded_backlog_ &&
      std::find(crowded_.begin(), crowded_.end(), address) == crowded_.end()) {
    crowded_.push_back(address);
  }
}

void PolderCastAdapter::on_links_moved() {
  link_writes_.fetch_add(1, std::memory_order_relaxed);
  resume_held();
}

// What waits may go on once its links caught up (a write brought them down, or one was
// found stuck or cut): the drain looks, on its own turn of the loop.
void PolderCastAdapter::resume_held() {
  if (!holds_.empty() || !crowded_.empty()) schedule_drain();
  update_flow();
}

void PolderCastAdapter::update_flow() {
  links_congested_.store(
      blocks_ && (!crowded_.empty() || !taken_.empty() || holds_.bytes() >= hold_limit_),
      std::memory_order_relaxed);
}

void PolderCastAdapter::add_to_batch(const psycho::Message& m, std::string_view fabric_subject) {
  if (m.headers().size() + m.payload().size() > config_.max_payload) {
    counters_.count(Drop::too_large);
    return;
  }
  if (fabric_subject.size() > Limits{}.max_subject || m.reply().size() > Limits{}.max_subject) {
    counters_.count(Drop::too_large);
    return;
  }
  if (batch_size_ == batch_.size()) batch_.emplace_back();
  Publication& p = batch_[batch_size_++];
  reset_keeping_buffers(p, kKeptBufferBytes);
  p.subject = fabric_subject;
  p.reply = m.reply();
  p.headers = m.headers();
  p.payload = m.payload();
  const Trace& t = m.trace();
  p.origin = t.node_id;
  p.seq = t.seq;
  p.bus = t.bus;
  p.hops = t.hops;
  counters_.sent(m.body().size());
  batch_bytes_ += m.subject().size() + m.reply().size() + m.body().size();
  // One signature covers a batch; small enough in bytes that the links' marks still gate
  // what goes out.
  if (batch_size_ >= kMaxBatch || batch_bytes_ >= kMaxBatchBytes) flush_batch();
}

void PolderCastAdapter::flush_batch() {
  if (batch_size_ != 0) node_->publish(std::span<Publication>(batch_.data(), batch_size_));
  batch_size_ = 0;
  batch_bytes_ = 0;
}

// --- overlay -> gateway --------------------------------------------------------------------------

void PolderCastAdapter::deliver(const Publication& p) {
  import_(*host_, origin_id(), config_.subjects, {p.subject, p.reply, p.headers, p.payload},
          Trace{p.origin, p.seq, p.hops, p.bus});
}

// --- interest: which rings to be in --------------------------------------------------------------

void PolderCastAdapter::on_interest(std::string_view pattern, bool added) {
  asio::post(io_, [this, pattern = std::string(pattern), added] {
    apply(interest_.change(pattern, added));
  });
}

// Exact fabric subjects join rings; wildcards cannot (a ring is one exact subject) and are
// counted, so an operator sees why a wildcard subscriber hears nothing from the overlay.
void PolderCastAdapter::apply(const InterestTable::Changes& changes) {
  for (const auto& [id, pattern] : changes.subscribe) {
    if (has_wildcard(pattern)) {
      AdapterCounters::add(counters_.wildcard_interest, 1);
      log::info("poldercast: a wildcard subscription does not join the overlay's rings",
                {{"pattern", pattern}});
      continue;
    }
    rings_by_id_[id] = pattern;
    node_->subscribe(pattern);
  }
  for (auto id : changes.unsubscribe) {
    auto it = rings_by_id_.find(id);
    if (it == rings_by_id_.end()) continue;
    node_->unsubscribe(it->second);
    rings_by_id_.erase(it);
  }
}

// --- status --------------------------------------------------------------------------------------

AdapterStatus PolderCastAdapter::snapshot() const {
  AdapterStatus st;
  const auto transport = transport_->counters();
  const auto& key = key_->public_key();
  report({*node_, transport, counters_, queue_.bytes() + taken_bytes_ + holds_.bytes(),
          holds_.subjects(), crowded_.size(), running_.load(),
          to_hex({reinterpret_cast<const char*>(key.data()), key.size()}), !config_.plaintext},
         st);
  relaying_->report(st);
  return st;
}

AdapterStatus PolderCastAdapter::status() const {
  if (running_.load()) {
    // The node belongs to the event loop: ask it there, briefly.
    auto promise = std::make_shared<std::promise<AdapterStatus>>();
    auto future = promise->get_future();
    asio::post(io_, [this, promise] { promise->set_value(snapshot()); });
    if (future.wait_for(2s) == std::future_status::ready) return future.get();
  }
  AdapterStatus st;
  st.state = "closed";
  return st;
}

}  // namespace

AdapterFactory adapter_factory() {
  return {"poldercast", create_with<PolderCastAdapter>(parse_config), command_line_flags()};
}

}  // namespace psycho::poldercast
