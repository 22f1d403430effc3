#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace psycho::testing {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
std::string temp_file(const char* tag) {
  std::string pattern = std::string("/tmp/psycho-test-") + tag + "-XXXXXX";
  const int fd = mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  return pattern;
}
}  // namespace

Process::Process(std::vector<std::string> argv, bool pipe_stdin)
    : out_path_(temp_file("out")), err_path_(temp_file("err")) {
  int in_pipe[2] = {-1, -1};
  if (pipe_stdin && ::pipe(in_pipe) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // If the test dies (a crash, a ctest timeout) before it ends this process, the kernel
    // ends it too: no gateway or nats-server outlives the test that started it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);  // the test was already gone
    if (pipe_stdin) {
      ::dup2(in_pipe[0], STDIN_FILENO);
      ::close(in_pipe[0]);
      ::close(in_pipe[1]);
    } else {
      const int null_fd = ::open("/dev/null", O_RDONLY);
      ::dup2(null_fd, STDIN_FILENO);
    }
    const int out = ::open(out_path_.c_str(), O_WRONLY | O_TRUNC);
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_TRUNC);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  if (pipe_stdin) {
    ::close(in_pipe[0]);
    stdin_fd_ = in_pipe[1];
  }
}

Process::~Process() {
  close_stdin();
  if (running()) {
    signal(SIGTERM);
    if (wait(std::chrono::seconds(5)) == -1) {
      signal(SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
}

bool Process::running() {
  if (exited_ || pid_ <= 0) return false;
  const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) exited_ = true;
  return !exited_;
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (!eventually([this] { return !running(); }, timeout)) return -1;
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return -128 - WTERMSIG(status_);
  return -1;
}

void Process::write_stdin(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void Process::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

std::string Process::output() const { return slurp(out_path_); }
std::string Process::errors() const { return slurp(err_path_); }

void Process::wait_until_ready(const std::string& what, const std::function<bool()>& ready,
                               std::chrono::milliseconds timeout) {
  if (eventually([&] { return ready() || !running(); }, timeout) && running()) return;
  const std::string within =
      running() ? " within " + std::to_string(timeout.count()) + " ms" : std::string();
  throw std::runtime_error(what + within + ": " + describe());
}

std::string Process::describe() {
  std::string how = "still running";
  if (!running()) {
    if (WIFEXITED(status_)) how = "exited with code " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) how = "killed by signal " + std::to_string(WTERMSIG(status_));
  }
  return how + "; its stderr:\n" + errors();
}

}  // namespace psycho::testing
