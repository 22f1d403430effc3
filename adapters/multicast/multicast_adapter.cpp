#include "adapters/multicast/multicast_adapter.hpp"

#include "adapters/multicast/multicast_adapter_impl.hpp"

namespace psycho::multicast {

// --- life cycle ---------------------------------------------------------------------------

Status MulticastAdapter::start(AdapterHost& host) {
  host_ = &host;
  node_ = host.node_id();
  drop_rng_.seed(static_cast<std::minstd_rand::result_type>(node_));
  auto socket = Socket::open(config_);
  if (!socket) return fail(socket.error());
  socket_ = std::move(socket.value());
  if (!socket_.ignore_sender(node_)) {
    log::info("multicast: the kernel refused the socket filter; own datagrams are dropped here");
  }
  {
    MutexLock lock(interest_mutex_);
    local_interest_.start();  // the import list: wanted at all times
  }
  log::info("multicast: joined", {{"group", config_.group}, {"port", config_.port}});
  if (config_.test_drop_rate > 0) {
    log::warn("multicast: test_drop_rate is set: received datagrams are dropped on purpose",
              {{"rate", config_.test_drop_rate}});
  }
  sender_ = std::thread([this] { run_sender(); });
  receiver_ = std::thread([this] { run_receiver(); });
  running_.store(true);
  return Ok{};
}

void MulticastAdapter::stop(std::chrono::milliseconds) {
  if (stopped_) return;
  stopped_ = true;
  if (host_ == nullptr) return;  // never started
  running_.store(false);
  queue_.close();  // the sender sends what is queued, then returns
  if (sender_.joinable()) sender_.join();
  stopping_.store(true);
  if (receiver_.joinable()) receiver_.join();
}

// --- status -------------------------------------------------------------------------------

AdapterStatus MulticastAdapter::status() const {
  AdapterStatus st;
  st.ready = running_.load();
  st.state = st.ready ? "joined" : "closed";
  MutexLock lock(receive_mutex_);
  ReportInputs in{config_, node_, counters_, reassembly_, peers_, queue_.bytes(),
                  0,       0,     {},        {},          {},     0};
  in.wants = group_interest_.peers();
  in.held_bytes = held_.bytes();
  {
    MutexLock interest_lock(interest_mutex_);
    in.own_interest = own_interest_;
  }
  {
    MutexLock window_lock(window_mutex_);
    in.window_bytes = window_.bytes();
    in.next_seq = window_.next_seq();
  }
  if (const auto ring = keys()) {
    for (const auto& k : ring->keys()) in.key_ids.push_back(k.id);
  }
  in.replay_senders = opener_.senders();
  report(in, st);
  return st;
}

// --- reload -------------------------------------------------------------------------------

// The key file may name other keys, or be another file; nothing else changes live, and
// neither does whether the group is keyed (every gateway would have to switch at once).
Status MulticastAdapter::reconfigure(const config::AdapterSection& section, bool apply) {
  auto next = parse_config(section);
  if (!next) return fail(next.error());
  if (next->restart_keys != config_.restart_keys || next->keys.empty() != config_.keys.empty()) {
    return fail(
        "multicast: only 'keys' (the file, and the keys it holds) changes while running; "
        "anything else in the section, and keying an unkeyed group or the reverse, needs a "
        "restart");
  }
  if (!apply || next->keys == running_keys_) return Ok{};
  running_keys_ = next->keys;
  auto ring = std::make_shared<const KeyRing>(running_keys_, config_.encrypt);
  {
    MutexLock lock(keys_mutex_);
    keys_ = std::move(ring);
  }
  std::string accepted;
  for (const auto& k : running_keys_) {
    accepted += (accepted.empty() ? "" : ",") + std::to_string(k.id);
  }
  log::info("multicast: keys reloaded",
            {{"send", std::to_string(running_keys_.front().id)}, {"accepted", accepted}});
  return Ok{};
}

AdapterFactory adapter_factory() {
  return {"multicast", create_with<MulticastAdapter>(parse_config), command_line_flags()};
}

}  // namespace psycho::multicast
