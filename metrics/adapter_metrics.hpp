// What an adapter reports about itself for /metrics and /varz, as plain values: adapters
// fill these in status() and never touch prometheus-cpp, so the metrics library stays the
// only place that knows the exposition format.
//
// Every adapter reports the same traffic figures (rendered with an `adapter` label, so one
// dashboard panel or alert covers them all) and may add its own samples, named
// psycho_<adapter>_<name>.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace psycho::metrics {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Messages and bytes crossing the adapter, and what it dropped, by reason.
struct AdapterTraffic {
  std::uint64_t messages_in = 0;  // received from the fabric and handed to the router
  std::uint64_t bytes_in = 0;
  std::uint64_t messages_out = 0;  // sent into the fabric
  std::uint64_t bytes_out = 0;
  std::map<std::string, std::uint64_t> dropped;  // reason -> count; reasons are snake_case
};

// One adapter-specific counter or gauge; samples with the same name form one family.
struct Sample {
  enum class Type { counter, gauge };
  Type type = Type::gauge;
  std::string name;  // without the psycho_<adapter>_ prefix; counters end in _total
  std::string help;
  LabelPairs labels;
  double value = 0;
};

// Appends one family to `out`: a sample per value of `label`, or, with `label` nullptr, one
// sample without labels (the first value's label text is then ignored).
void add_family(std::vector<Sample>& out, Sample::Type type, const char* name, const char* help,
                const char* label, std::initializer_list<std::pair<const char*, double>> values);
// Appends one sample without labels.
void add_sample(std::vector<Sample>& out, Sample::Type type, const char* name, const char* help,
                double value);

struct HistogramSample {
  std::string name;  // without the psycho_<adapter>_ prefix
  std::string help;
  std::vector<double> bounds;          // upper bounds, ascending
  std::vector<std::uint64_t> buckets;  // per bound, not cumulative; one more for +Inf
  double sum = 0;
};

// A fixed-bucket histogram any thread may observe into without a lock.
template <std::size_t N>
class Histogram {
 public:
  explicit Histogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

  void observe(double value) noexcept {
    std::size_t i = 0;
    while (i < N && value > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    // A sum in micro-units keeps it an integer atomic; the histogram is for latencies in
    // seconds, where a microsecond is fine resolution.
    sum_micros_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
  }

  HistogramSample sample(std::string name, std::string help) const {
    HistogramSample s{std::move(name), std::move(help), {bounds_.begin(), bounds_.end()}, {}, 0};
    for (const auto& b : buckets_) s.buckets.push_back(b.load(std::memory_order_relaxed));
    s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
    return s;
  }

 private:
  std::array<double, N> bounds_;
  std::array<std::atomic<std::uint64_t>, N + 1> buckets_{};
  std::atomic<std::uint64_t> sum_micros_{0};
};

}  // namespace psycho::metrics
