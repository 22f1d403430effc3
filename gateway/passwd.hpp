#pragma once

namespace psycho {

// The `passwd` subcommand; argv[1] is "passwd".
int run_passwd(int argc, char** argv);

}  // namespace psycho
