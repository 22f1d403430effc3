// `psycho`: command-line client for the Psycho gateway (and, for benchmarks, nats-server).
#include <cstdio>
#include <string_view>

#include "clients/cli/args.hpp"
#include "clients/cli/commands.hpp"

namespace {

constexpr const char* usage =
    "usage: psycho <command> [options]\n"
    "\n"
    "commands:\n"
    "  sub      subscribe and print messages\n"
    "  pub      publish a message (or each line of standard input)\n"
    "  request  publish a request and print the reply\n"
    "  bench    throughput and round-trip benchmark (also against nats-server)\n"
    "\n"
    "URLs: tcp://host:port (default tcp://127.0.0.1:4242), ws://host:port/path, host:port.\n"
    "Run `psycho <command> --help` for the options of a command.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace psycho::cli;
  if (argc < 2) {
    std::fputs(usage, stderr);
    return exit_usage;
  }
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage, stdout);
    return exit_ok;
  }
  if (command == "sub") return run_sub(argc, argv, 2);
  if (command == "pub") return run_pub(argc, argv, 2);
  if (command == "request") return run_request(argc, argv, 2);
  if (command == "bench") return run_bench(argc, argv, 2);
  std::fprintf(stderr, "psycho: unknown command '%s'\n%s", argv[1], usage);
  return exit_usage;
}
