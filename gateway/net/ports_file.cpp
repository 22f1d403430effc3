#include "net/ports_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "metrics/json.hpp"

namespace psycho::net {

std::string render_ports_json(const std::vector<NamedPort>& ports) {
  metrics::JsonWriter j;
  j.begin_object();
  for (const auto& p : ports) {
    if (p.port != 0) j.field(p.name, static_cast<int>(p.port));
  }
  j.end_object();
  return j.take() + "\n";
}

Status write_ports_file(const std::string& path, const std::vector<NamedPort>& ports) {
  // The pid keeps two gateways given one path by mistake from writing one temporary file.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const std::string text = render_ports_json(ports);
  std::FILE* f = std::fopen(temp.c_str(), "w");
  if (f == nullptr) return fail("--ports-file: cannot write " + temp + ": " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  int error = ok ? 0 : errno;
  if (std::fclose(f) != 0 && ok) {  // a full disk may show only when the buffer is flushed
    ok = false;
    error = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return fail("--ports-file: cannot write " + temp + ": " + std::strerror(error));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temp.c_str());
    return fail("--ports-file: cannot rename " + temp + " to " + path + ": " +
                std::strerror(rename_errno));
  }
  return Ok{};
}

void remove_ports_file(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());  // ENOENT is fine: it was never written
}

}  // namespace psycho::net
