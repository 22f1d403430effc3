// A shared overlay secret for a test run (docs/poldercast.md#admission): one `ID SECRET`
// line, random for each call, in a file only its owner may read, as the gateway requires.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <random>
#include <string>

namespace psycho::testing {

inline void write_secret(const std::string& path, int id = 1) {
  std::random_device random;
  std::string hex;
  for (int i = 0; i < 32; ++i) {
    const unsigned byte = random() & 0xff;
    hex += "0123456789abcdef"[byte >> 4];
    hex += "0123456789abcdef"[byte & 15];
  }
  std::ofstream(path, std::ios::trunc) << id << " " << hex << "\n";
  ::chmod(path.c_str(), 0600);
}

}  // namespace psycho::testing
