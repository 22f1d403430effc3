#include "core/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/json_string.hpp"

namespace psycho::log {
namespace {

std::atomic<bool> json_format{false};
std::atomic<int> output_fd{STDERR_FILENO};

std::string_view level_name(Level l, bool json) {
  switch (l) {
    case Level::trace:
      return json ? "trace" : "TRACE";
    case Level::debug:
      return json ? "debug" : "DEBUG";
    case Level::info:
      return json ? "info" : "INFO";
    case Level::warn:
      return json ? "warn" : "WARN";
    case Level::error:
      return json ? "error" : "ERROR";
    case Level::off:
      break;
  }
  return "";
}

// gmtime_r and the date formatting run once per second per thread, not once per line.
void append_timestamp(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[80];  // 20 used; sized for what -Wformat-truncation can prove
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  if (secs != cached_second) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = secs;
  }
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms.count() % 1000));
  out += cached;
  out += millis;
}

bool needs_escape(std::string_view v, std::string_view specials) {
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f || specials.find(static_cast<char>(c)) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// The message stays unquoted (it is what people read) but never breaks the line.
void append_text_message(std::string& out, std::string_view m) {
  if (!needs_escape(m, "")) {
    out += m;
    return;
  }
  std::string quoted;
  append_json_string(quoted, m);
  out.append(quoted, 1, quoted.size() - 2);
}

// Text values are quoted only when they would otherwise be ambiguous.
void append_text_value(std::string& out, std::string_view v) {
  if (!v.empty() && !needs_escape(v, " \"=")) {
    out += v;
  } else {
    append_json_string(out, v);
  }
}

template <class T>
void append_number(std::string& out, T value) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

void append_value(std::string& out, const Field& f, bool json) {
  switch (f.kind) {
    case Field::Kind::text:
      return json ? append_json_string(out, f.text) : append_text_value(out, f.text);
    case Field::Kind::int64:
      return append_number(out, f.i);
    case Field::Kind::uint64:
      return append_number(out, f.u);
    case Field::Kind::real:
      // JSON has no NaN or infinity; null keeps the line parseable.
      if (!std::isfinite(f.d)) {
        out += json ? "null" : std::isnan(f.d) ? "nan" : f.d > 0 ? "inf" : "-inf";
        return;
      }
      return append_number(out, f.d);
    case Field::Kind::boolean:
      out += f.b ? "true" : "false";
      return;
  }
}

void format_json(std::string& out, Level level, std::string_view message, Fields fields) {
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
}

void format_text(std::string& out, Level level, std::string_view message, Fields fields) {
  append_timestamp(out);
  out.push_back(' ');
  out += level_name(level, false);
  out.push_back(' ');
  append_text_message(out, message);
  for (const Field& f : fields) {
    out.push_back(' ');
    out += f.key;
    out.push_back('=');
    append_value(out, f, false);
  }
  out.push_back('\n');
}

}  // namespace

void configure(const Options& options) {
  json_format.store(options.format == Format::json, std::memory_order_relaxed);
  detail::threshold.store(static_cast<int>(options.level), std::memory_order_relaxed);
}

void set_output_fd(int fd) noexcept { output_fd.store(fd, std::memory_order_relaxed); }

void write(Level level, std::string_view message, Fields fields) {
  if (level == Level::off) return;
  // Reused per thread, so after warm-up a line allocates nothing.
  thread_local std::string line;
  line.clear();
  if (json_format.load(std::memory_order_relaxed)) {
    format_json(line, level, message, fields);
  } else {
    format_text(line, level, message, fields);
  }
  const int fd = output_fd.load(std::memory_order_relaxed);
  std::size_t done = 0;
  // One write(2) normally; the loop only finishes a line a signal or a full pipe cut short.
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to; dropping the line is all we can do
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace psycho::log
