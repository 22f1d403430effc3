#include "metrics/adapter_metrics.hpp"

namespace psycho::metrics {

void add_family(std::vector<Sample>& out, Sample::Type type, const char* name, const char* help,
                const char* label, std::initializer_list<std::pair<const char*, double>> values) {
  for (const auto& [value_of_label, value] : values) {
    LabelPairs labels;
    if (label != nullptr) labels.push_back({label, value_of_label});
    out.push_back({type, name, help, std::move(labels), value});
  }
}

void add_sample(std::vector<Sample>& out, Sample::Type type, const char* name, const char* help,
                double value) {
  add_family(out, type, name, help, nullptr, {{"", value}});
}

}  // namespace psycho::metrics
