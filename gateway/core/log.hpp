// Structured logging: one line per event, text or JSON, to stderr.
//
//   log::info("client connected", {{"cid", 12}, {"remote", "127.0.0.1:5555"}});
//
// text: 2026-11-24T09:00:00.123Z INFO client connected cid=12 remote=127.0.0.1:5555
// json: {"ts":"2026-11-24T09:00:00.123Z","level":"info","msg":"client connected","cid":12,...}
//
// Callable from any thread at any time, including before configure() (defaults: info, text).
// A disabled level costs one relaxed atomic load, inlined at the call site; the fields are
// not even formatted. An enabled one formats into a thread-local buffer and leaves with a
// single write(2), so lines from different threads never interleave and no lock is taken.
// Field values are views: they only need to live until the call returns.
// In text lines, values with spaces, quotes, '=' or control characters are quoted with JSON
// escaping, and control characters in the message are escaped, so one event is one line.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace psycho::log {

enum class Level { trace, debug, info, warn, error, off };
enum class Format { text, json };

// What the `log:` section of the configuration sets; config::LogConfig is this type, so the
// logger needs no configuration code and the configuration has one definition of it.
struct Options {
  Level level = Level::info;
  Format format = Format::text;
};

struct Field {
  enum class Kind { text, int64, uint64, real, boolean };
  std::string_view key;
  Kind kind;
  std::string_view text;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  bool b = false;

  Field(std::string_view k, std::string_view v) : key(k), kind(Kind::text), text(v) {}
  Field(std::string_view k, const std::string& v) : key(k), kind(Kind::text), text(v) {}
  Field(std::string_view k, const char* v) : key(k), kind(Kind::text), text(v) {}
  Field(std::string_view k, bool v) : key(k), kind(Kind::boolean), b(v) {}
  Field(std::string_view k, double v) : key(k), kind(Kind::real), d(v) {}
  template <class T>
  requires std::is_integral_v<T> && std::is_signed_v<T> Field(std::string_view k, T v)
      : key(k), kind(Kind::int64), i(v) {}
  template <class T>
  requires std::is_integral_v<T> && std::is_unsigned_v<T> &&
      (!std::is_same_v<T, bool>)Field(std::string_view k, T v)
      : key(k), kind(Kind::uint64), u(v) {}
};

using Fields = std::initializer_list<Field>;

// Takes effect for every thread at once; lines being formatted may still use the old format.
void configure(const Options& options);
// Where lines go (default: stderr). For tests, and for a process whose stderr is taken.
void set_output_fd(int fd) noexcept;

namespace detail {
// The lowest enabled level, as an int; written only by configure().
inline std::atomic<int> threshold{static_cast<int>(Level::info)};
}  // namespace detail

inline bool enabled(Level level) noexcept {
  return level != Level::off &&
         static_cast<int>(level) >= detail::threshold.load(std::memory_order_relaxed);
}

// Writes one line whatever the level; the functions below check enabled() first.
void write(Level level, std::string_view message, Fields fields);

inline void trace(std::string_view m, Fields f = {}) {
  if (enabled(Level::trace)) write(Level::trace, m, f);
}
inline void debug(std::string_view m, Fields f = {}) {
  if (enabled(Level::debug)) write(Level::debug, m, f);
}
inline void info(std::string_view m, Fields f = {}) {
  if (enabled(Level::info)) write(Level::info, m, f);
}
inline void warn(std::string_view m, Fields f = {}) {
  if (enabled(Level::warn)) write(Level::warn, m, f);
}
inline void error(std::string_view m, Fields f = {}) {
  if (enabled(Level::error)) write(Level::error, m, f);
}

}  // namespace psycho::log
