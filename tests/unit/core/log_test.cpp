// The logger's line formats, level filter and whole-line writes, captured through a pipe.
#include "core/log.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <regex>
#include <sstream>
#include <thread>

namespace psycho::log {
namespace {

using LogFormat = Format;
using LogLevel = Level;

// Points the logger at a pipe for one test and restores stderr and the defaults after.
class LogCapture {
 public:
  explicit LogCapture(Options config) {
    // Only the read end is non-blocking: the logger drops lines a full pipe refuses.
    EXPECT_EQ(::pipe(fds_), 0);
    ::fcntl(fds_[0], F_SETFL, O_NONBLOCK);
    set_output_fd(fds_[1]);
    configure(config);
  }
  ~LogCapture() {
    set_output_fd(STDERR_FILENO);
    configure({});
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  // Everything written so far (the pipe is non-blocking: nothing more means done).
  std::string read() {
    std::string all;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fds_[0], buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
    return all;
  }
  int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

const std::string kTimestamp = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)";

TEST(Log, TextLines) {
  LogCapture capture({LogLevel::info, LogFormat::text});
  info("client connected", {{"cid", 12}, {"remote", "127.0.0.1:5555"}, {"why", "a b"}});
  const std::string line = capture.read();
  EXPECT_TRUE(std::regex_match(
      line, std::regex(kTimestamp +
                       R"( INFO client connected cid=12 remote=127.0.0.1:5555 why="a b"\n)")))
      << line;
}

TEST(Log, TextValueQuotingAndTypes) {
  LogCapture capture({LogLevel::trace, LogFormat::text});
  trace("multi\nline", {{"empty", ""},
                        {"eq", "a=b"},
                        {"quote", "say \"hi\""},
                        {"tab", "a\tb"},
                        {"neg", -5},
                        {"big", std::numeric_limits<std::uint64_t>::max()},
                        {"min", std::numeric_limits<std::int64_t>::min()},
                        {"pi", 3.25},
                        {"nan", std::nan("")},
                        {"yes", true}});
  const std::string line = capture.read();
  const std::string want =
      R"( TRACE multi\nline empty="" eq="a=b" quote="say \"hi\"" tab="a\tb" neg=-5 )"
      R"(big=18446744073709551615 min=-9223372036854775808 pi=3.25 nan=nan yes=true)"
      "\n";
  ASSERT_GT(line.size(), 24u);
  EXPECT_EQ(line.substr(24), want);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "one event, one line";
}

TEST(Log, JsonLinesAreEscaped) {
  LogCapture capture({LogLevel::debug, LogFormat::json});
  warn("odd \"input\"", {{"bytes", std::size_t{3}},
                         {"ok", false},
                         {"text", "line\nbreak\\\x01"},
                         {"ratio", 0.5},
                         {"inf", std::numeric_limits<double>::infinity()},
                         {"neg", -1}});
  const std::string line = capture.read();
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(\{"ts":")" + kTimestamp +
                       R"(","level":"warn","msg":"odd \\"input\\"","bytes":3,"ok":false,)"
                       R"("text":"line\\nbreak\\\\\\u0001","ratio":0.5,"inf":null,"neg":-1\}\n)")))
      << line;
}

TEST(Log, LevelNamesInBothFormats) {
  const std::pair<LogLevel, const char*> levels[] = {{LogLevel::trace, "TRACE"},
                                                     {LogLevel::debug, "DEBUG"},
                                                     {LogLevel::info, "INFO"},
                                                     {LogLevel::warn, "WARN"},
                                                     {LogLevel::error, "ERROR"}};
  for (const auto& [level, upper] : levels) {
    LogCapture text({LogLevel::trace, LogFormat::text});
    write(level, "m", {});
    EXPECT_EQ(text.read().substr(24), std::string(" ") + upper + " m\n");
  }
  LogCapture json({LogLevel::trace, LogFormat::json});
  error("m");
  EXPECT_NE(json.read().find(R"("level":"error","msg":"m"})"), std::string::npos);
}

TEST(Log, LevelsBelowTheThresholdAreNotWritten) {
  LogCapture capture({LogLevel::warn, LogFormat::text});
  EXPECT_FALSE(enabled(LogLevel::trace));
  EXPECT_FALSE(enabled(LogLevel::info));
  EXPECT_TRUE(enabled(LogLevel::warn));
  EXPECT_TRUE(enabled(LogLevel::error));
  EXPECT_FALSE(enabled(LogLevel::off));
  debug("hidden");
  info("hidden");
  error("shown");
  const std::string out = capture.read();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("ERROR shown"), std::string::npos);
  configure({LogLevel::off, LogFormat::text});
  EXPECT_FALSE(enabled(LogLevel::error));
  error("silenced");
  EXPECT_EQ(capture.read(), "");
}

TEST(Log, DefaultsAreInfoAndText) {
  configure({});
  EXPECT_FALSE(enabled(LogLevel::debug));
  EXPECT_TRUE(enabled(LogLevel::info));
}

TEST(Log, LinesFromManyThreadsNeverInterleave) {
  LogCapture capture({LogLevel::info, LogFormat::text});
  constexpr int kThreads = 4, kLines = 500;
  std::string all;
  std::atomic<bool> writers_done{false};
  std::thread reader([&] {
    // Drain concurrently so the pipe never fills; stop once writers are done and it is empty.
    while (true) {
      std::string chunk = capture.read();
      if (chunk.empty() && writers_done.load()) break;
      all += chunk;
      if (chunk.empty()) std::this_thread::yield();
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([t] {
      const std::string padding(100 + t * 50, static_cast<char>('a' + t));
      for (int i = 0; i < kLines; ++i) info("tick", {{"thread", t}, {"i", i}, {"pad", padding}});
    });
  }
  for (auto& w : writers) w.join();
  writers_done.store(true);
  reader.join();
  std::istringstream lines(all);
  std::string line;
  int count = 0;
  const std::regex shape(kTimestamp + R"( INFO tick thread=(\d) i=\d+ pad=([a-d])\2*)");
  while (std::getline(lines, line)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, shape)) << line;
    EXPECT_EQ(m[2].str()[0], 'a' + std::stoi(m[1].str()));
    ++count;
  }
  EXPECT_EQ(count, kThreads * kLines);
}

}  // namespace
}  // namespace psycho::log
