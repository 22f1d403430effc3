// Starts a real process for an integration test and ends it — only it, by its pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace psycho::testing {

class Process {
 public:
  // Starts `argv[0]` with the arguments; stdout and stderr go to files in a temp dir
  // (read them with output() / errors()). With `pipe_stdin`, write_stdin() feeds stdin.
  explicit Process(std::vector<std::string> argv, bool pipe_stdin = false);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool running();
  // Sends a signal to this process only.
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit code, or -1 if it is still running
  // (or -128-N when killed by signal N).
  int wait(std::chrono::milliseconds timeout);
  void write_stdin(const std::string& data);
  void close_stdin();
  std::string output() const;
  std::string errors() const;

  // Polls `ready` (bounded by `timeout`) until it returns true. Throws std::runtime_error
  // naming `what` when the process exits first or time runs out; the message holds how it
  // ended and its stderr, which is all a failed start-up leaves to see.
  void wait_until_ready(const std::string& what, const std::function<bool()>& ready,
                        std::chrono::milliseconds timeout);
  // "exited with code 1" / "killed by signal 9" / "still running", then its stderr.
  std::string describe();

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string out_path_, err_path_;
};

// The whole file; "" when it cannot be read (yet).
std::string slurp(const std::string& path);

// Polls `check` until it returns true or the deadline passes.
template <class F>
bool eventually(F&& check, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    struct timespec ts {
      0, 2'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return check();
}

}  // namespace psycho::testing
