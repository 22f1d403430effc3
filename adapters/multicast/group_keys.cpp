#include "adapters/multicast/group_keys.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace psycho::multicast {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex when every character is a hex digit and there is an even number of them; else
// base64 (standard alphabet, padded). Empty when neither.
std::string decode_secret(std::string_view text) {
  const bool hex = text.size() % 2 == 0 &&
                   std::all_of(text.begin(), text.end(), [](char c) { return hex_digit(c) >= 0; });
  if (hex) {
    std::string out(text.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<char>(hex_digit(text[2 * i]) * 16 + hex_digit(text[2 * i + 1]));
    }
    return out;
  }
  const auto base64 = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
  };
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (text.empty() || text.size() % 4 != 0 || padding > 2 ||
      !std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(padding), base64)) {
    return "";
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "";
  out.resize(static_cast<std::size_t>(n) - padding);  // EVP_DecodeBlock counts padding as bytes
  return out;
}

}  // namespace

Result<std::vector<GroupKey>> parse_group_keys(std::string_view text, const std::string& file) {
  std::vector<GroupKey> keys;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = file + ":" + std::to_string(line_number) + ": ";
    const std::size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) return fail(where + "expected 'ID SECRET'");
    const std::string_view id_text = line.substr(0, space);
    unsigned id = 0;
    const auto [at, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc{} || at != id_text.data() + id_text.size() || id < 1 || id > 255) {
      return fail(where + "the key id must be a whole number from 1 to 255");
    }
    if (std::any_of(keys.begin(), keys.end(), [&](const GroupKey& k) { return k.id == id; })) {
      return fail(where + "key id " + std::to_string(id) + " is listed twice");
    }
    std::string secret = decode_secret(trim(line.substr(space)));
    if (secret.size() < kMinSecretSize) {
      return fail(where + "the secret must be hex or base64 of at least " +
                  std::to_string(kMinSecretSize) + " bytes (e.g. 'openssl rand -hex 32')");
    }
    if (keys.size() == kMaxGroupKeys) {
      return fail(where + "at most " + std::to_string(kMaxGroupKeys) + " keys");
    }
    keys.push_back({static_cast<std::uint8_t>(id), std::move(secret)});
  }
  if (keys.empty()) return fail(file + ": holds no key");
  return keys;
}

Result<std::vector<GroupKey>> read_group_keys(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail("cannot read the key file '" + path + "'");
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0) {
    return fail("the key file '" + path +
                "' may be read or written by others: make it 0600 or 0640 (a Kubernetes "
                "Secret volume: defaultMode 0440)");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail("cannot read the key file '" + path + "'");
  return parse_group_keys(text.str(), path);
}

}  // namespace psycho::multicast
