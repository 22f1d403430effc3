// A minimal streaming JSON writer for /varz and the INFO line: no DOM, correct escaping,
// commas handled by the writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_string.hpp"

namespace psycho::metrics {

class JsonWriter {
 public:
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void key(std::string_view k);
  void field(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void field(std::string_view k, const char* v) {
    key(k);
    string(v);
  }
  void field(std::string_view k, const std::string& v) {
    key(k);
    string(v);
  }
  void field(std::string_view k, bool v) {
    key(k);
    raw(v ? "true" : "false");
  }
  void field(std::string_view k, std::uint64_t v) {
    key(k);
    raw(std::to_string(v));
  }
  void field(std::string_view k, std::int64_t v) {
    key(k);
    raw(std::to_string(v));
  }
  void field(std::string_view k, int v) {
    key(k);
    raw(std::to_string(v));
  }
  void field(std::string_view k, double v);
  // `json` is already a complete JSON value (e.g. an object another writer produced).
  void field_json(std::string_view k, std::string_view json) {
    key(k);
    raw(json);
  }
  void begin_array() { open('['); }
  void begin_array(std::string_view k) {
    key(k);
    begin_array();
  }
  void end_array() { close(']'); }
  void string(std::string_view v);
  std::string take() { return std::move(out_); }

 private:
  void open(char c);
  void close(char c);
  void raw(std::string_view v);
  void separate();

  std::string out_;
  bool need_comma_ = false;
};

}  // namespace psycho::metrics
