#include "core/header_block.hpp"

namespace psycho {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_gateway_header(std::string_view name) noexcept {
  return name.size() >= kGatewayHeaderPrefix.size() &&
         equals_ignoring_case(name.substr(0, kGatewayHeaderPrefix.size()), kGatewayHeaderPrefix);
}

std::string_view header_value(std::string_view line) noexcept {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  return value;
}

std::string_view without_gateway_headers(std::string_view block, std::string& scratch) {
  bool any = false;
  for_each_header_line(block, [&](std::string_view, std::string_view name) {
    any = any || is_gateway_header(name);
  });
  if (!any) return block;
  copy_block_without(block, is_gateway_header, scratch);
  scratch += "\r\n";
  return scratch;
}

}  // namespace psycho
