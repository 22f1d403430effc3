#include "net/static_files.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

namespace psycho::net {

namespace fs = std::filesystem;

namespace {

StaticResponse error_response(unsigned status, std::string text) {
  StaticResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(text) + "\n";
  r.content_length = r.body.size();
  return r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One segment percent-decoded, or "" with `refusal` set. Decoding happens once, after
// splitting on the literal '/', so an encoded separator can never make a new segment; it is
// refused outright rather than taken as part of a name.
std::string decode_segment(std::string_view raw, std::string& refusal) {
  std::string name;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      const int high = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
      const int low = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
      if (high < 0 || low < 0) {
        refusal = "bad request: a '%' without two hex digits";
        return {};
      }
      c = static_cast<char>(high * 16 + low);
      i += 2;
      if (c == '/' || c == '\\') {
        refusal = "bad request: encoded path separators are not allowed";
        return {};
      }
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      refusal = "bad request: control characters (NUL included) are not allowed";
      return {};
    }
    if (c == '\\') {
      refusal = "bad request: backslashes are not allowed";
      return {};
    }
    name.push_back(c);
  }
  if (name == "." || name == "..") refusal = "bad request: '.' and '..' segments are not allowed";
  return name;
}

struct Segments {
  std::vector<std::string> names;
  bool directory = false;  // the path ends with '/'
  std::string refusal;     // non-empty: answer 400 with it
};

// `path` starts with '/'; empty segments ("//") are skipped.
Segments split_path(std::string_view path) {
  Segments out;
  out.directory = path.ends_with('/');
  std::size_t start = 1;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view raw = path.substr(start, end - start);
    start = end + 1;
    if (raw.empty()) continue;
    std::string name = decode_segment(raw, out.refusal);
    if (!out.refusal.empty()) return out;
    out.names.push_back(std::move(name));
  }
  return out;
}

bool lies_under(const fs::path& path, const fs::path& root) {
  return std::mismatch(root.begin(), root.end(), path.begin(), path.end()).first == root.end();
}

}  // namespace

std::string_view static_content_type(const fs::path& file) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
      {".ts", "text/plain; charset=utf-8"},
  };
  const std::string extension = file.extension().string();
  for (const auto& [ext, type] : kTypes) {
    if (extension == ext) return type;
  }
  return "application/octet-stream";
}

Result<StaticFiles> StaticFiles::open(const std::string& dir) {
  std::error_code ec;
  fs::path root = fs::canonical(dir, ec);
  if (ec) return fail("gateway.websocket_static: '" + dir + "': " + ec.message());
  if (!fs::is_directory(root, ec)) {
    return fail("gateway.websocket_static: '" + dir + "' is not a directory");
  }
  return StaticFiles(std::move(root));
}

StaticResponse StaticFiles::respond(std::string_view method, std::string_view target) const {
  const bool head = method == "HEAD";
  StaticResponse r = answer(method, target, head);
  if (head) r.body.clear();  // a HEAD answer, errors included, has no body; the length stays
  return r;
}

StaticResponse StaticFiles::answer(std::string_view method, std::string_view target,
                                   bool head) const {
  if (method != "GET" && !head) {
    auto r = error_response(405, "method not allowed: static files answer GET and HEAD only");
    r.allow = "GET, HEAD";
    return r;
  }
  if (target.size() > kStaticTargetMax) {
    return error_response(
        414, "request target longer than " + std::to_string(kStaticTargetMax) + " bytes");
  }
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (!path.starts_with('/'))
    return error_response(400, "bad request: the path must start with '/'");
  Segments segments = split_path(path);
  if (!segments.refusal.empty()) return error_response(400, segments.refusal);
  fs::path file = root_;
  for (const auto& name : segments.names) {
    if (name.starts_with('.')) return error_response(404, "not found");  // hidden files
    file /= name;
  }
  std::error_code ec;
  const fs::path real = fs::canonical(file, ec);
  if (ec) return error_response(404, "not found");
  if (!lies_under(real, root_)) {
    return error_response(403, "forbidden: the path leads outside the static directory");
  }
  if (fs::is_directory(real, ec)) {
    if (!segments.directory && !segments.names.empty()) {
      StaticResponse r = error_response(301, "moved: the directory is at its path with '/'");
      r.location = std::string(path) + "/";
      return r;
    }
    const fs::path index = fs::canonical(real / "index.html", ec);
    if (ec || !lies_under(index, root_)) return error_response(404, "not found");
    return serve_file(index, head);
  }
  return serve_file(real, head);
}

StaticResponse StaticFiles::serve_file(const fs::path& file, bool head) const {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return error_response(404, "not found");
  const auto size = fs::file_size(file, ec);
  if (ec) return error_response(404, "not found");
  if (size > kStaticFileMax) {
    return error_response(403, "forbidden: the file is larger than the " +
                                   std::to_string(kStaticFileMax) + "-byte limit");
  }
  StaticResponse r;
  r.content_type = std::string(static_content_type(file));
  r.content_length = size;
  if (head) return r;
  std::ifstream in(file, std::ios::binary);
  r.body.resize(size);
  if (!in.read(r.body.data(), static_cast<std::streamsize>(size))) {
    return error_response(500, "the file could not be read");
  }
  return r;
}

}  // namespace psycho::net
