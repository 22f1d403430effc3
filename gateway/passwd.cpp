// `psycho-gateway passwd [--cost N]`: reads a password and prints its bcrypt hash, for
// `gateway.auth.users[].password`. From a terminal it asks twice without echoing; from a
// pipe it reads one line (`echo -n secret | psycho-gateway passwd`).
#include "passwd.hpp"

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "auth/bcrypt.hpp"

namespace psycho {

namespace {

std::string read_secret(const char* prompt, bool from_terminal) {
  termios saved{};
  if (from_terminal) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (from_terminal) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

int run_passwd(int argc, char** argv) {
  int cost = 12;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cost" && i + 1 < argc) {
      try {
        cost = std::stoi(argv[++i]);
      } catch (const std::exception&) {
        cost = 0;
      }
    } else {
      std::cerr << "usage: psycho-gateway passwd [--cost 4..31]\n";
      return 2;
    }
  }
  const bool terminal = isatty(STDIN_FILENO) != 0;
  const std::string password = read_secret("password: ", terminal);
  if (terminal && read_secret("again: ", terminal) != password) {
    std::cerr << "psycho-gateway passwd: the two passwords differ\n";
    return 1;
  }
  if (password.empty()) {
    std::cerr << "psycho-gateway passwd: empty password\n";
    return 1;
  }
  auto hash = auth::bcrypt_hash(password, cost);
  if (!hash) {
    std::cerr << "psycho-gateway passwd: " << hash.error() << "\n";
    return 1;
  }
  std::cout << *hash << "\n";
  return 0;
}

}  // namespace psycho
