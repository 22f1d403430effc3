// `psycho bench`: argument parsing and the throughput mode (N publishers -> M subscribers).
#include <unistd.h>

#include <cstdio>

#include "clients/cli/args.hpp"
#include "clients/cli/bench.hpp"
#include "clients/cli/commands.hpp"

namespace psycho::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* bench_usage =
    "usage: psycho bench [--url URL] [--dialect psycho|nats] [--pub N] [--sub M]\n"
    "                    [--size BYTES] [--msgs COUNT | --duration 10s] [--subject S]\n"
    "                    [--sub-url URL] [--sub-dialect psycho|nats]\n"
    "                    [--rtt] [--json] [--progress]\n"
    "  Throughput: N publishers (one connection and thread each) share COUNT messages and\n"
    "  publish as fast as they can; M subscribers count deliveries and measure latency from\n"
    "  a timestamp in the first 8 payload bytes (when --size >= 8).\n"
    "  --rtt: one responder answers, one requester does sequential round trips.\n"
    "  --sub-url: subscribers (and the responder) connect there instead, to measure a\n"
    "  bridged path, e.g. a gateway's NATS adapter: --url tcp://127.0.0.1:4242\n"
    "  --sub-url tcp://127.0.0.1:4222 --sub-dialect nats. Measuring starts once a probe\n"
    "  message has crossed the bridge.\n"
    "  Defaults: --url tcp://127.0.0.1:4242 (4222 with --dialect nats), --pub 1 --sub 1\n"
    "  --size 128, --msgs 1M (10k with --rtt).\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "psycho bench: %s\n%s", why.c_str(), bench_usage);
  return exit_usage;
}

Result<int> parse_positive(const Args& args, std::string_view name, int fallback) {
  auto text = args.get(name);
  if (!text) return fallback;
  auto n = parse_count(*text);
  if (!n || *n == 0 || *n > 10'000) return fail("--" + std::string(name) + " must be 1..10000");
  return static_cast<int>(*n);
}

Status fill_counts(const Args& args, BenchOptions& o, bool rtt) {
  auto pubs = parse_positive(args, "pub", 1);
  auto subs = parse_positive(args, "sub", 1);
  if (!pubs) return fail(pubs.error());
  if (!subs) return fail(subs.error());
  o.pubs = *pubs;
  o.subs = *subs;
  if (auto size = parse_size(args.get_or("size", "128")); size && *size <= 64 * 1024 * 1024) {
    o.size = *size;
  } else {
    return fail("invalid --size");
  }
  if (args.has("msgs") && args.has("duration"))
    return fail("--msgs and --duration exclude each other");
  if (auto d = args.get("duration")) {
    auto ms = parse_duration(*d);
    if (!ms || ms->count() == 0) return fail(ms ? "--duration must be positive" : ms.error());
    o.duration = *ms;
  } else {
    auto n = parse_count(args.get_or("msgs", rtt ? "10000" : "1000000"));
    if (!n || *n == 0) return fail("--msgs must be a positive count");
    o.msgs = *n;
  }
  return Ok{};
}

Result<client::Dialect> parse_dialect(const Args& args, const char* flag) {
  const auto dialect = args.get_or(flag, "psycho");
  if (dialect == "nats") return client::Dialect::nats;
  if (dialect != "psycho") return fail(std::string("--") + flag + " must be psycho or nats");
  return client::Dialect::psycho;
}

Result<BenchOptions> parse_bench(const Args& args) {
  BenchOptions o;
  auto dialect = parse_dialect(args, "dialect");
  if (!dialect) return fail(dialect.error());
  o.dialect = *dialect;
  o.url = args.get_or(
      "url", o.dialect == client::Dialect::nats ? "tcp://127.0.0.1:4222" : "tcp://127.0.0.1:4242");
  o.sub_url = args.get_or("sub-url", "");
  auto sub_dialect = parse_dialect(args, "sub-dialect");
  if (!sub_dialect) return fail(sub_dialect.error());
  o.sub_dialect = *sub_dialect;
  if (auto st = fill_counts(args, o, args.has("rtt")); !st) return fail(st.error());
  o.subject = args.get_or("subject", o.subject);
  o.json = args.has("json");
  o.progress = args.has("progress") || isatty(STDERR_FILENO) != 0;
  return o;
}

}  // namespace

Result<std::unique_ptr<client::Connection>> bench_connection(const BenchOptions& o,
                                                             std::string name, bool subscriber) {
  const bool other_side = subscriber && o.bridged();
  client::Options options;
  options.name = std::move(name);
  options.dialect = other_side ? o.sub_dialect : o.dialect;
  // A few large batches per write keep syscalls rare without hiding latency in the buffer.
  options.max_pending_out = 1024 * 1024;
  return client::Connection::connect(other_side ? o.sub_url : o.url, options);
}

std::int64_t now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

const char* dialect_name(client::Dialect d) {
  return d == client::Dialect::nats ? "nats" : "psycho";
}

std::string percentiles_json(const Histogram& ns) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
                static_cast<double>(ns.percentile(0.50)) / 1e3,
                static_cast<double>(ns.percentile(0.90)) / 1e3,
                static_cast<double>(ns.percentile(0.99)) / 1e3,
                static_cast<double>(ns.max()) / 1e3);
  return buf;
}

std::string percentiles_text(const Histogram& ns) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us",
                static_cast<double>(ns.percentile(0.50)) / 1e3,
                static_cast<double>(ns.percentile(0.90)) / 1e3,
                static_cast<double>(ns.percentile(0.99)) / 1e3,
                static_cast<double>(ns.max()) / 1e3);
  return buf;
}

int run_bench(int argc, char** argv, int first) {
  auto args = Args::parse(argc, argv, first,
                          {"url", "dialect", "sub-url", "sub-dialect", "pub", "sub", "size", "msgs",
                           "duration", "subject"},
                          {"rtt", "json", "progress", "help"});
  if (!args) return usage_error(args.error());
  if (args->has("help")) return std::printf("%s", bench_usage), exit_ok;
  if (!args->positional().empty())
    return usage_error("unexpected argument " + args->positional()[0]);
  auto options = parse_bench(*args);
  if (!options) return usage_error(options.error());
  return args->has("rtt") ? run_rtt(*options) : run_throughput(*options);
}

}  // namespace psycho::cli
