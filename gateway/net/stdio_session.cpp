// One client on stdin/stdout: the seed's "the app runs the gateway as a subprocess" mode.
//
// stdin and stdout may be pipes, terminals or regular files, and epoll refuses regular
// files, so the bytes are moved by two small threads owned by a StdioPipe, not by Asio.
// The pipe outlives the session (the server owns it) and can always be stopped: the reader
// polls stdin together with an eventfd. The handoff is bounded: the reader reads the next
// chunk only after the worker has parsed the previous one, and one write is in flight.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <condition_variable>
#include <thread>

#include "core/mutex.hpp"
#include "net/client_session.hpp"
#include "net/transports.hpp"

namespace psycho::net {
namespace {

namespace asio = boost::asio;
constexpr std::size_t kReadChunk = 64 * 1024;

class StdioSession;

class StdioPipeImpl final : public StdioPipe {
 public:
  explicit StdioPipeImpl(asio::io_context& io) : io_(io), wake_(::eventfd(0, EFD_CLOEXEC)) {}
  ~StdioPipeImpl() override {
    {
      MutexLock lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
    if (reader_.joinable()) reader_.join();
    if (writer_.joinable()) writer_.join();
    ::close(wake_);
  }

  void run(std::weak_ptr<StdioSession> session);
  void want_read() {
    {
      MutexLock lock(mutex_);
      read_wanted_ = true;
    }
    cv_.notify_all();
  }
  void write(const std::vector<asio::const_buffer>* buffers) {
    {
      MutexLock lock(mutex_);
      to_write_ = buffers;
    }
    cv_.notify_all();
  }
  std::string take_input() {
    MutexLock lock(mutex_);
    return std::move(inbound_);
  }

 private:
  void read_loop();
  void write_loop();
  bool wait_readable();
  static std::error_code write_all(const std::vector<asio::const_buffer>& buffers);

  asio::io_context& io_;
  int wake_;
  std::weak_ptr<StdioSession> session_;
  std::thread reader_, writer_;
  Mutex mutex_;
  std::condition_variable cv_;
  std::string inbound_ GUARDED_BY(mutex_);
  const std::vector<asio::const_buffer>* to_write_ GUARDED_BY(mutex_) = nullptr;
  bool read_wanted_ GUARDED_BY(mutex_) = false;  // start() asks for the first read
  bool stop_ GUARDED_BY(mutex_) = false;
};

class StdioSession final : public ClientSession {
 public:
  StdioSession(SessionContext& ctx, int worker, asio::io_context& io, StdioPipeImpl& pipe,
               std::function<void()> on_closed)
      : ClientSession(ctx, worker, io, metrics::Transport::stdio, "stdio"),
        pipe_(pipe),
        on_closed_(std::move(on_closed)) {}

  void input(bool eof) {
    if (eof) {
      // End of input is the client saying goodbye, not a broken connection: what it is still
      // owed (the replies to its last ops) is written before the session closes, and the
      // server's shutdown waits for that.
      drain();  // ends in do_shutdown(), which tells the server
      return;
    }
    const std::string data = pipe_.take_input();
    on_read(data);
  }
  void output_done(std::error_code ec) {
    writing_self_.reset();
    on_write_done(ec);
  }

 private:
  void do_read() override { pipe_.want_read(); }
  void do_write(const std::vector<asio::const_buffer>& buffers) override {
    // The writer thread reads our buffers: keep the session alive until it is done.
    writing_self_ = shared_from_this();
    pipe_.write(&buffers);
  }
  // stdout belongs to the process and exiting closes it; but once the one client is gone,
  // for whatever reason, the gateway has nothing left to do.
  void do_shutdown() override {
    if (on_closed_) std::exchange(on_closed_, nullptr)();
  }

  StdioPipeImpl& pipe_;
  std::function<void()> on_closed_;
  std::shared_ptr<ClientSession> writing_self_;
};

void StdioPipeImpl::run(std::weak_ptr<StdioSession> session) {
  session_ = std::move(session);
  reader_ = std::thread([this] { read_loop(); });
  writer_ = std::thread([this] { write_loop(); });
}

bool StdioPipeImpl::wait_readable() {
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_, POLLIN, 0}};
  while (true) {
    const int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (fds[1].revents & POLLIN) != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

void StdioPipeImpl::read_loop() {
  std::vector<char> chunk(kReadChunk);
  while (true) {
    {
      MutexLock lock(mutex_);
      while (!read_wanted_ && !stop_) lock.wait(cv_);
      if (stop_) return;
      read_wanted_ = false;
    }
    if (!wait_readable()) return;
    ssize_t n;
    do {
      n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    } while (n < 0 && errno == EINTR);
    const bool eof = n <= 0;
    if (!eof) {
      MutexLock lock(mutex_);
      // Appended, not assigned: the worker may not have taken the previous chunk yet.
      inbound_.append(chunk.data(), static_cast<std::size_t>(n));
    }
    asio::post(io_, [s = session_, eof] {
      if (auto session = s.lock()) session->input(eof);
    });
    if (eof) return;
  }
}

void StdioPipeImpl::write_loop() {
  MutexLock lock(mutex_);
  while (true) {
    while (to_write_ == nullptr && !stop_) lock.wait(cv_);
    if (stop_) return;
    const auto* buffers = std::exchange(to_write_, nullptr);
    lock.unlock();
    const std::error_code ec = write_all(*buffers);
    asio::post(io_, [s = session_, ec] {
      if (auto session = s.lock()) session->output_done(ec);
    });
    lock.lock();
  }
}

std::error_code StdioPipeImpl::write_all(const std::vector<asio::const_buffer>& buffers) {
  for (const auto& b : buffers) {
    const char* p = static_cast<const char*>(b.data());
    std::size_t left = b.size();
    while (left > 0) {
      const ssize_t n = ::write(STDOUT_FILENO, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return {errno, std::generic_category()};
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  return {};
}

}  // namespace

std::unique_ptr<StdioPipe> start_stdio_session(SessionContext& ctx, int worker,
                                               asio::io_context& io,
                                               std::function<void()> on_closed) {
  auto pipe = std::make_unique<StdioPipeImpl>(io);
  auto session = std::make_shared<StdioSession>(ctx, worker, io, *pipe, std::move(on_closed));
  pipe->run(session);
  session->start();
  return pipe;
}

}  // namespace psycho::net
