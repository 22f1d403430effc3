#include "config/section.hpp"

#include <algorithm>

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

Section::Section(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    errors_.push_back(where(node_.Mark()) + "'" + path_ + "' must be a mapping");
    node_ = YAML::Node();
  }
}

std::string Section::where(const YAML::Mark& mark) const {
  if (mark.line < 0) return file_.empty() ? "" : file_ + ": ";
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

YAML::Node Section::find_quietly(std::string_view key) const {
  if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return node_[std::string(key)];
}

bool Section::has(std::string_view key) const {
  return node_ && node_.IsMap() && node_[std::string(key)];
}

YAML::Node Section::find(std::string_view key) {
  asked_.emplace(key);
  // An absent key must be an *undefined* node: a default-constructed Node is a null value.
  if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return node_[std::string(key)];
}

void Section::error_at(std::string_view key, const std::string& what) {
  YAML::Node n = find_quietly(key);
  errors_.push_back(where(n ? n.Mark() : node_ ? node_.Mark() : YAML::Mark::null_mark()) + what);
}

bool Section::scalar(std::string_view key, std::string& out) {
  YAML::Node n = find(key);
  if (!n) return false;
  if (!n.IsScalar()) {
    error_at(key, "'" + path_ + "." + std::string(key) + "' must be a single value");
    return false;
  }
  std::string missing;
  if (!expand_env(n.Scalar(), out, missing)) {
    error_at(key, "environment variable '" + missing + "' is not set (use ${" + missing +
                      ":-default} for a fallback)");
    return false;
  }
  return true;
}

void Section::get(std::string_view key, std::string& out) {
  if (YAML::Node n = find_quietly(key); n && n.IsNull()) {
    asked_.emplace(key);
    out.clear();  // `key:` with no value, or `key: ""`
    return;
  }
  std::string v;
  if (scalar(key, v)) out = std::move(v);
}

void Section::get(std::string_view key, bool& out) {
  std::string v;
  if (!scalar(key, v)) return;
  if (v == "true" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "false" || v == "no" || v == "off") {
    out = false;
  } else {
    error_at(key,
             "'" + path_ + "." + std::string(key) + "' must be true or false, not '" + v + "'");
  }
}

void Section::get(std::string_view key, int& out, int min, int max) {
  std::string v;
  if (!scalar(key, v)) return;
  std::size_t n = 0;
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || !parse_size(v, n) ||
      n < static_cast<std::size_t>(min) || n > static_cast<std::size_t>(max)) {
    error_at(key, "'" + path_ + "." + std::string(key) + "' must be a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max) + ", not '" + v + "'");
    return;
  }
  out = static_cast<int>(n);
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
    error_at(key, "'" + path_ + "." + std::string(key) + "' must be a list");
    return;
  }
  std::vector<std::string> values;
  for (const auto& item : n) {
    std::string expanded, missing;
    if (!item.IsScalar()) {
      errors_.push_back(where(item.Mark()) + "list items of '" + std::string(key) +
                        "' must be single values");
      continue;
    }
    if (!expand_env(item.Scalar(), expanded, missing)) {
      errors_.push_back(where(item.Mark()) + "environment variable '" + missing + "' is not set");
      continue;
    }
    values.push_back(std::move(expanded));
  }
  out = std::move(values);
}

void Section::get(std::string_view key, Endpoint& out) {
  std::string v;
  if (YAML::Node n = find_quietly(key); n && n.IsNull()) {
    asked_.emplace(key);
    out = Endpoint{};
    return;
  }
  if (!scalar(key, v)) return;
  if (!parse_endpoint(v, out)) {
    error_at(key, "'" + path_ + "." + std::string(key) +
                      "' must be host:port, [ipv6]:port or \"\" (disabled), not '" + v + "'");
  }
}

void Section::get_size(std::string_view key, std::size_t& out, std::size_t min, std::size_t max) {
  std::string v;
  if (!scalar(key, v)) return;
  std::size_t n = 0;
  if (!parse_size(v, n)) {
    error_at(key, "'" + path_ + "." + std::string(key) +
                      "' must be a size like 1048576, 64KiB or 8MB, not '" + v + "'");
  } else if (n < min || n > max) {
    error_at(key, "'" + path_ + "." + std::string(key) + "' must be between " +
                      std::to_string(min) + " and " + std::to_string(max) + " bytes");
  } else {
    out = n;
  }
}

void Section::get_duration(std::string_view key, std::chrono::milliseconds& out,
                           std::chrono::milliseconds min) {
  std::string v;
  if (!scalar(key, v)) return;
  std::chrono::milliseconds d{};
  if (!parse_duration(v, d)) {
    error_at(key, "'" + path_ + "." + std::string(key) +
                      "' must be a duration like 250ms, 30s, 2m or 1h, not '" + v + "'");
  } else if (d < min) {
    error_at(key, "'" + path_ + "." + std::string(key) + "' must be at least " +
                      std::to_string(min.count()) + "ms");
  } else {
    out = d;
  }
}

Section Section::child(std::string_view key) {
  YAML::Node n = find(key);
  return Section(n && !n.IsNull() ? n : YAML::Node(), file_, path_ + "." + std::string(key));
}

void Section::adopt(Section& child) {
  if (auto st = child.finish(); !st) errors_.push_back(st.error());
}

Status Section::finish() {
  if (node_ && node_.IsMap()) {
    for (const auto& entry : node_) {
      const std::string key = entry.first.Scalar();
      if (asked_.count(key) != 0) continue;
      std::string hint;
      for (const auto& known : asked_) {
        if (edit_distance(key, known) <= 2) hint = " (did you mean '" + known + "'?)";
      }
      errors_.push_back(where(entry.first.Mark()) + "unknown key '" + key + "' in '" + path_ + "'" +
                        hint);
    }
  }
  if (errors_.empty()) return Ok{};
  std::string all;
  for (const auto& e : errors_) all += (all.empty() ? "" : "\n") + e;
  return fail(all);
}

}  // namespace psycho::config
