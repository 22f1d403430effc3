#include "core/log.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace psycho::log {
namespace {

using config::LogFormat;
using config::LogLevel;

// Captures what the logger writes through a pipe.
class LogCapture {
 public:
  LogCapture() {
    EXPECT_EQ(::pipe(fds_), 0);
    set_output_fd(fds_[1]);
  }
  ~LogCapture() {
    set_output_fd(STDERR_FILENO);
    configure({});
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string read() {
    char buf[4096];
    const ssize_t n = ::read(fds_[0], buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  int fds_[2];
};

TEST(Log, TextLines) {
  LogCapture capture;
  configure({LogLevel::info, LogFormat::text});
  info("client connected", {{"cid", 12}, {"remote", "127.0.0.1:5555"}, {"why", "a b"}});
  const std::string line = capture.read();
  EXPECT_EQ(line.size(), 24 + std::string(" INFO client connected cid=12 remote=127.0.0.1:5555 "
                                          "why=\"a b\"\n").size())
      << line;
  EXPECT_NE(line.find("Z INFO client connected cid=12 remote=127.0.0.1:5555 why=\"a b\"\n"),
            std::string::npos)
      << line;
}

TEST(Log, JsonLinesAreEscaped) {
  LogCapture capture;
  configure({LogLevel::debug, LogFormat::json});
  warn("odd \"input\"", {{"bytes", std::size_t{3}}, {"ok", false}, {"text", "line\nbreak"}});
  const std::string line = capture.read();
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_NE(line.find("\"level\":\"warn\",\"msg\":\"odd \\\"input\\\"\",\"bytes\":3,\"ok\":false,"
                      "\"text\":\"line\\nbreak\"}\n"),
            std::string::npos)
      << line;
}

TEST(Log, LevelsBelowTheThresholdCostNothing) {
  configure({LogLevel::warn, LogFormat::text});
  EXPECT_FALSE(enabled(LogLevel::info));
  EXPECT_TRUE(enabled(LogLevel::error));
  configure({LogLevel::off, LogFormat::text});
  EXPECT_FALSE(enabled(LogLevel::error));
  configure({});
}

}  // namespace
}  // namespace psycho::log
