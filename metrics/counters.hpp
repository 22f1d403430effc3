// Hot-path counters. Each worker owns one WorkerCounters and is its only writer, so an
// increment is a plain relaxed load+store on a cache line no other thread writes: no locked
// instruction, no sharing. /metrics sums the workers when scraped. (prometheus-cpp's own
// Counter is an atomic double updated with a CAS loop on a line shared by every thread,
// which is why the hot path does not use it directly.)
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace psycho::metrics {

class Counter {
 public:
  // Single writer only.
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

enum class Transport : std::size_t { tcp, websocket, stdio, count };

// Why a publishing session paused its reading (flow control).
enum class PauseCause : std::size_t { subscriber, adapter, worker_backlog, count };
inline constexpr const char* kPauseCauseNames[] = {"subscriber", "adapter", "worker_backlog"};
static_assert(std::size(kPauseCauseNames) == static_cast<std::size_t>(PauseCause::count));

// Protocol errors sent to clients, by protocol::Error value (index 0 unused).
inline constexpr std::size_t kProtocolErrorSlots = 16;

struct alignas(64) WorkerCounters {
  Counter messages_in;   // PUB/HPUB accepted from clients
  Counter bytes_in;      // their payload bytes (headers + payload)
  Counter messages_out;  // MSG/HMSG queued to clients
  Counter bytes_out;
  Counter slow_consumers;
  Counter stale_connections;
  Counter auth_failures;  // CONNECTs refused, auth timeouts included
  std::array<Counter, static_cast<std::size_t>(Transport::count)> connections_opened;
  std::array<Counter, static_cast<std::size_t>(Transport::count)> connections_closed;
  std::array<Counter, kProtocolErrorSlots> protocol_errors;
  std::array<Counter, static_cast<std::size_t>(PauseCause::count)> publisher_pauses;
};

}  // namespace psycho::metrics
