// Reading and trimming NATS header blocks ("NATS/1.0[ status]\r\nName: value\r\n...\r\n\r\n"),
// without parsing them into a map: a block is kept byte for byte (order, case and repeated
// names as the publisher wrote them) except for the lines the gateway owns.
#pragma once

#include <string>
#include <string_view>

namespace psycho {

// Header names the gateways own: every name that starts with "Psycho-" (in any case, as
// HTTP-style names compare). They carry a message's identity between gateways and are
// never shown to clients (PROTOCOL.md).
inline constexpr std::string_view kGatewayHeaderPrefix = "Psycho-";

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept;
bool is_gateway_header(std::string_view name) noexcept;

// Calls f(line, name) for each header line of a block, as its bytes (without the CRLF);
// stops at the blank line. `name` is what precedes the colon, or the whole line when there
// is none. The first line (`NATS/1.0 ...`) is not a header.
template <class F>
void for_each_header_line(std::string_view block, F&& f) {
  std::size_t pos = block.find("\r\n");
  while (pos != std::string_view::npos) {
    pos += 2;
    const std::size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) return;
    const std::string_view line = block.substr(pos, end - pos);
    f(line, line.substr(0, line.find(':')));
    pos = end;
  }
}

// The value of a header line: what follows the colon, less leading blanks ("" without one).
std::string_view header_value(std::string_view line) noexcept;

// Writes into `out` a block's first line and the header lines `drop` does not name, each as
// its bytes, without the closing blank line.
template <class Drop>
void copy_block_without(std::string_view block, Drop&& drop, std::string& out) {
  out.assign(block.substr(0, block.find("\r\n")));
  out += "\r\n";
  for_each_header_line(block, [&](std::string_view line, std::string_view name) {
    if (drop(name)) return;
    out += line;
    out += "\r\n";
  });
}

// A whole block (is_valid_header_block), or none, less its gateway headers: the block itself
// when it has none, else a copy in `scratch`. What is left may be the first line alone
// ("NATS/1.0\r\n\r\n"): a block with no headers is still a block, as nats-server delivers it.
std::string_view without_gateway_headers(std::string_view block, std::string& scratch);

}  // namespace psycho
