// Text-to-value conversions shared by the YAML file and the command line.
#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "config/section.hpp"
#include "core/host_port.hpp"

namespace psycho::config {

namespace {

// Longer than any sane timeout, and far from overflowing milliseconds in an int64.
constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(100'000);

std::size_t leading_digits(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  return n;
}

bool is_name_char(char c, bool first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (!first && c >= '0' && c <= '9');
}

bool valid_variable_name(std::string_view name) {
  if (name.empty() || !is_name_char(name.front(), true)) return false;
  for (char c : name) {
    if (!is_name_char(c, false)) return false;
  }
  return true;
}

// One `${...}` starting at text[0]; appends its value and returns how much it consumed.
Result<std::size_t> expand_one(std::string_view text, std::string& out) {
  const auto close = text.find('}');
  if (close == std::string_view::npos) {
    return fail("unterminated '${' (write $$ for a literal '$')");
  }
  const std::string_view inner = text.substr(2, close - 2);
  const auto dflt = inner.find(":-");
  const std::string name(inner.substr(0, dflt));
  if (!valid_variable_name(name)) {
    return fail("'${" + std::string(inner) + "}' is not a valid variable name");
  }
  if (const char* value = std::getenv(name.c_str()); value != nullptr) {
    out += value;
  } else if (dflt != std::string_view::npos) {
    out.append(inner.substr(dflt + 2));
  } else {
    return fail("environment variable '" + name + "' is not set (use ${" + name +
                ":-default} for a fallback)");
  }
  return close + 1;
}

}  // namespace

bool parse_bool(std::string_view text, bool& out) {
  if (text == "true" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "false" || text == "no" || text == "off") {
    out = false;
  } else {
    return false;
  }
  return true;
}

// Only ASCII digits: from_chars would also take a leading '-' for the signed type, and we
// want "+5", " 5" and "0x5" rejected for both.
bool parse_uint(std::string_view text, std::uint64_t& out) {
  if (text.empty() || leading_digits(text) != text.size()) return false;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

bool parse_int(std::string_view text, std::int64_t& out) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || leading_digits(digits) != digits.size()) return false;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

// "1048576", "64KiB", "1MiB", "8MB", "512B". KB/MB/GB are powers of 1000, KiB/MiB/GiB of
// 1024. Single letters (k, K, M) and lowercase units are rejected on purpose: whether "64k"
// means 64000 or 65536 depends on who wrote it, and a limit must not depend on a guess.
bool parse_size(std::string_view text, std::size_t& out) {
  const std::size_t digits = leading_digits(text);
  std::uint64_t value = 0;
  if (!parse_uint(text.substr(0, digits), value)) return false;
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
    if (value > SIZE_MAX / u.factor) return false;
    out = static_cast<std::size_t>(value * u.factor);
    return true;
  }
  return false;
}

// "250ms", "30s", "2m", "1h", "1m30s"; a bare number means seconds.
bool parse_duration(std::string_view text, std::chrono::milliseconds& out) {
  const auto max_seconds = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(kMaxDuration).count());
  if (std::uint64_t bare = 0; parse_uint(text, bare)) {
    if (bare > max_seconds) return false;
    out = std::chrono::seconds(static_cast<std::int64_t>(bare));
    return true;
  }
  if (text.empty()) return false;
  std::chrono::milliseconds total{0};
  while (!text.empty()) {
    const std::size_t digits = leading_digits(text);
    std::uint64_t value = 0;
    // Capping each part keeps the sum below overflow however many parts there are.
    if (!parse_uint(text.substr(0, digits), value) || value > max_seconds * 1000) return false;
    text.remove_prefix(digits);
    const std::size_t unit_len = std::min(text.find_first_of("0123456789"), text.size());
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
    if (total > kMaxDuration) return false;
  }
  out = total;
  return true;
}

// "host:port", "[v6]:port" (port 0 allowed: a listener on any free port), or "" for a
// disabled listener.
bool parse_endpoint(std::string_view text, Endpoint& out) {
  if (text.empty()) {
    out = Endpoint{};
    return true;
  }
  auto address = parse_host_port(text, HostPortRules::listener());
  if (!address) return false;
  out = Endpoint{std::move(address->host), address->port};
  return true;
}

Result<std::string> expand_env(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const auto dollar = text.find('$');
    out.append(text.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    text.remove_prefix(dollar);
    if (text.starts_with("$$")) {
      out.push_back('$');
      text.remove_prefix(2);
    } else if (text.starts_with("${")) {
      auto used = expand_one(text, out);
      if (!used) return fail(used.error());
      text.remove_prefix(*used);
    } else {  // a lone '$' is just a character, so prices and regexes need no escaping
      out.push_back('$');
      text.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace psycho::config
