// The files a WebSocket listener serves to plain HTTP requests (`gateway.websocket_static`),
// so that a browser can load the pages that then connect back over WebSocket on the same
// port. Pure request -> response, no I/O beyond reading the file: the session writes it.
//
// Only what lies under the directory is reachable: the target is percent-decoded once and
// refused with 400 when it holds `.` or `..` segments, an encoded `/` or `\`, a backslash,
// NUL or another control character; a segment starting with `.` (hidden files such as
// `.git`) is not found; and the resolved path, symlinks followed, must still lie under the
// directory (403 otherwise). Files larger than kStaticFileMax are refused (403).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace psycho::net {

// Each file is read whole into memory for its response: the bound keeps a request's memory
// small; application bundles (pages, modules, a WebAssembly module) fit well within it.
inline constexpr std::size_t kStaticFileMax = 32 * 1024 * 1024;
// Longer request targets are answered 414 (a page's paths are nowhere near this).
inline constexpr std::size_t kStaticTargetMax = 2048;

struct StaticResponse {
  unsigned status = 200;
  std::string content_type;  // of `body`
  std::string body;          // empty for HEAD; `content_length` is still the file's size
  std::size_t content_length = 0;
  std::string location;  // for a 301 (a directory asked for without its trailing '/')
  std::string allow;     // for a 405
};

class StaticFiles {
 public:
  // `dir` must name a directory; it is resolved once (symlinks, relative to the working
  // directory) so that every request is checked against the same real path.
  static Result<StaticFiles> open(const std::string& dir);

  // Any thread; reads the file on the calling thread (small files from local disk).
  StaticResponse respond(std::string_view method, std::string_view target) const;

  const std::filesystem::path& root() const noexcept { return root_; }

 private:
  explicit StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}
  StaticResponse answer(std::string_view method, std::string_view target, bool head) const;
  StaticResponse serve_file(const std::filesystem::path& file, bool head) const;

  std::filesystem::path root_;
};

// The Content-Type for a file name's extension; application/octet-stream when unknown.
std::string_view static_content_type(const std::filesystem::path& file);

}  // namespace psycho::net
