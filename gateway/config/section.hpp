// config::Section reads one YAML mapping with the project's rules, and collects every
// problem as "file:line:col: what is wrong" instead of stopping at the first.
//
// Used for `gateway:` and `log:`, and by every adapter for its own section:
//
//   config::Section s(section.node, section.file, "nats");
//   s.get("servers", servers);            // optional keys: absent leaves the default
//   s.get_duration("reconnect_wait", wait);
//   auto tls = s.child("tls");            // a nested mapping
//   tls.get("ca_file", ca);
//   s.adopt(tls);
//   if (auto st = s.finish(); !st) return fail(st.error());  // also reports unknown keys
//
// Scalars go through `${VAR}` / `${VAR:-default}` expansion before conversion.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::config {

class Section {
 public:
  // `node` may be null/undefined (an empty section). `path` names the section in messages.
  Section(YAML::Node node, std::string file, std::string path);

  void get(std::string_view key, std::string& out);
  void get(std::string_view key, bool& out);
  void get(std::string_view key, int& out, int min, int max);
  void get(std::string_view key, std::vector<std::string>& out);
  void get(std::string_view key, Endpoint& out);
  void get_size(std::string_view key, std::size_t& out, std::size_t min, std::size_t max);
  void get_duration(std::string_view key, std::chrono::milliseconds& out,
                    std::chrono::milliseconds min = std::chrono::milliseconds(0));
  // A nested mapping. When done with it, adopt() finishes it and takes over its errors.
  Section child(std::string_view key);
  void adopt(Section& child);

  // Adds an error at the position of `key` (or of the section when absent).
  void error_at(std::string_view key, const std::string& what);
  bool has(std::string_view key) const;

  // All errors so far plus one per key that no getter asked for.
  Status finish();

 private:
  YAML::Node find(std::string_view key);  // and remember that `key` is known
  YAML::Node find_quietly(std::string_view key) const;
  bool scalar(std::string_view key, std::string& out);
  std::string where(const YAML::Mark& mark) const;

  YAML::Node node_;
  std::string file_, path_;
  std::set<std::string, std::less<>> asked_;
  std::vector<std::string> errors_;
};

// Parsers shared with the command line; each returns false on junk.
bool parse_size(std::string_view text, std::size_t& out);
bool parse_duration(std::string_view text, std::chrono::milliseconds& out);
bool parse_endpoint(std::string_view text, Endpoint& out);
// Expands ${VAR}, ${VAR:-default} and $$; on an undefined variable returns false and names
// it in `missing`.
bool expand_env(std::string_view text, std::string& out, std::string& missing);

}  // namespace psycho::config
