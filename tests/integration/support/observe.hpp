// Small helpers for reading what a gateway and its clients saw: a figure from /metrics, the
// MSG frame a client should receive, and counting occurrences.
#pragma once

#include <cstdlib>
#include <string>

#include "gateway.hpp"

namespace psycho::testing {

// A figure from /metrics, e.g. metric(gw, "psycho_multicast_peers{adapter=\"multicast\"}");
// -1 when absent.
inline double metric(Gateway& gw, const std::string& name) {
  const std::string text = gw.http_get("/metrics");
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

// The first field `key` of /varz (an adapter's details come in the order of the adapters), as
// text: a string without its quotes, or a number or bool as written; "?" when absent.
inline std::string varz_field(Gateway& gw, const std::string& key) {
  const std::string varz = gw.http_get("/varz");
  const std::string quoted = "\"" + key + "\":";
  const auto at = varz.find(quoted);
  if (at == std::string::npos) return "?";
  auto from = at + quoted.size();
  if (from < varz.size() && varz[from] == '"') {
    ++from;
    return varz.substr(from, varz.find('"', from) - from);
  }
  return varz.substr(from, varz.find_first_of(",}]", from) - from);
}

// The MSG a Psycho client receives for a message without reply subject.
inline std::string frame(const std::string& subject, const std::string& payload) {
  return "MSG " + subject + " " + std::to_string(payload.size()) + "\n" + payload + "\n";
}

// The occurrences of `needle` in `text`.
inline std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The MSG lines of what a client received, for failure messages.
inline std::string headlines(const std::string& received) {
  std::string out;
  for (auto at = received.find("MSG "); at != std::string::npos;
       at = received.find("MSG ", at + 1)) {
    out += received.substr(at, received.find('\n', at) - at) + "; ";
  }
  return out;
}

}  // namespace psycho::testing
