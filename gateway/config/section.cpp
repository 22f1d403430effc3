#include "config/section.hpp"

#include <algorithm>
#include <map>

namespace psycho::config {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view key, const std::vector<std::string>& known) {
  // Two edits catch a swapped pair ("listne"); on short keys that would match nearly
  // anything, so they get one.
  std::size_t limit = key.size() < 4 ? 1 : 2;
  std::string hint;
  for (const auto& k : known) {
    if (const std::size_t d = edit_distance(key, k); d <= limit) {
      hint = k;
      if (d == 0) break;
      limit = d - 1;  // only a strictly closer key replaces this one
    }
  }
  return hint.empty() ? "" : " (did you mean '" + hint + "'?)";
}

Section::Section(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    errors_.push_back(where(node_.Mark()) + "'" + path_ + "' must be a mapping");
    node_ = YAML::Node();
  }
}

std::string Section::where(const YAML::Mark& mark) const {
  // Nodes built from flags have no position; the file (if any) is still worth naming.
  if (mark.line < 0) return file_.empty() ? "" : file_ + ": ";
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

std::string Section::name_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool Section::has(std::string_view key) const {
  return node_ && node_.IsMap() && node_[std::string(key)];
}

std::string Section::text_without(std::string_view key) const {
  YAML::Node copy = YAML::Clone(node_);
  if (copy.IsMap()) copy.remove(std::string(key));
  return YAML::Dump(copy);
}

YAML::Node Section::find(std::string_view key) {
  asked_.emplace(key);
  // An absent key must be an *undefined* node: a default-constructed Node is a null value.
  // The const operator[] is used so that looking never inserts into the caller's tree.
  if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& map = node_;
  return map[std::string(key)];
}

YAML::Node Section::take(std::string_view key) { return find(key); }

YAML::Mark Section::mark_of(std::string_view key) const {
  if (!node_ || !node_.IsMap()) return node_ ? node_.Mark() : YAML::Mark::null_mark();
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar() || entry.first.Scalar() != key) continue;
    // An empty value has no text of its own; yaml-cpp gives it the position of whatever
    // follows, so the key is the better place to point at.
    return entry.second.IsNull() ? entry.first.Mark() : entry.second.Mark();
  }
  return node_.Mark();
}

void Section::error_at(std::string_view key, const std::string& what) {
  errors_.push_back(where(mark_of(key)) + what);
}

void Section::require_both_or_neither(std::string_view key_a, const std::string& value_a,
                                      std::string_view key_b, const std::string& value_b) {
  if (value_a.empty() == value_b.empty()) return;
  error_at(value_a.empty() ? key_b : key_a,
           "'" + name_of(key_a) + "' and '" + name_of(key_b) + "' go together");
}

bool Section::scalar(std::string_view key, std::string& out) {
  YAML::Node n = find(key);
  if (!n) return false;
  if (n.IsNull()) {
    error_at(key, "'" + name_of(key) + "' needs a value");
    return false;
  }
  if (!n.IsScalar()) {
    error_at(key, "'" + name_of(key) + "' must be a single value");
    return false;
  }
  auto expanded = expand_env(n.Scalar());
  if (!expanded) {
    error_at(key, expanded.error());
    return false;
  }
  out = std::move(expanded.value());
  return true;
}

void Section::get(std::string_view key, std::string& out) {
  if (YAML::Node n = find(key); n && n.IsNull()) {
    out.clear();  // `key:` with no value, or `key: ~`
    return;
  }
  std::string v;
  if (scalar(key, v)) out = std::move(v);
}

void Section::get(std::string_view key, bool& out) {
  std::string v;
  if (!scalar(key, v)) return;
  if (!parse_bool(v, out)) {
    error_at(key, "'" + name_of(key) + "' must be true or false, not '" + v + "'");
  }
}

void Section::get(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
  std::string v;
  if (!scalar(key, v)) return;
  std::int64_t n = 0;
  if (!parse_int(v, n) || n < min || n > max) {
    error_at(key, "'" + name_of(key) + "' must be a whole number from " + std::to_string(min) +
                      " to " + std::to_string(max) + ", not '" + v + "'");
    return;
  }
  out = n;
}

void Section::get(std::string_view key, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
  std::string v;
  if (!scalar(key, v)) return;
  std::uint64_t n = 0;
  if (!parse_uint(v, n) || n < min || n > max) {
    error_at(key, "'" + name_of(key) + "' must be a whole number from " + std::to_string(min) +
                      " to " + std::to_string(max) + ", not '" + v + "'");
    return;
  }
  out = n;
}

void Section::get(std::string_view key, int& out, int min, int max) {
  std::int64_t wide = out;
  get(key, wide, min, max);
  out = static_cast<int>(wide);  // within [min, max], or untouched
}

void Section::get(std::string_view key, std::vector<std::string>& out) {
  YAML::Node n = find(key);
  if (!n) return;
  if (n.IsScalar()) {  // a single value where a list is expected is a list of one
    std::string v;
    if (scalar(key, v)) out = {v};
    return;
  }
  if (!n.IsSequence()) {
    error_at(key, "'" + name_of(key) + "' must be a list");
    return;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (const auto& item : n) {
    auto expanded =
        item.IsScalar()
            ? expand_env(item.Scalar())
            : Result<std::string>(fail("items of '" + name_of(key) + "' must be single values"));
    if (!expanded) {
      errors_.push_back(where(item.Mark()) + expanded.error());
      ok = false;
      continue;
    }
    values.push_back(std::move(expanded.value()));
  }
  if (ok) out = std::move(values);
}

void Section::get(std::string_view key, Endpoint& out) {
  if (YAML::Node n = find(key); n && n.IsNull()) {
    out = Endpoint{};
    return;
  }
  std::string v;
  if (!scalar(key, v)) return;
  if (!parse_endpoint(v, out)) {
    error_at(key, "'" + name_of(key) +
                      "' must be host:port, [ipv6]:port or \"\" (disabled), not '" + v + "'");
  }
}

void Section::get_size(std::string_view key, std::size_t& out, std::size_t min, std::size_t max) {
  std::string v;
  if (!scalar(key, v)) return;
  std::size_t n = 0;
  if (!parse_size(v, n)) {
    error_at(key,
             "'" + name_of(key) + "' must be a size like 1048576, 64KiB or 8MB, not '" + v + "'");
  } else if (n < min || n > max) {
    error_at(key, "'" + name_of(key) + "' must be between " + std::to_string(min) + " and " +
                      std::to_string(max) + " bytes, not '" + v + "'");
  } else {
    out = n;
  }
}

void Section::get_duration(std::string_view key, std::chrono::milliseconds& out,
                           std::chrono::milliseconds min, std::chrono::milliseconds max) {
  std::string v;
  if (!scalar(key, v)) return;
  std::chrono::milliseconds d{};
  if (!parse_duration(v, d)) {
    error_at(key, "'" + name_of(key) + "' must be a duration like 250ms, 30s, 2m or 1h, not '" + v +
                      "'");
  } else if (d < min) {
    error_at(key, "'" + name_of(key) + "' must be at least " + std::to_string(min.count()) +
                      "ms, not '" + v + "'");
  } else if (d > max) {
    error_at(key, "'" + name_of(key) + "' must be at most " + std::to_string(max.count()) +
                      "ms, not '" + v + "'");
  } else {
    out = d;
  }
}

Section Section::child(std::string_view key) {
  YAML::Node n = find(key);
  return Section(n && !n.IsNull() ? n : YAML::Node(), file_, name_of(key));
}

void Section::adopt(Section& child) {
  if (auto st = child.finish(); !st) errors_.push_back(st.error());
}

void Section::key_errors(std::vector<std::string>& errors) const {
  if (!node_ || !node_.IsMap()) return;
  const std::vector<std::string> known(asked_.begin(), asked_.end());
  std::map<std::string, int> seen;
  for (const auto& entry : node_) {
    const YAML::Node& k = entry.first;
    if (!k.IsScalar()) {
      errors.push_back(where(k.Mark()) + "keys in '" + path_ + "' must be plain names");
      continue;
    }
    const std::string& key = k.Scalar();
    // yaml-cpp keeps both copies of a repeated key and lookups see only the first, so a
    // duplicate would silently lose a value.
    if (++seen[key] > 1) {
      errors.push_back(where(k.Mark()) + "duplicate key '" + key + "' in '" + path_ + "'");
    } else if (asked_.count(key) == 0) {
      errors.push_back(where(k.Mark()) + "unknown key '" + key + "' in '" + path_ + "'" +
                       did_you_mean(key, known));
    }
  }
}

Status Section::finish() const {
  std::vector<std::string> errors = errors_;
  key_errors(errors);
  if (errors.empty()) return Ok{};
  std::string all;
  for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
  return fail(all);
}

}  // namespace psycho::config
