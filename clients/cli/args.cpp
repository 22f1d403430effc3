#include "clients/cli/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace psycho::cli {
namespace {

bool contains(std::initializer_list<std::string_view> list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

struct NumberAndUnit {
  double number = 0;
  std::string_view unit;
};

Result<NumberAndUnit> split_number(std::string_view text) {
  NumberAndUnit out;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out.number);
  if (text.empty() || ec != std::errc{} || out.number < 0 || !std::isfinite(out.number)) {
    return fail("invalid number '" + std::string(text) + "'");
  }
  out.unit = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
  return out;
}

Result<std::uint64_t> scaled(std::string_view text,
                             std::initializer_list<std::pair<std::string_view, double>> units) {
  auto parsed = split_number(text);
  if (!parsed) return fail(parsed.error());
  for (const auto& [unit, factor] : units) {
    if (parsed->unit == unit) return static_cast<std::uint64_t>(parsed->number * factor);
  }
  return fail("unknown unit in '" + std::string(text) + "'");
}

}  // namespace

Result<Args> Args::parse(int argc, char** argv, int first,
                         std::initializer_list<std::string_view> values,
                         std::initializer_list<std::string_view> flags) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) args.positional_.emplace_back(argv[i]);
      break;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      args.positional_.emplace_back(arg);  // includes "-" and negative-looking payloads
      continue;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (contains(flags, name) && !inline_value) {
      args.options_[std::string(name)] = "";
    } else if (contains(values, name)) {
      if (!inline_value && i + 1 >= argc) return fail("--" + std::string(name) + " needs a value");
      args.options_[std::string(name)] = std::string(inline_value ? *inline_value : argv[++i]);
    } else {
      return fail("unknown option --" + std::string(name));
    }
  }
  return args;
}

std::optional<std::string> Args::get(std::string_view name) const {
  auto it = options_.find(std::string(name));
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(std::string_view name, std::string fallback) const {
  auto value = get(name);
  return value ? *value : std::move(fallback);
}

Result<std::uint64_t> parse_count(std::string_view text) {
  return scaled(text, {{"", 1}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"m", 1e6}, {"G", 1e9}});
}

Result<std::uint64_t> parse_size(std::string_view text) {
  constexpr double kib = 1024, mib = 1024 * 1024;
  return scaled(text, {{"", 1},
                       {"B", 1},
                       {"k", kib},
                       {"K", kib},
                       {"KB", kib},
                       {"KiB", kib},
                       {"M", mib},
                       {"MB", mib},
                       {"MiB", mib}});
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto ms = scaled(text, {{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60'000}, {"h", 3'600'000}});
  if (!ms) return fail("invalid duration '" + std::string(text) + "' (e.g. 10s, 500ms, 2m)");
  return std::chrono::milliseconds(*ms);
}

}  // namespace psycho::cli
