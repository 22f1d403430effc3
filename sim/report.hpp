// psycho-sim's results: one row per measured value, in long format
// (scenario, protocol, phase, cycle, metric, value), written as CSV or JSON, plus a short
// human summary on standard output.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace psycho::sim {

struct Row {
  std::string scenario, protocol, phase;
  int cycle = -1;  // -1: not tied to a cycle
  std::string metric;
  double value = 0;
};

class Report {
 public:
  void add(Row row) { rows_.push_back(std::move(row)); }
  const std::vector<Row>& rows() const noexcept { return rows_; }
  // The value of the last row matching, or `fallback`.
  double find(const std::string& protocol, const std::string& phase, const std::string& metric,
              double fallback = -1) const;
  void write_csv(std::ostream& out) const;
  void write_json(std::ostream& out) const;

 private:
  std::vector<Row> rows_;
};

}  // namespace psycho::sim
