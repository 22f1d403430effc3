// Text-to-value conversions shared by the YAML file and the command line.
#include <charconv>
#include <cstdlib>

#include "config/section.hpp"

namespace psycho::config {

namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

}  // namespace

// "1048576", "64KiB", "1MiB", "8MB", "512B". KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024.
bool parse_size(std::string_view text, std::size_t& out) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::uint64_t value = 0;
  if (!parse_u64(text.substr(0, digits), value)) return false;
  const std::string_view unit = text.substr(digits);
  struct Unit {
    std::string_view name;
    std::uint64_t factor;
  };
  static constexpr Unit units[] = {
      {"", 1},       {"B", 1},         {"KB", 1000},    {"MB", 1000 * 1000}, {"GB", 1000000000},
      {"KiB", 1024}, {"MiB", 1 << 20}, {"GiB", 1 << 30}};
  for (const Unit& u : units) {
    if (unit != u.name) continue;
    if (value > UINT64_MAX / u.factor) return false;
    out = static_cast<std::size_t>(value * u.factor);
    return true;
  }
  return false;
}

// "250ms", "30s", "2m", "1h", "1m30s"; a bare number means seconds.
bool parse_duration(std::string_view text, std::chrono::milliseconds& out) {
  if (text.empty()) return false;
  std::uint64_t bare = 0;
  if (parse_u64(text, bare)) {
    out = std::chrono::seconds(bare);
    return true;
  }
  std::chrono::milliseconds total{0};
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    std::uint64_t value = 0;
    if (!parse_u64(text.substr(0, digits), value) || value > 1'000'000'000) return false;
    text.remove_prefix(digits);
    std::size_t unit_len = 0;
    while (unit_len < text.size() && (text[unit_len] < '0' || text[unit_len] > '9')) ++unit_len;
    const std::string_view unit = text.substr(0, unit_len);
    text.remove_prefix(unit_len);
    const auto v = static_cast<std::int64_t>(value);
    if (unit == "ms")
      total += std::chrono::milliseconds(v);
    else if (unit == "s")
      total += std::chrono::seconds(v);
    else if (unit == "m")
      total += std::chrono::minutes(v);
    else if (unit == "h")
      total += std::chrono::hours(v);
    else
      return false;
  }
  out = total;
  return true;
}

// "host:port", "[v6]:port", or "" for a disabled listener.
bool parse_endpoint(std::string_view text, Endpoint& out) {
  if (text.empty()) {
    out = Endpoint{};
    return true;
  }
  std::string_view host, port;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
  }
  std::uint64_t p = 0;
  if (host.empty() || !parse_u64(port, p) || p > 65535) return false;
  out = Endpoint{std::string(host), static_cast<std::uint16_t>(p)};
  return true;
}

bool expand_env(std::string_view text, std::string& out, std::string& missing) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    if (text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out.push_back('$');
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const auto dflt = inner.find(":-");
    const std::string name(inner.substr(0, dflt));
    if (const char* value = std::getenv(name.c_str()); value != nullptr) {
      out += value;
    } else if (dflt != std::string_view::npos) {
      out.append(inner.substr(dflt + 2));
    } else {
      missing = name;
      return false;
    }
    i = close;
  }
  return true;
}

std::string Endpoint::to_string() const {
  if (!enabled()) return "";
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace psycho::config
