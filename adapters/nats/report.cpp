#include "adapters/nats/report.hpp"

#include "metrics/json.hpp"

namespace psycho::nats {

namespace {

using Type = metrics::Sample::Type;

constexpr std::array<std::string_view, 4> kStateNames = {"connecting", "connected", "reconnecting",
                                                         "closed"};

double n(std::uint64_t v) { return static_cast<double>(v); }

void samples(const ReportInputs& in, bool ready, std::vector<metrics::Sample>& s) {
  const Counters& c = in.counters;
  metrics::add_sample(s, Type::gauge, "connected", "1 while connected to a NATS server.",
                      ready ? 1.0 : 0.0);
  metrics::add_sample(s, Type::counter, "reconnects_total", "Reconnections to NATS.",
                      n(Counters::get(c.reconnects)));
  metrics::add_sample(s, Type::gauge, "subscriptions", "Subscriptions held on NATS.",
                      n(in.subscriptions));
  metrics::add_sample(s, Type::gauge, "queue_subscriptions",
                      "Queue subscriptions held on NATS for local queue groups.",
                      n(in.queue_subscriptions));
  metrics::add_sample(s, Type::gauge, "queue_bytes", "Bytes waiting for the NATS publisher.",
                      n(in.queue_bytes));
  metrics::add_sample(s, Type::counter, "overlap_copies_total",
                      "Second copies of a message from overlapping NATS subscriptions, skipped.",
                      n(Counters::get(c.overlap_copies)));
  metrics::add_sample(s, Type::counter, "import_stalls_total",
                      "Times delivery from NATS waited for a congested recipient (flow control).",
                      n(Counters::get(c.import_stalls)));
  metrics::add_sample(s, Type::counter, "import_stall_timeouts_total",
                      "Waits for a congested recipient that ran out (time, or nats.c pending "
                      "room); delivery went on.",
                      n(Counters::get(c.import_stall_timeouts)));
}

std::string varz(const ReportInputs& in) {
  metrics::JsonWriter j;
  j.begin_object();
  j.field("bus", in.config.bus);
  j.field("trace_headers", in.trace_headers);
  if (in.connected_url) j.field("connected_url", *in.connected_url);
  j.begin_array("servers");
  for (const auto& s : in.config.servers) j.string(s);
  j.end_array();
  j.begin_array("subscriptions");
  for (const auto& p : in.patterns) j.string(p);
  j.end_array();
  j.begin_array("queue_subscriptions");
  for (const auto& p : in.queue_patterns) j.string(p);
  j.end_array();
  j.end_object();
  return j.take();
}

}  // namespace

void report(const ReportInputs& in, AdapterStatus& st) {
  st.ready = in.state == State::connected;
  st.state = std::string(kStateNames[static_cast<std::size_t>(in.state)]);
  if (!st.ready && !in.last_error.empty()) st.state += " (last error: " + in.last_error + ")";
  in.counters.fill(st.traffic);
  st.traffic.dropped["slow_subscription"] = Counters::get(in.counters.slow_dropped);
  samples(in, st.ready, st.samples);
  in.jetstream.report(st.traffic, st.samples, st.histograms);
  st.varz_json = varz(in);
}

}  // namespace psycho::nats
