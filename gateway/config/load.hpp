// Loading the YAML configuration file. Every error names file:line:col; all errors are
// reported at once, one per line. Neither function throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::config {

// `adapter_names`: the top-level sections the adapter registry knows; each one present
// becomes an AdapterSection (present = enabled), in file order, unparsed. Any other
// top-level key besides `gateway` and `log` is an error. Keys absent from the text keep
// their value from `defaults` (resolve_config uses that for the --stdio rule). An empty
// text, or one with only comments, yields `defaults`.
Result<Config> parse_config(std::string_view yaml_text, std::string_view file_name,
                            const std::vector<std::string>& adapter_names, Config defaults = {});

// Reads `path` (a missing, unreadable or oversized file is an error naming it) and parses it.
Result<Config> load_config_file(const std::string& path,
                                const std::vector<std::string>& adapter_names,
                                Config defaults = {});

}  // namespace psycho::config
