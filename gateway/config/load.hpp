// Loading the YAML configuration file. Every error names file:line:col.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::config {

// `adapter_names`: the sections the registry knows (present = enabled). Any other top-level
// key is an error.
Result<Config> parse_config(std::string_view yaml_text, std::string_view file_name,
                            const std::vector<std::string>& adapter_names);
Result<Config> load_config_file(const std::string& path,
                                const std::vector<std::string>& adapter_names);

}  // namespace psycho::config
