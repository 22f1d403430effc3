#include "adapters/subject_filter.hpp"

#include <algorithm>

#include "core/subject.hpp"

namespace psycho {

namespace {

bool any_matches(const std::vector<std::string>& patterns, std::string_view subject) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return subject_matches(p, subject); });
}

std::string read_prefix(config::Section& section, std::string_view key) {
  std::string prefix;
  section.get(key, prefix);
  if (prefix.empty()) return prefix;
  if (!is_valid_publish_subject(prefix)) {
    section.error_at(key, "'" + section.name_of(key) +
                              "' must be a literal subject such as 'edge1', not '" + prefix + "'");
    return {};
  }
  return prefix + ".";
}

}  // namespace

void read_patterns(config::Section& section, std::string_view key, std::vector<std::string>& out) {
  section.get(key, out);
  for (const auto& p : out) {
    if (!is_valid_pattern(p)) {
      section.error_at(key,
                       "'" + section.name_of(key) + "' has an invalid subject pattern '" + p + "'");
    }
  }
}

SubjectFilter::SubjectFilter() : both_{">"}, unprefixed_{"_INBOX.>"} {}

SubjectFilter SubjectFilter::parse(config::Section& section) {
  SubjectFilter f;
  const bool any_list = section.has("subjects") || section.has("import") || section.has("export");
  if (any_list) f.both_.clear();
  read_patterns(section, "subjects", f.both_);
  read_patterns(section, "import", f.import_only_);
  read_patterns(section, "export", f.export_only_);
  read_patterns(section, "unprefixed", f.unprefixed_);
  f.import_prefix_ = read_prefix(section, "import_prefix");
  f.export_prefix_ = read_prefix(section, "export_prefix");
  return f;
}

bool SubjectFilter::exports(std::string_view local_subject) const noexcept {
  return any_matches(both_, local_subject) || any_matches(export_only_, local_subject);
}

std::vector<std::string> SubjectFilter::export_patterns() const {
  std::vector<std::string> out = both_;
  out.insert(out.end(), export_only_.begin(), export_only_.end());
  return out;
}

bool SubjectFilter::imports(std::string_view local_subject) const noexcept {
  return any_matches(both_, local_subject) || any_matches(import_only_, local_subject);
}

bool SubjectFilter::unprefixed(std::string_view subject) const noexcept {
  return any_matches(unprefixed_, subject);
}

void SubjectFilter::to_fabric(std::string_view local_subject, std::string& out) const {
  out.clear();
  if (!export_prefix_.empty() && !unprefixed(local_subject)) out += export_prefix_;
  out += local_subject;
}

std::optional<std::string_view> SubjectFilter::to_local(std::string_view fabric_subject) const {
  if (import_prefix_.empty() || unprefixed(fabric_subject)) return fabric_subject;
  if (fabric_subject.size() <= import_prefix_.size() ||
      fabric_subject.substr(0, import_prefix_.size()) != import_prefix_) {
    return std::nullopt;
  }
  return fabric_subject.substr(import_prefix_.size());
}

std::string SubjectFilter::import_name(std::string_view local_subject) const {
  if (import_prefix_.empty() || unprefixed(local_subject)) return std::string(local_subject);
  return import_prefix_ + std::string(local_subject);
}

bool SubjectFilter::unprefixed_pattern(std::string_view local_pattern) const noexcept {
  return std::any_of(unprefixed_.begin(), unprefixed_.end(),
                     [&](const auto& u) { return pattern_covers(u, local_pattern); });
}

std::string SubjectFilter::fabric_pattern(std::string_view local_pattern,
                                          const std::string& prefix) const {
  // A pattern lying wholly in the unprefixed space (an inbox) is subscribed as it is.
  if (prefix.empty() || unprefixed_pattern(local_pattern)) return std::string(local_pattern);
  return prefix + std::string(local_pattern);
}

std::string SubjectFilter::fabric_queue(std::string_view local_pattern,
                                        std::string_view queue) const {
  if (import_prefix_.empty() || unprefixed_pattern(local_pattern)) return std::string(queue);
  return import_prefix_ + std::string(queue);
}

namespace {

// The patterns of `patterns` that no other one covers.
std::vector<std::string> widest_only(const std::vector<std::string>& patterns) {
  std::vector<std::string> widest;
  for (const auto& p : patterns) {
    const bool covered = std::any_of(patterns.begin(), patterns.end(), [&](const std::string& q) {
      return q != p && pattern_covers(q, p);
    });
    if (!covered) widest.push_back(p);
  }
  return widest;
}

}  // namespace

std::vector<std::string> SubjectFilter::queue_patterns_for(std::string_view local_pattern) const {
  std::vector<std::string> out;
  for (const auto* list : {&both_, &import_only_}) {
    for (const auto& imported : *list) {
      const std::string overlap = intersect_patterns(local_pattern, imported);
      if (overlap.empty()) continue;
      std::string fabric = fabric_pattern(overlap, import_prefix_);
      if (std::find(out.begin(), out.end(), fabric) == out.end()) out.push_back(std::move(fabric));
    }
  }
  return widest_only(out);
}

std::vector<std::string> SubjectFilter::fabric_patterns_for(std::string_view local_pattern) const {
  std::vector<std::string> out;
  for (const auto& both : both_) {
    std::string overlap = intersect_patterns(local_pattern, both);
    if (overlap.empty()) continue;
    const bool already_imported =
        std::any_of(import_only_.begin(), import_only_.end(),
                    [&](const std::string& i) { return pattern_covers(i, overlap); });
    if (already_imported) continue;
    std::string fabric = fabric_pattern(overlap, import_prefix_);
    if (std::find(out.begin(), out.end(), fabric) == out.end()) out.push_back(std::move(fabric));
  }
  // Overlapping subscriptions would bring a message in twice: keep only the widest.
  return widest_only(out);
}

std::vector<std::string> SubjectFilter::static_fabric_patterns() const {
  std::vector<std::string> out;
  for (const auto& p : import_only_) out.push_back(fabric_pattern(p, import_prefix_));
  return out;
}

}  // namespace psycho
