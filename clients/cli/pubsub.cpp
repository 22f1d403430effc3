// `psycho sub`, `psycho pub`, `psycho request`.
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "clients/cli/args.hpp"
#include "clients/cli/commands.hpp"
#include "clients/client.hpp"

namespace psycho::cli {
namespace {

constexpr const char* default_url = "tcp://127.0.0.1:4242";

// Every command also takes --dialect nats, to try things against a nats-server.
constexpr const char* sub_usage =
    "usage: psycho sub [--url URL] [--dialect psycho|nats] <subject> [--queue Q] [--count N] "
    "[--raw]\n"
    "  Prints each message as '[subject] payload' (or the payload alone with --raw).\n"
    "  --count N  exit after N messages\n";
constexpr const char* pub_usage =
    "usage: psycho pub [--url URL] [--dialect psycho|nats] [--reply R] <subject> [message]\n"
    "  Without a message, publishes each line of standard input as one message.\n";
constexpr const char* request_usage =
    "usage: psycho request [--url URL] [--dialect psycho|nats] [--timeout 5s] <subject> <payload>\n"
    "  Publishes with a unique reply subject and prints the first answer.\n";

int usage_error(const char* usage, const std::string& why) {
  std::fprintf(stderr, "psycho: %s\n%s", why.c_str(), usage);
  return exit_usage;
}

// Connects with the options every simple command shares; prints the reason on failure.
std::unique_ptr<client::Connection> connect_or_report(const Args& args, const char* name) {
  client::Options options;
  options.name = name;
  if (args.get_or("dialect", "psycho") == "nats") options.dialect = client::Dialect::nats;
  auto conn = client::Connection::connect(args.get_or("url", default_url), options);
  if (!conn) {
    std::fprintf(stderr, "psycho: %s\n", conn.error().c_str());
    return nullptr;
  }
  return std::move(*conn);
}

// Waits until the server has processed everything sent so far (PING/PONG) and reports a
// local failure or an -ERR the server sent meanwhile. True when all is well.
bool flushed_without_errors(client::Connection& conn, Status st) {
  if (st) st = conn.flush(std::chrono::seconds(10));
  if (!st) {
    std::fprintf(stderr, "psycho: %s\n", st.error().c_str());
    return false;
  }
  if (!conn.last_error().empty()) {
    std::fprintf(stderr, "psycho: server: %s\n", conn.last_error().c_str());
    return false;
  }
  return true;
}

void print_message(std::string_view subject, std::string_view payload, bool raw) {
  if (!raw) std::printf("[%.*s] ", static_cast<int>(subject.size()), subject.data());
  std::fwrite(payload.data(), 1, payload.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // `psycho sub | other-tool` should see each message as it arrives
}

}  // namespace

int run_sub(int argc, char** argv, int first) {
  auto args = Args::parse(argc, argv, first, {"url", "dialect", "queue", "count"}, {"raw", "help"});
  if (!args) return usage_error(sub_usage, args.error());
  if (args->has("help")) return std::printf("%s", sub_usage), exit_ok;
  if (args->positional().size() != 1) return usage_error(sub_usage, "expected one subject");
  std::uint64_t limit = 0;
  if (auto count = args->get("count")) {
    auto n = parse_count(*count);
    if (!n) return usage_error(sub_usage, n.error());
    limit = *n;
  }
  auto conn = connect_or_report(*args, "psycho-sub");
  if (!conn) return exit_error;
  // Printed as read, on the connection's thread: a reader of our output slower than the
  // messages come slows the socket, and the gateway then slows the publisher or, by its
  // policy, cuts us as a slow consumer (said below). A queue in between would drop what it
  // cannot hold, and nobody would know.
  struct Progress {  // shared with the handler, which may outlive this frame's locals
    std::mutex mutex;
    std::condition_variable done_cv;
    std::uint64_t received = 0;  // the handler's alone
    bool done = false;
  };
  auto progress = std::make_shared<Progress>();
  conn->on_message([progress, limit, raw = args->has("raw")](const client::MessageView& m) {
    if (limit != 0 && progress->received >= limit) return;
    print_message(m.subject, m.payload, raw);
    if (++progress->received == limit) {
      std::lock_guard lock(progress->mutex);
      progress->done = true;
      progress->done_cv.notify_all();
    }
  });
  const auto& subject = args->positional()[0];
  if (!flushed_without_errors(*conn, conn->subscribe(subject, args->get_or("queue", "")))) {
    return exit_error;
  }
  std::fprintf(stderr, "Listening on [%s]\n", subject.c_str());
  std::unique_lock lock(progress->mutex);
  while (
      !progress->done_cv.wait_for(lock, std::chrono::seconds(1), [&] { return progress->done; })) {
    if (!conn->is_open()) {
      std::fprintf(stderr, "psycho: %s\n", conn->closed_reason().c_str());
      return exit_error;
    }
  }
  return exit_ok;
}

int run_pub(int argc, char** argv, int first) {
  auto args = Args::parse(argc, argv, first, {"url", "dialect", "reply"}, {"help"});
  if (!args) return usage_error(pub_usage, args.error());
  if (args->has("help")) return std::printf("%s", pub_usage), exit_ok;
  const auto& pos = args->positional();
  if (pos.empty() || pos.size() > 2) return usage_error(pub_usage, "expected <subject> [message]");
  auto conn = connect_or_report(*args, "psycho-pub");
  if (!conn) return exit_error;
  const std::string reply = args->get_or("reply", "");
  Status st = Ok{};
  if (pos.size() == 2) {
    st = conn->publish(pos[0], pos[1], reply);
  } else {
    for (std::string line; st && std::getline(std::cin, line);) {
      st = conn->publish(pos[0], line, reply);
    }
  }
  // The PONG proves the server processed every PUB before we exit.
  return flushed_without_errors(*conn, st) ? exit_ok : exit_error;
}

int run_request(int argc, char** argv, int first) {
  auto args = Args::parse(argc, argv, first, {"url", "dialect", "timeout"}, {"raw", "help"});
  if (!args) return usage_error(request_usage, args.error());
  if (args->has("help")) return std::printf("%s", request_usage), exit_ok;
  if (args->positional().size() != 2)
    return usage_error(request_usage, "expected <subject> <payload>");
  auto timeout = parse_duration(args->get_or("timeout", "5s"));
  if (!timeout) return usage_error(request_usage, timeout.error());
  auto conn = connect_or_report(*args, "psycho-request");
  if (!conn) return exit_error;
  auto answer = conn->request(args->positional()[0], args->positional()[1], *timeout);
  if (!answer) {
    std::fprintf(stderr, "psycho: %s\n", answer.error().c_str());
    return exit_error;
  }
  print_message(answer->subject, answer->payload, args->has("raw"));
  return exit_ok;
}

}  // namespace psycho::cli
