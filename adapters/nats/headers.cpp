#include "adapters/nats/headers.hpp"

#include "adapters/nats/raw_message.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace psycho::nats {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out, int base) noexcept {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && end == text.data() + text.size();
}

// Hand-rolled: this runs once per exported message, where snprintf showed in profiles.
char* put_hex16(char* out, std::uint64_t v) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = digits[v & 0xF];
    v >>= 4;
  }
  return out + 16;
}

// "503", "404 No Messages": what followed NATS/1.0 on the first line, or empty. nats.c
// files a status line under the names "Status" and "Description", which a publisher may
// also use for headers of its own: only a three-digit Status is taken for a status line.
std::string status_line(natsMsg* msg) {
  const char* status = nullptr;
  natsMsgHeader_Get(msg, "Status", &status);
  const bool code = status != nullptr && std::strlen(status) == 3 &&
                    std::all_of(status, status + 3, [](char c) { return c >= '0' && c <= '9'; });
  if (!code) return {};
  const char* description = nullptr;
  natsMsgHeader_Get(msg, "Description", &description);
  std::string line = status;
  if (description != nullptr && *description != '\0') line += std::string(" ") + description;
  return line;
}

}  // namespace

TraceHeader trace_header_kind(std::string_view name) noexcept {
  if (equals_ignoring_case(name, kTraceHeader)) return TraceHeader::trace;
  if (equals_ignoring_case(name, kLegacyOriginHeader)) return TraceHeader::legacy_origin;
  if (equals_ignoring_case(name, kLegacyMsgIdHeader)) return TraceHeader::legacy_msg_id;
  if (equals_ignoring_case(name, kLegacyHopsHeader)) return TraceHeader::legacy_hops;
  return TraceHeader::none;
}

void format_trace(const Trace& trace, TraceValues& out) noexcept {
  char* p = put_hex16(out.msg_id, trace.node_id);
  *p++ = '-';
  p = std::to_chars(p, out.msg_id + sizeof out.msg_id - 1, trace.seq).ptr;
  *p = '\0';
  const std::size_t id_length = static_cast<std::size_t>(p - out.msg_id);
  std::memcpy(out.trace, out.msg_id, id_length);
  char* q = out.trace + id_length;
  *q++ = '-';
  *std::to_chars(q, out.trace + sizeof out.trace - 1, trace.hops).ptr = '\0';
}

std::optional<Trace> parse_trace(std::string_view value) noexcept {
  const std::size_t first = value.find('-');
  const std::size_t last = value.rfind('-');
  if (first == std::string_view::npos || first == last) return std::nullopt;
  const std::string_view origin = value.substr(0, first);
  return parse_legacy_trace(origin, value.substr(0, last), value.substr(last + 1));
}

std::optional<Trace> parse_legacy_trace(std::string_view origin, std::string_view msg_id,
                                        std::string_view hops) noexcept {
  Trace t;
  const std::size_t dash = msg_id.find('-');
  std::uint64_t id_node = 0;
  unsigned hop_count = 0;
  if (dash == std::string_view::npos || !parse_number(origin, t.node_id, 16) ||
      !parse_number(msg_id.substr(0, dash), id_node, 16) || id_node != t.node_id ||
      !parse_number(msg_id.substr(dash + 1), t.seq, 10) || !parse_number(hops, hop_count, 10) ||
      hop_count > 255 || t.node_id == 0) {
    return std::nullopt;
  }
  t.hops = static_cast<std::uint8_t>(hop_count);
  return t;
}

void HeaderBlockBuilder::begin(std::string& out, std::string_view status) {
  out.assign(kHeaderLine);
  any_ = !status.empty();
  if (any_) {
    out += ' ';
    out += status;
  }
  out += "\r\n";
}

void HeaderBlockBuilder::add(std::string& out, std::string_view name, std::string_view value) {
  any_ = true;
  out += name;
  out += ": ";
  // A value must not end the line early: CR and LF become spaces, as nats.c does.
  for (const char c : value) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

void HeaderBlockBuilder::end(std::string& out) {
  if (!any_) {
    out.clear();
    return;
  }
  out += "\r\n";
}

std::optional<Trace> split_trace(std::string_view block, std::string& scratch,
                                 std::string_view& headers) {
  std::string_view trace[5];  // by TraceHeader
  bool any_gateway = false;
  bool any_trace = false;
  bool any_other = false;
  for_each_header_line(block, [&](std::string_view line, std::string_view name) {
    if (!is_gateway_header(name)) {
      any_other = true;
      return;
    }
    any_gateway = true;
    const TraceHeader kind = trace_header_kind(name);
    any_trace = any_trace || kind != TraceHeader::none;
    trace[static_cast<int>(kind)] = header_value(line);
  });
  const std::string_view first_line = block.substr(0, block.find("\r\n"));
  if (any_trace && !any_other && first_line == kHeaderLine) {
    headers = {};  // the block a gateway added for its trace: nothing for a client
  } else {
    headers = any_gateway ? without_gateway_headers(block, scratch) : block;  // an empty one too
  }
  if (!any_gateway) return std::nullopt;
  const auto [none, compact, origin, msg_id, hops] = trace;
  if (!compact.empty()) return parse_trace(compact);
  if (origin.empty() || msg_id.empty() || hops.empty()) return std::nullopt;
  return parse_legacy_trace(origin, msg_id, hops);
}

OutgoingBody outgoing_body(std::string_view headers, std::string_view payload,
                           std::string_view trace, std::string_view msg_id, std::string& scratch) {
  const auto dropped = [&](std::string_view name) {
    return is_gateway_header(name) ||
           (!msg_id.empty() && equals_ignoring_case(name, kJetStreamMsgIdHeader));
  };
  bool unchanged = trace.empty() && msg_id.empty();
  if (unchanged) {
    for_each_header_line(headers, [&](std::string_view, std::string_view name) {
      if (dropped(name)) unchanged = false;
    });
  }
  if (unchanged && headers.data() + headers.size() == payload.data()) {
    return {std::string_view(headers.data(), headers.size() + payload.size()), headers.size()};
  }
  if (unchanged && headers.empty()) return {payload, 0};
  if (headers.empty()) {
    scratch.assign(kHeaderLine);
    scratch += "\r\n";
  } else {
    copy_block_without(headers, dropped, scratch);
  }
  const auto add = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    scratch += name;
    scratch += ": ";
    scratch += value;
    scratch += "\r\n";
  };
  add(kTraceHeader, trace);
  add(kJetStreamMsgIdHeader, msg_id);
  scratch += "\r\n";
  const std::size_t header_size = scratch.size();
  scratch += payload;
  return {scratch, header_size};
}

std::optional<Trace> take_headers(natsMsg* msg, std::string& scratch, std::string_view& headers) {
  if (const auto raw = received_header_block(msg)) return split_trace(*raw, scratch, headers);
  std::string& block = scratch;
  block.clear();
  headers = {};
  const char** keys = nullptr;
  int key_count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &key_count) != NATS_OK) return std::nullopt;
  HeaderBlockBuilder builder;
  const std::string status = status_line(msg);
  builder.begin(block, status);
  const char* trace[5] = {};  // by TraceHeader; pointers into the message
  for (int i = 0; i < key_count; ++i) {
    const std::string_view key = keys[i];
    if (!status.empty() && (key == "Status" || key == "Description")) continue;
    if (is_gateway_header(key)) {
      const char* value = nullptr;
      natsMsgHeader_Get(msg, keys[i], &value);
      trace[static_cast<int>(trace_header_kind(key))] = value;
      continue;
    }
    const char** values = nullptr;
    int value_count = 0;
    if (natsMsgHeader_Values(msg, keys[i], &values, &value_count) == NATS_OK) {
      for (int v = 0; v < value_count; ++v) builder.add(block, key, values[v]);
      std::free(static_cast<void*>(values));
    }
  }
  std::free(static_cast<void*>(keys));
  builder.end(block);
  headers = block;
  const auto [none, compact, origin, msg_id, hops] = trace;
  if (compact != nullptr) return parse_trace(compact);
  if (origin == nullptr || msg_id == nullptr || hops == nullptr) return std::nullopt;
  return parse_legacy_trace(origin, msg_id, hops);
}

}  // namespace psycho::nats
