#include "metrics/json.hpp"

#include <cmath>
#include <cstdio>

namespace psycho::metrics {

void JsonWriter::separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = false;
}

void JsonWriter::open(char c) {
  separate();
  out_.push_back(c);
}

void JsonWriter::close(char c) {
  out_.push_back(c);
  need_comma_ = true;
}

void JsonWriter::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_.push_back(':');
}

void JsonWriter::string(std::string_view v) {
  separate();  // a no-op after key(); needed between array elements
  append_json_string(out_, v);
  need_comma_ = true;
}

void JsonWriter::raw(std::string_view v) {
  separate();
  out_ += v;
  need_comma_ = true;
}

void JsonWriter::field(std::string_view k, double v) {
  key(k);
  if (!std::isfinite(v)) {
    raw("0");
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  raw(buf);
}

}  // namespace psycho::metrics
