#include "sim/report.hpp"

#include <cmath>
#include <iomanip>

namespace psycho::sim {

double Report::find(const std::string& protocol, const std::string& phase,
                    const std::string& metric, double fallback) const {
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
    if (it->protocol == protocol && it->phase == phase && it->metric == metric) return it->value;
  }
  return fallback;
}

void Report::write_csv(std::ostream& out) const {
  out << "scenario,protocol,phase,cycle,metric,value\n";
  for (const auto& r : rows_) {
    out << r.scenario << ',' << r.protocol << ',' << r.phase << ',' << r.cycle << ',' << r.metric
        << ',' << std::setprecision(6) << r.value << '\n';
  }
}

void Report::write_json(std::ostream& out) const {
  // Every string here is ours (names of scenarios and metrics): nothing needs escaping.
  out << "[\n";
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const auto& r = rows_[i];
    out << "  {\"scenario\":\"" << r.scenario << "\",\"protocol\":\"" << r.protocol
        << "\",\"phase\":\"" << r.phase << "\",\"cycle\":" << r.cycle << ",\"metric\":\""
        << r.metric << "\",\"value\":" << std::setprecision(6)
        << (std::isfinite(r.value) ? r.value : 0) << '}' << (i + 1 < rows_.size() ? "," : "")
        << '\n';
  }
  out << "]\n";
}

}  // namespace psycho::sim
