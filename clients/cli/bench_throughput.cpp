// `psycho bench` throughput mode: N publishers -> M subscribers on one subject.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "clients/cli/args.hpp"
#include "clients/cli/bench.hpp"

namespace psycho::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Abort when neither publishing nor delivering advanced for this long.
constexpr auto stall_timeout = 5s;

// What one subscriber accumulates on its connection's I/O thread. The atomics are read by
// the main thread while running (single writer, so relaxed load+store is enough); the
// histogram only after the connection is closed and its thread joined.
struct SubStats {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::int64_t> last_ns{0};
  Histogram latency;
};

struct PubState {
  std::atomic<std::uint64_t> published{0};
  std::atomic<bool> done{false};
  std::int64_t finished_ns = 0;  // written before `done` is released
  std::string error;
};

struct Run {
  explicit Run(const BenchOptions& options) : o(options) {}
  const BenchOptions& o;
  std::vector<std::unique_ptr<SubStats>> sub_stats;
  std::vector<std::unique_ptr<client::Connection>> subs;
  std::vector<std::unique_ptr<PubState>> pub_states;
  std::vector<std::unique_ptr<client::Connection>> pubs;
  std::int64_t start_ns = 0;
  bool stalled = false;
};

client::MessageHandler counting_handler(SubStats& s) {
  return [&s](const client::MessageView& m) {
    const std::int64_t now = now_ns();
    s.received.store(s.received.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    s.last_ns.store(now, std::memory_order_relaxed);
    if (m.payload.size() < 8) return;
    std::int64_t sent = 0;
    std::memcpy(&sent, m.payload.data(), sizeof sent);
    if (sent > 0 && now >= sent) s.latency.record(static_cast<std::uint64_t>(now - sent));
  };
}

// Across a bridge, a flushed SUB does not mean the path is up: the bridge subscribes
// upstream on its own time. Probes (too short to carry a timestamp) go out one at a time
// until every subscriber has seen one; then the counters start from zero.
Status probe_bridge(Run& run) {
  const auto deadline = Clock::now() + 10s;
  auto everyone_heard = [&] {
    for (const auto& s : run.sub_stats) {
      if (s->received.load(std::memory_order_relaxed) == 0) return false;
    }
    return true;
  };
  while (!everyone_heard()) {
    if (Clock::now() > deadline) return fail("no probe crossed the bridge within 10 s");
    if (auto st = run.pubs.front()->publish(run.o.subject, "probe"); !st) return st;
    if (auto st = run.pubs.front()->flush(5s); !st) return st;
    const auto wait_until = Clock::now() + 50ms;
    while (!everyone_heard() && Clock::now() < wait_until) std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(100ms);  // a probe still crossing must not count as traffic
  for (auto& s : run.sub_stats) s->received.store(0, std::memory_order_relaxed);
  return Ok{};
}

Status connect_all(Run& run) {
  for (int i = 0; i < run.o.subs; ++i) {
    auto conn = bench_connection(run.o, "psycho-bench-sub-" + std::to_string(i), true);
    if (!conn) return fail(conn.error());
    run.sub_stats.push_back(std::make_unique<SubStats>());
    (*conn)->on_message(counting_handler(*run.sub_stats.back()));
    if (auto st = (*conn)->subscribe(run.o.subject); !st) return st;
    run.subs.push_back(std::move(*conn));
  }
  // Publishing starts only once every SUB is in place on the server.
  for (auto& conn : run.subs) {
    if (auto st = conn->flush(10s); !st) return st;
  }
  for (int i = 0; i < run.o.pubs; ++i) {
    auto conn = bench_connection(run.o, "psycho-bench-pub-" + std::to_string(i));
    if (!conn) return fail(conn.error());
    run.pubs.push_back(std::move(*conn));
    run.pub_states.push_back(std::make_unique<PubState>());
  }
  return run.o.bridged() ? probe_bridge(run) : Ok{};
}

void publish_loop(client::Connection& conn, const BenchOptions& o, std::uint64_t count,
                  Clock::time_point deadline, PubState& state) {
  std::string payload(o.size, 'x');
  const bool stamp = o.size >= 8;
  Status st = Ok{};
  std::uint64_t sent = 0;
  while (o.duration || sent < count) {
    if (stamp) {
      const std::int64_t ts = now_ns();
      std::memcpy(payload.data(), &ts, sizeof ts);
    }
    if (st = conn.publish(o.subject, payload); !st) break;
    ++sent;
    if ((sent & 255) == 0) {
      state.published.store(sent, std::memory_order_relaxed);
      if (o.duration && Clock::now() >= deadline) break;
    }
  }
  state.published.store(sent, std::memory_order_relaxed);
  if (st) st = conn.flush(60s);
  if (!st) state.error = st.error();
  state.finished_ns = now_ns();
  state.done.store(true, std::memory_order_release);
}

struct Totals {
  std::uint64_t published = 0;
  std::uint64_t received = 0;
  bool pubs_done = true;
};

Totals totals(const Run& run) {
  Totals t;
  for (const auto& p : run.pub_states) {
    t.published += p->published.load(std::memory_order_relaxed);
    t.pubs_done = t.pubs_done && p->done.load(std::memory_order_acquire);
  }
  for (const auto& s : run.sub_stats) t.received += s->received.load(std::memory_order_relaxed);
  return t;
}

void print_progress(const Run& run, const Totals& t) {
  const double secs = static_cast<double>(now_ns() - run.start_ns) / 1e9;
  std::fprintf(stderr, "\r%6.1fs  published %llu  delivered %llu of %llu   ", secs,
               static_cast<unsigned long long>(t.published),
               static_cast<unsigned long long>(t.received),
               static_cast<unsigned long long>(t.published * run.subs.size()));
}

// Polls until subscribers got everything the publishers sent, or nothing moved for
// stall_timeout. Polling (not signalling) keeps the hot paths free of notifications.
void monitor(Run& run) {
  auto last_change = Clock::now();
  auto last_print = Clock::time_point{};
  Totals last{};
  for (;;) {
    std::this_thread::sleep_for(10ms);
    const auto now = Clock::now();
    const Totals t = totals(run);
    if (t.published != last.published || t.received != last.received) last_change = now;
    last = t;
    if (run.o.progress && now - last_print >= 250ms) {
      print_progress(run, t);
      last_print = now;
    }
    if (t.pubs_done && t.received >= t.published * run.subs.size()) break;
    if (now - last_change > stall_timeout) {
      run.stalled = true;
      break;
    }
  }
  if (run.o.progress) std::fputc('\n', stderr);
}

struct Outcome {
  Totals totals;
  double pub_secs = 0;
  double sub_secs = 0;
  Histogram latency;
  std::string error;  // first publisher or subscriber failure, if any
};

double rate(std::uint64_t n, double secs) { return secs > 0 ? static_cast<double>(n) / secs : 0; }

Outcome collect(const Run& run) {
  Outcome out;
  out.totals = totals(run);
  std::int64_t pub_end = run.start_ns, sub_end = run.start_ns;
  for (const auto& p : run.pub_states) {
    pub_end = std::max(pub_end, p->finished_ns);
    if (out.error.empty() && !p->error.empty()) out.error = "publisher: " + p->error;
  }
  for (const auto& s : run.sub_stats) {
    sub_end = std::max(sub_end, s->last_ns.load(std::memory_order_relaxed));
    out.latency.merge(s->latency);
  }
  out.pub_secs = static_cast<double>(pub_end - run.start_ns) / 1e9;
  out.sub_secs = static_cast<double>(sub_end - run.start_ns) / 1e9;
  return out;
}

void print_json(const Run& run, const Outcome& r, bool complete) {
  const auto& o = run.o;
  const auto expected = r.totals.published * run.subs.size();
  const double pub_rate = rate(r.totals.published, r.pub_secs);
  const double sub_rate = rate(r.totals.received, r.sub_secs);
  const auto size = static_cast<double>(o.size);
  std::printf(
      "{\"mode\":\"throughput\",\"dialect\":\"%s\",\"url\":\"%s\",\"pubs\":%d,\"subs\":%d,"
      "\"size\":%llu,\"published\":%llu,\"expected\":%llu,\"received\":%llu,"
      "\"pub_seconds\":%.6f,\"sub_seconds\":%.6f,\"pub_msgs_per_sec\":%.0f,"
      "\"sub_msgs_per_sec\":%.0f,\"pub_mb_per_sec\":%.2f,\"sub_mb_per_sec\":%.2f,"
      "\"latency_us\":%s,\"complete\":%s}\n",
      dialect_name(o.dialect), o.url.c_str(), o.pubs, o.subs,
      static_cast<unsigned long long>(o.size), static_cast<unsigned long long>(r.totals.published),
      static_cast<unsigned long long>(expected), static_cast<unsigned long long>(r.totals.received),
      r.pub_secs, r.sub_secs, pub_rate, sub_rate, pub_rate * size / 1e6, sub_rate * size / 1e6,
      percentiles_json(r.latency).c_str(), complete ? "true" : "false");
}

void print_text(const Run& run, const Outcome& r) {
  const auto& o = run.o;
  const double pub_rate = rate(r.totals.published, r.pub_secs);
  const double sub_rate = rate(r.totals.received, r.sub_secs);
  const auto size = static_cast<double>(o.size);
  std::printf("psycho bench %s (%s): %d pub -> %d sub, %llu B messages\n", o.url.c_str(),
              dialect_name(o.dialect), o.pubs, o.subs, static_cast<unsigned long long>(o.size));
  std::printf("  pub      %12.0f msgs/s  %9.2f MB/s  (%llu msgs in %.3f s)\n", pub_rate,
              pub_rate * size / 1e6, static_cast<unsigned long long>(r.totals.published),
              r.pub_secs);
  std::printf("  sub      %12.0f msgs/s  %9.2f MB/s  (%llu of %llu deliveries in %.3f s)\n",
              sub_rate, sub_rate * size / 1e6, static_cast<unsigned long long>(r.totals.received),
              static_cast<unsigned long long>(r.totals.published * run.subs.size()), r.sub_secs);
  if (r.latency.count() > 0) std::printf("  latency  %s\n", percentiles_text(r.latency).c_str());
}

// Runs the publishers to completion (or until monitor() gives up) and stops every connection,
// so that all per-subscriber state may be read afterwards.
std::string drive(Run& run) {
  const auto& o = run.o;
  run.start_ns = now_ns();
  const auto deadline = Clock::now() + o.duration.value_or(0ms);
  const auto n = static_cast<std::uint64_t>(o.pubs);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < run.pubs.size(); ++i) {
    const std::uint64_t count = o.msgs / n + (i < o.msgs % n ? 1 : 0);
    threads.emplace_back(publish_loop, std::ref(*run.pubs[i]), std::cref(o), count, deadline,
                         std::ref(*run.pub_states[i]));
  }
  monitor(run);
  // Closing unblocks a publisher waiting for buffer room on a server that stopped reading.
  if (run.stalled) {
    for (auto& p : run.pubs) p->close();
  }
  for (auto& t : threads) t.join();
  std::string sub_error;
  for (auto& s : run.subs) {
    if (sub_error.empty() && !s->is_open()) sub_error = "subscriber: " + s->closed_reason();
    s->close();  // joins its I/O thread: the histogram is ours to read from here on
  }
  return sub_error;
}

}  // namespace

int run_throughput(const BenchOptions& o) {
  Run run(o);
  if (auto st = connect_all(run); !st) {
    std::fprintf(stderr, "psycho bench: %s\n", st.error().c_str());
    return exit_error;
  }
  const std::string sub_error = drive(run);
  Outcome r = collect(run);
  if (r.error.empty()) r.error = sub_error;
  const bool complete =
      r.error.empty() && !run.stalled && r.totals.received >= r.totals.published * run.subs.size();
  if (o.json) {
    print_json(run, r, complete);
  } else {
    print_text(run, r);
  }
  if (!r.error.empty()) std::fprintf(stderr, "psycho bench: %s\n", r.error.c_str());
  if (run.stalled) std::fprintf(stderr, "psycho bench: stopped: no progress for 5 s\n");
  return complete ? exit_ok : exit_error;
}

}  // namespace psycho::cli
