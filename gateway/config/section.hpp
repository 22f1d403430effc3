// config::Section reads one YAML mapping with the project's rules and collects every problem
// as "file:line:col: what is wrong" instead of stopping at the first.
//
// Used for `gateway:` and `log:`, and by every adapter's factory for its own section, once,
// on the start-up thread, before anything connects:
//
//   config::Section s(section.node, section.file, "nats");
//   s.get("servers", servers);            // optional keys: absent leaves the default
//   s.get_duration("reconnect_wait", wait, 10ms);
//   config::Section tls = s.child("tls");  // a nested mapping, same rules
//   tls.get("ca_file", ca);
//   s.adopt(tls);                          // finishes tls and takes over its errors
//   if (auto st = s.finish(); !st) return fail(st.error());
//
// Rules every getter shares:
// - an absent key leaves `out` untouched, so initialise `out` with the default;
// - on any error `out` is left untouched as well, and the error is kept for finish();
// - scalars go through `${VAR}` / `${VAR:-default}` / `$$` expansion before conversion;
// - asking for a key makes it known: finish() reports every key nobody asked for (with a
//   "did you mean" hint), every duplicated key, plus the errors collected so far.
// Not thread-safe; a Section is a short-lived local. It never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
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
  // `node` may be null/undefined (an empty section). `file` ("" when the node did not come
  // from a file) and `path` (e.g. "gateway.tls") name the section in messages.
  Section(YAML::Node node, std::string file, std::string path);

  void get(std::string_view key, std::string& out);  // `key:` with no value means ""
  void get(std::string_view key, bool& out);         // true/false, yes/no, on/off
  void get(std::string_view key, int& out, int min, int max);
  void get(std::string_view key, std::int64_t& out,
           std::int64_t min = std::numeric_limits<std::int64_t>::min(),
           std::int64_t max = std::numeric_limits<std::int64_t>::max());
  void get(std::string_view key, std::uint64_t& out, std::uint64_t min = 0,
           std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
  // A list, or a single value taken as a list of one.
  void get(std::string_view key, std::vector<std::string>& out);
  void get(std::string_view key, Endpoint& out);  // `key:` with no value means disabled
  void get_size(std::string_view key, std::size_t& out, std::size_t min, std::size_t max);
  void get_duration(std::string_view key, std::chrono::milliseconds& out,
                    std::chrono::milliseconds min = std::chrono::milliseconds(0),
                    std::chrono::milliseconds max = std::chrono::milliseconds::max());

  // A nested mapping (absent: an empty one). Hand it back with adopt() when done.
  Section child(std::string_view key);
  void adopt(Section& child);
  // The raw node under `key` (undefined when absent), for free-form values such as a map of
  // user-chosen names; the key counts as known and the caller validates the contents.
  YAML::Node take(std::string_view key);

  // Adds an error at the position of `key` (or of the section when `key` is absent); for
  // checks that span keys, such as "cert_file needs key_file".
  void error_at(std::string_view key, const std::string& what);
  // "'x.a' and 'x.b' go together" when exactly one of the two values is set.
  void require_both_or_neither(std::string_view key_a, const std::string& value_a,
                               std::string_view key_b, const std::string& value_b);
  bool has(std::string_view key) const;
  // The section as one canonical text, leaving `key` out: what a reload compares to tell
  // whether anything but `key` (a value that may change while running) changed.
  std::string text_without(std::string_view key) const;
  // "gateway.tls.cert_file" for key "cert_file"; for messages.
  std::string name_of(std::string_view key) const;
  // The file the section came from ("" when built from flags), for sections made from
  // nodes taken with take() (list items).
  const std::string& file() const noexcept { return file_; }

  // All errors so far plus unknown and duplicated keys, one per line; Ok when there are none.
  Status finish() const;

 private:
  YAML::Node find(std::string_view key);  // and remember that `key` is known
  bool scalar(std::string_view key, std::string& out);
  std::string where(const YAML::Mark& mark) const;
  YAML::Mark mark_of(std::string_view key) const;  // of its value, or of the section
  void key_errors(std::vector<std::string>& errors) const;

  YAML::Node node_;
  std::string file_, path_;
  std::set<std::string, std::less<>> asked_;
  std::vector<std::string> errors_;
};

// " (did you mean 'listen'?)" when one of `known` is a near miss of `key`, else "".
std::string did_you_mean(std::string_view key, const std::vector<std::string>& known);

// Parsers shared with the command line; each returns false on junk and leaves `out` alone.
bool parse_bool(std::string_view text, bool& out);           // true/false, yes/no, on/off
bool parse_uint(std::string_view text, std::uint64_t& out);  // digits only
bool parse_int(std::string_view text, std::int64_t& out);    // optional '-', digits
bool parse_size(std::string_view text, std::size_t& out);
bool parse_duration(std::string_view text, std::chrono::milliseconds& out);
bool parse_endpoint(std::string_view text, Endpoint& out);
// Expands ${VAR}, ${VAR:-default} and $$. Fails on an unset variable without a default, an
// invalid name or an unterminated ${, with a message that names the problem.
Result<std::string> expand_env(std::string_view text);

}  // namespace psycho::config
