#include "metrics/snapshot.hpp"

#include <functional>
#include <limits>
#include <map>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "metrics/json.hpp"
#include "protocol/errors.hpp"

namespace psycho::metrics {

void Snapshot::add(const WorkerCounters& w) {
  messages_in += w.messages_in.get();
  bytes_in += w.bytes_in.get();
  messages_out += w.messages_out.get();
  bytes_out += w.bytes_out.get();
  slow_consumers += w.slow_consumers.get();
  stale_connections += w.stale_connections.get();
  auth_failures += w.auth_failures.get();
  for (std::size_t i = 0; i < opened.size(); ++i) {
    opened[i] += w.connections_opened[i].get();
    closed[i] += w.connections_closed[i].get();
  }
  for (std::size_t i = 0; i < protocol_errors.size(); ++i) {
    protocol_errors[i] += w.protocol_errors[i].get();
  }
  for (std::size_t i = 0; i < publisher_pauses.size(); ++i) {
    publisher_pauses[i] += w.publisher_pauses[i].get();
  }
}

std::uint64_t Snapshot::connections() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < opened.size(); ++i) n += opened[i] - closed[i];
  return n;
}

std::uint64_t Snapshot::connections_in_handshake() const {
  // Two counters read a moment apart: clamp, so a gauge never shows a negative blip.
  const std::uint64_t started = connections();
  return connection_slots > started ? connection_slots - started : 0;
}

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::tcp:
      return "tcp";
    case Transport::websocket:
      return "websocket";
    case Transport::stdio:
      return "stdio";
    case Transport::count:
      break;
  }
  return "unknown";
}

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

class Families {
 public:
  MetricFamily& family(std::string name, std::string help, MetricType type) {
    families_.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
    return families_.back();
  }
  void counter(std::string name, std::string help, double v, Labels labels = {}) {
    add(family(std::move(name), std::move(help), MetricType::Counter), v, std::move(labels));
  }
  void gauge(std::string name, std::string help, double v, Labels labels = {}) {
    add(family(std::move(name), std::move(help), MetricType::Gauge), v, std::move(labels));
  }
  static void add(MetricFamily& f, double v, Labels labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) m.counter.value = v;
    if (f.type == MetricType::Gauge) m.gauge.value = v;
    f.metric.push_back(std::move(m));
  }
  MetricFamily& at(std::size_t i) { return families_[i]; }
  const std::vector<MetricFamily>& all() const { return families_; }

 private:
  std::vector<MetricFamily> families_;
};

void render_connections(const Snapshot& s, Families& out) {
  auto& open = out.family("psycho_connections", "Client connections now open, by transport.",
                          MetricType::Gauge);
  auto& total =
      out.family("psycho_connections_total", "Client connections accepted.", MetricType::Counter);
  for (std::size_t i = 0; i < s.opened.size(); ++i) {
    Labels l{{"transport", std::string(transport_name(static_cast<Transport>(i)))}};
    Families::add(open, static_cast<double>(s.opened[i] - s.closed[i]), l);
    Families::add(total, static_cast<double>(s.opened[i]), l);
  }
  out.gauge("psycho_connections_in_handshake",
            "Accepted connections still in their TLS handshake or WebSocket upgrade; they "
            "count toward max_connections.",
            static_cast<double>(s.connections_in_handshake()));
  out.counter("psycho_connections_rejected_total",
              "Connections refused because max_connections was reached.",
              static_cast<double>(s.connections_rejected));
}

void render_errors(const Snapshot& s, Families& out) {
  auto& f = out.family("psycho_protocol_errors_total", "-ERR replies sent to clients, by error.",
                       MetricType::Counter);
  for (std::size_t i = 1; i < s.protocol_errors.size(); ++i) {
    const auto text = protocol::wire_text(static_cast<protocol::Error>(i));
    if (text.empty() || text == "Unknown Error") continue;
    Families::add(f, static_cast<double>(s.protocol_errors[i]), {{"error", std::string(text)}});
  }
}

void render_router(const Snapshot& s, Families& out) {
  out.counter("psycho_router_messages_total", "Messages routed (from clients and adapters).",
              static_cast<double>(s.routed));
  out.counter("psycho_router_injected_total", "Messages accepted from adapters.",
              static_cast<double>(s.injected));
  out.counter("psycho_router_no_interest_total", "Routed messages nobody wanted.",
              static_cast<double>(s.no_interest));
  out.counter("psycho_router_queue_fallback_total",
              "Queue-group members picked locally because the fabric that bridges the group "
              "could not take the message.",
              static_cast<double>(s.queue_fallback));
  out.counter("psycho_router_queue_gateway_picks_total",
              "Queue-group members picked here for a message from an adapter whose fabric does "
              "not choose for the group: once per gateway the message reaches.",
              static_cast<double>(s.queue_gateway_picks));
  out.counter("psycho_router_silent_passed_over_total",
              "Subscribers that took nothing since they fell behind, which adapters stopped "
              "waiting for because another recipient kept up.",
              static_cast<double>(s.silent_passed_over));
  auto& drops =
      out.family("psycho_router_dropped_total",
                 "Messages from adapters dropped by the router, by reason.", MetricType::Counter);
  for (std::size_t r = 0; r < kRouterDropReasons; ++r) {
    Families::add(drops, static_cast<double>(s.router_dropped[r]),
                  {{"reason", std::string(kRouterDropNames[r])}});
  }
}

Labels to_labels(const std::string& adapter, const LabelPairs& pairs) {
  Labels labels{{"adapter", adapter}};
  for (const auto& [k, v] : pairs) labels.push_back({k, v});
  return labels;
}

void render_adapter_traffic(const Snapshot& s, Families& out) {
  auto& ready = out.family("psycho_adapter_ready", "1 when the adapter can carry traffic.",
                           MetricType::Gauge);
  auto& messages = out.family("psycho_adapter_messages_total",
                              "Messages carried by an adapter, by direction (in: from its fabric "
                              "into the gateway; out: from the gateway into its fabric).",
                              MetricType::Counter);
  auto& bytes = out.family("psycho_adapter_bytes_total",
                           "Body bytes carried by an adapter, by direction.", MetricType::Counter);
  auto& dropped = out.family("psycho_adapter_dropped_total",
                             "Messages an adapter dropped, by reason.", MetricType::Counter);
  for (const auto& a : s.adapters) {
    const auto& t = a.traffic;
    Families::add(ready, a.ready ? 1 : 0, {{"adapter", a.name}});
    Families::add(messages, static_cast<double>(t.messages_in),
                  {{"adapter", a.name}, {"direction", "in"}});
    Families::add(messages, static_cast<double>(t.messages_out),
                  {{"adapter", a.name}, {"direction", "out"}});
    Families::add(bytes, static_cast<double>(t.bytes_in),
                  {{"adapter", a.name}, {"direction", "in"}});
    Families::add(bytes, static_cast<double>(t.bytes_out),
                  {{"adapter", a.name}, {"direction", "out"}});
    for (const auto& [reason, n] : t.dropped) {
      Families::add(dropped, static_cast<double>(n), {{"adapter", a.name}, {"reason", reason}});
    }
  }
}

// Adapter-specific samples. Samples with one name form one family wherever they stand in
// the list (the first one gives its help and type): a name declared twice is invalid
// exposition, which Prometheus refuses whole.
void render_adapter_samples(const AdapterSnapshot& a, Families& out) {
  std::map<std::string, std::size_t, std::less<>> by_name;  // family name -> out.at() index
  for (const auto& sample : a.samples) {
    std::string name = "psycho_" + a.name + "_" + sample.name;
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      out.family(name, sample.help,
                 sample.type == Sample::Type::counter ? MetricType::Counter : MetricType::Gauge);
      it = by_name.emplace(std::move(name), out.all().size() - 1).first;
    }
    Families::add(out.at(it->second), sample.value, to_labels(a.name, sample.labels));
  }
  for (const auto& h : a.histograms) {
    auto& f = out.family("psycho_" + a.name + "_" + h.name, h.help, MetricType::Histogram);
    ClientMetric m;
    m.label = to_labels(a.name, {});
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      ClientMetric::Bucket b;
      b.cumulative_count = cumulative;
      b.upper_bound = i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = h.sum;
    f.metric.push_back(std::move(m));
  }
}

void render_adapters(const Snapshot& s, Families& out) {
  if (s.adapters.empty()) return;
  render_adapter_traffic(s, out);
  for (const auto& a : s.adapters) render_adapter_samples(a, out);
}

}  // namespace

std::string render_prometheus(const Snapshot& s) {
  Families out;
  out.gauge("psycho_build_info", "Version of the running gateway.", 1, {{"version", s.version}});
  out.gauge("psycho_start_time_seconds", "Start time of the process, Unix seconds.",
            s.start_time_seconds);
  render_connections(s, out);
  out.gauge("psycho_subscriptions", "Client subscriptions held.",
            static_cast<double>(s.subscriptions));
  out.counter("psycho_messages_received_total", "Messages published by clients.",
              static_cast<double>(s.messages_in));
  out.counter("psycho_bytes_received_total", "Body bytes published by clients.",
              static_cast<double>(s.bytes_in));
  out.counter("psycho_messages_delivered_total", "Messages queued to clients.",
              static_cast<double>(s.messages_out));
  out.counter("psycho_bytes_delivered_total", "Body bytes queued to clients.",
              static_cast<double>(s.bytes_out));
  out.counter("psycho_slow_consumers_total",
              "Clients closed because their outbound queue exceeded max_pending.",
              static_cast<double>(s.slow_consumers));
  out.counter("psycho_stale_connections_total",
              "Clients closed because they stopped answering PING.",
              static_cast<double>(s.stale_connections));
  out.counter("psycho_auth_failures_total",
              "Clients refused at authentication (bad credentials, replays, timeouts).",
              static_cast<double>(s.auth_failures));
  auto& pauses = out.family("psycho_publisher_pauses_total",
                            "Times a publishing client's reading was paused (flow control), by "
                            "what was congested.",
                            MetricType::Counter);
  for (std::size_t i = 0; i < s.publisher_pauses.size(); ++i) {
    Families::add(pauses, static_cast<double>(s.publisher_pauses[i]),
                  {{"cause", kPauseCauseNames[i]}});
  }
  render_errors(s, out);
  render_router(s, out);
  render_adapters(s, out);
  return prometheus::TextSerializer().Serialize(out.all());
}

std::string render_varz(const Snapshot& s) {
  JsonWriter j;
  j.begin_object();
  j.field("server_name", s.server_name);
  j.field("version", s.version);
  j.field("uptime_seconds", s.uptime_seconds);
  j.field("connections", s.connections());
  j.field("connections_in_handshake", s.connections_in_handshake());
  j.field("subscriptions", s.subscriptions);
  j.field("in_msgs", s.messages_in);
  j.field("in_bytes", s.bytes_in);
  j.field("out_msgs", s.messages_out);
  j.field("out_bytes", s.bytes_out);
  j.field("slow_consumers", s.slow_consumers);
  j.key("publisher_pauses");
  j.begin_object();
  for (std::size_t i = 0; i < s.publisher_pauses.size(); ++i) {
    j.field(kPauseCauseNames[i], s.publisher_pauses[i]);
  }
  j.end_object();
  j.field("stale_connections", s.stale_connections);
  j.field("auth_failures", s.auth_failures);
  j.key("router");
  j.begin_object();
  j.field("routed", s.routed);
  j.field("injected", s.injected);
  j.field("queue_fallback", s.queue_fallback);
  j.field("queue_gateway_picks", s.queue_gateway_picks);
  j.field("silent_passed_over", s.silent_passed_over);
  for (std::size_t r = 0; r < kRouterDropReasons; ++r) {
    j.field("dropped_" + std::string(kRouterDropNames[r]), s.router_dropped[r]);
  }
  j.end_object();
  j.key("adapters");
  j.begin_object();
  for (const auto& a : s.adapters) {
    j.key(a.name);
    j.begin_object();
    j.field("ready", a.ready);
    j.field("state", a.state);
    j.field("in_msgs", a.traffic.messages_in);
    j.field("in_bytes", a.traffic.bytes_in);
    j.field("out_msgs", a.traffic.messages_out);
    j.field("out_bytes", a.traffic.bytes_out);
    j.key("dropped");
    j.begin_object();
    for (const auto& [reason, n] : a.traffic.dropped) j.field(reason, n);
    j.end_object();
    if (!a.varz_json.empty()) j.field_json("details", a.varz_json);
    j.end_object();
  }
  j.end_object();
  j.end_object();
  return j.take();
}

}  // namespace psycho::metrics
