// Small helpers for reading what a gateway and its clients saw: a figure from /metrics, the
// MSG frame a client should receive, and counting occurrences.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gateway.hpp"
#include "process.hpp"

namespace psycho::testing {

// A figure from /metrics, e.g. metric(gw, "psycho_multicast_peers{adapter=\"multicast\"}");
// -1 when absent.
inline double metric(Gateway& gw, const std::string& name) {
  const std::string text = gw.http_get("/metrics");
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

// What Prometheus' own `promtool check metrics` says of the gateway's /metrics: empty when it
// passes, otherwise its exit status and report (naming, units, types).
inline std::string promtool_problems(Gateway& gw) {
  const std::string response = gw.http_get("/metrics");
  const auto body_at = response.find("\r\n\r\n");
  if (body_at == std::string::npos) return "no /metrics response: " + response;
  const std::string path = write_temp_file("metrics", response.substr(body_at + 4));
  Process promtool({"/bin/sh", "-c", "promtool check metrics < " + path});
  const int status = promtool.wait(std::chrono::seconds(10));
  std::remove(path.c_str());
  if (status == 0) return "";
  return "promtool exited " + std::to_string(status) + ": " + promtool.output() + promtool.errors();
}

// The samples of /metrics whose line contains `part`, one per line: for failure messages.
inline std::string metrics_with(Gateway& gw, const std::string& part) {
  const std::string text = gw.http_get("/metrics");
  std::string out;
  for (std::size_t from = 0; from < text.size();) {
    auto end = text.find('\n', from);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(from, end - from);
    if (!line.empty() && line[0] != '#' && line.find(part) != std::string::npos) {
      out += line + "\n";
    }
    from = end + 1;
  }
  return out;
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

// The last MSG line of what a client received ("none" if none), for failure messages.
inline std::string last_headline(const std::string& received) {
  const auto at = received.rfind("MSG ");
  if (at == std::string::npos) return "none";
  return received.substr(at, std::min<std::size_t>(received.find('\n', at) - at, 40));
}

}  // namespace psycho::testing
