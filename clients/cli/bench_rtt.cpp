// `psycho bench --rtt`: one responder echoes requests, one requester measures sequential
// request/reply round trips.
#include <cstdio>

#include "clients/cli/args.hpp"
#include "clients/cli/bench.hpp"

namespace psycho::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Round trips before measuring: first-use costs (inbox SUB, allocations, caches) are not
// what the benchmark is about.
constexpr int warmup_round_trips = 100;

Result<std::unique_ptr<client::Connection>> start_responder(const BenchOptions& o) {
  auto conn = bench_connection(o, "psycho-bench-responder", true);
  if (!conn) return conn;
  client::Connection* raw = conn->get();
  // Runs on the responder's I/O thread; publish() there never blocks.
  raw->on_message([raw](const client::MessageView& m) {
    if (!m.reply.empty()) (void)raw->publish(m.reply, m.payload);
  });
  if (auto st = raw->subscribe(o.subject); !st) return fail(st.error());
  if (auto st = raw->flush(10s); !st) return fail(st.error());
  return conn;
}

void print_progress(std::uint64_t done, const BenchOptions& o) {
  if (o.duration) {
    std::fprintf(stderr, "\rround trips %llu   ", static_cast<unsigned long long>(done));
  } else {
    std::fprintf(stderr, "\rround trips %llu of %llu   ", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(o.msgs));
  }
}

// Sequential round trips until the count or the duration is reached; returns the seconds
// spent measuring (warm-up excluded).
Result<double> measure(client::Connection& requester, const BenchOptions& o, Histogram& rtt) {
  const std::string payload(o.size, 'r');
  // Across a bridge the first requests may be lost while it subscribes upstream (to the
  // subject and to the requester's inbox): retry until one is answered.
  for (int attempt = 0; o.bridged(); ++attempt) {
    if (requester.request(o.subject, payload, 500ms)) break;
    if (attempt == 20) return fail("no request crossed the bridge within 10 s");
  }
  for (int i = 0; i < warmup_round_trips; ++i) {
    if (auto r = requester.request(o.subject, payload, 5s); !r) return fail(r.error());
  }
  const auto start = Clock::now();
  const auto deadline = start + o.duration.value_or(0ms);
  auto last_print = start;
  for (std::uint64_t done = 0; o.duration || done < o.msgs; ++done) {
    const auto t0 = Clock::now();
    if (auto r = requester.request(o.subject, payload, 5s); !r) return fail(r.error());
    const auto t1 = Clock::now();
    rtt.record(static_cast<std::uint64_t>((t1 - t0).count()));
    if (o.duration && t1 >= deadline) break;
    if (o.progress && t1 - last_print >= 250ms) {
      print_progress(done, o);
      last_print = t1;
    }
  }
  if (o.progress) std::fputc('\n', stderr);
  return seconds_between(start, Clock::now());
}

void print_result(const BenchOptions& o, const Histogram& rtt, double secs) {
  const double per_sec = secs > 0 ? static_cast<double>(rtt.count()) / secs : 0;
  if (o.json) {
    std::printf(
        "{\"mode\":\"rtt\",\"dialect\":\"%s\",\"url\":\"%s\",\"size\":%llu,"
        "\"round_trips\":%llu,\"seconds\":%.6f,\"round_trips_per_sec\":%.0f,\"rtt_us\":%s}\n",
        dialect_name(o.dialect), o.url.c_str(), static_cast<unsigned long long>(o.size),
        static_cast<unsigned long long>(rtt.count()), secs, per_sec, percentiles_json(rtt).c_str());
    return;
  }
  std::printf("psycho bench --rtt %s (%s): %llu B payload\n", o.url.c_str(),
              dialect_name(o.dialect), static_cast<unsigned long long>(o.size));
  std::printf("  %llu round trips in %.3f s (%.0f/s)\n",
              static_cast<unsigned long long>(rtt.count()), secs, per_sec);
  std::printf("  rtt  %s\n", percentiles_text(rtt).c_str());
}

}  // namespace

int run_rtt(const BenchOptions& o) {
  auto responder = start_responder(o);
  if (!responder) {
    std::fprintf(stderr, "psycho bench: %s\n", responder.error().c_str());
    return exit_error;
  }
  auto requester = bench_connection(o, "psycho-bench-requester");
  if (!requester) {
    std::fprintf(stderr, "psycho bench: %s\n", requester.error().c_str());
    return exit_error;
  }
  Histogram rtt;
  auto secs = measure(**requester, o, rtt);
  if (!secs) {
    std::fprintf(stderr, "psycho bench: %s\n", secs.error().c_str());
    return exit_error;
  }
  print_result(o, rtt, *secs);
  return exit_ok;
}

}  // namespace psycho::cli
