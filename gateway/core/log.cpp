#include "core/log.hpp"

#include "core/json_string.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace psycho::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::info)};
std::atomic<bool> json_format{false};
std::atomic<int> output_fd{STDERR_FILENO};

std::string_view level_name(Level l, bool lower) {
  switch (l) {
    case Level::trace:
      return lower ? "trace" : "TRACE";
    case Level::debug:
      return lower ? "debug" : "DEBUG";
    case Level::info:
      return lower ? "info" : "INFO";
    case Level::warn:
      return lower ? "warn" : "WARN";
    case Level::error:
      return lower ? "error" : "ERROR";
    case Level::off:
      break;
  }
  return "";
}

void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  out += buf;
}

// Text values are quoted only when they would otherwise be ambiguous.
void append_text_value(std::string& out, std::string_view v) {
  const bool plain = !v.empty() && v.find_first_of(" \t\n\r\"=") == std::string_view::npos;
  if (plain) {
    out += v;
  } else {
    append_json_string(out, v);
  }
}

void append_value(std::string& out, const Field& f, bool json) {
  char buf[32];
  switch (f.kind) {
    case Field::Kind::text:
      json ? append_json_string(out, f.text) : append_text_value(out, f.text);
      return;
    case Field::Kind::int64:
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(f.i));
      break;
    case Field::Kind::uint64:
      std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(f.u));
      break;
    case Field::Kind::real:
      std::snprintf(buf, sizeof buf, "%.6g", f.d);
      break;
    case Field::Kind::boolean:
      std::snprintf(buf, sizeof buf, "%s", f.b ? "true" : "false");
      break;
  }
  out += buf;
}

void format(std::string& out, Level level, std::string_view message, Fields fields, bool json) {
  if (json) {
    out += "{\"ts\":\"";
    append_timestamp(out);
    out += "\",\"level\":\"";
    out += level_name(level, true);
    out += "\",\"msg\":";
    append_json_string(out, message);
    for (const Field& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      append_value(out, f, true);
    }
    out += "}\n";
    return;
  }
  append_timestamp(out);
  out.push_back(' ');
  out += level_name(level, false);
  out.push_back(' ');
  out += message;
  for (const Field& f : fields) {
    out.push_back(' ');
    out += f.key;
    out.push_back('=');
    append_value(out, f, false);
  }
  out.push_back('\n');
}

}  // namespace

void configure(const config::LogConfig& config) {
  min_level.store(static_cast<int>(config.level), std::memory_order_relaxed);
  json_format.store(config.format == config::LogFormat::json, std::memory_order_relaxed);
}

bool enabled(Level level) noexcept {
  return level != Level::off &&
         static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void set_output_fd(int fd) noexcept { output_fd.store(fd, std::memory_order_relaxed); }

void write(Level level, std::string_view message, Fields fields) {
  thread_local std::string line;
  line.clear();
  format(line, level, message, fields, json_format.load(std::memory_order_relaxed));
  const int fd = output_fd.load(std::memory_order_relaxed);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n <= 0) return;  // nowhere to log to; dropping the line is all we can do
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace psycho::log
