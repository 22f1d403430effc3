// The `psycho` subcommands. Each receives the whole argv with argv[first] the first argument
// after the command name, and returns the process exit code (cli::exit_*).
#pragma once

namespace psycho::cli {

int run_sub(int argc, char** argv, int first);
int run_pub(int argc, char** argv, int first);
int run_request(int argc, char** argv, int first);
int run_bench(int argc, char** argv, int first);

}  // namespace psycho::cli
