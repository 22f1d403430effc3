// Command-line parsing for the `psycho` subcommands: `--name value`, `--name=value`,
// boolean `--flag`s and positionals. Every option must be declared, so a typo is a usage
// error (exit code 2) rather than silently ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace psycho::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_error = 1;
inline constexpr int exit_usage = 2;

class Args {
 public:
  // Parses argv[first..argc). `values` are options taking a value, `flags` take none.
  static Result<Args> parse(int argc, char** argv, int first,
                            std::initializer_list<std::string_view> values,
                            std::initializer_list<std::string_view> flags);

  bool has(std::string_view name) const { return options_.contains(std::string(name)); }
  std::optional<std::string> get(std::string_view name) const;
  std::string get_or(std::string_view name, std::string fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> options_;  // name without dashes -> value ("" for flags)
  std::vector<std::string> positional_;
};

// "1000", "10k", "1M" (decimal multipliers, as message counts are usually written).
Result<std::uint64_t> parse_count(std::string_view text);
// "16", "1KiB"/"1K"/"1k" (1024), "1MiB"/"1M" (1024*1024): message sizes.
Result<std::uint64_t> parse_size(std::string_view text);
// "10s", "500ms", "2m", "1.5s"; a bare number is seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace psycho::cli
