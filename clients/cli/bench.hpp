// Shared pieces of `psycho bench`: its options and result formatting.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "clients/cli/histogram.hpp"
#include "clients/client.hpp"

namespace psycho::cli {

struct BenchOptions {
  std::string url;
  client::Dialect dialect = client::Dialect::psycho;
  // Where subscribers (and the --rtt responder) connect, when that is another server than
  // the publishers': a bridged path such as gateway -> NATS. Empty: the same as `url`.
  std::string sub_url;
  client::Dialect sub_dialect = client::Dialect::psycho;
  bool bridged() const { return !sub_url.empty(); }
  int pubs = 1;
  int subs = 1;
  std::uint64_t size = 128;
  std::uint64_t msgs = 0;  // 0 with `duration`: run for the duration instead
  std::optional<std::chrono::milliseconds> duration;
  std::string subject = "psycho.bench";
  bool json = false;
  bool progress = false;  // stderr progress line (default: only when stderr is a tty)
};

int run_throughput(const BenchOptions& o);
int run_rtt(const BenchOptions& o);

// Both report these at the end; `us` percentiles are computed from nanosecond histograms.
std::string percentiles_json(const Histogram& ns);
std::string percentiles_text(const Histogram& ns);
// A connection configured for benchmarking (dialect, batching), named for server logs; on
// the subscriber side (`--sub-url`) when `subscriber` is set.
Result<std::unique_ptr<client::Connection>> bench_connection(const BenchOptions& o,
                                                             std::string name,
                                                             bool subscriber = false);
// steady_clock in nanoseconds: what publishers embed in payloads and subscribers compare.
std::int64_t now_ns();
const char* dialect_name(client::Dialect d);
double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b);

}  // namespace psycho::cli
