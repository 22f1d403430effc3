#include "protocol/connect_options.hpp"

#include <cstdint>

#include "protocol/errors.hpp"

namespace psycho::protocol {
namespace {

constexpr int kMaxDepth = 8;

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  bool object(ConnectOptions& out) {
    if (!expect('{')) return false;
    if (peek() == '}') return ++i_, at_end();
    while (true) {
      std::string key, value;
      if (!string(key) || !expect(':')) return false;
      if (!field(key, out)) return false;
      const char c = next();
      if (c == '}') return at_end();
      if (c != ',') return false;
    }
  }

 private:
  bool field(const std::string& key, ConnectOptions& out) {
    if (key == "verbose") return boolean(out.verbose);
    if (key == "echo") return boolean(out.echo);
    if (key == "headers") return boolean(out.headers);
    if (key == "no_responders") return boolean(out.no_responders);
    if (key == "pedantic") return boolean(out.pedantic);
    if (key == "name") return string(out.name);
    if (key == "user") return string(out.user);
    if (key == "pass") return string(out.pass);
    if (key == "auth_token") return string(out.auth_token);
    if (key == "hmac_ts") return integer(out.hmac_ts);
    if (key == "hmac_nonce") return string(out.hmac_nonce);
    if (key == "hmac_sig") return string(out.hmac_sig);
    return skip_value(0);
  }

  // A whole number that fits in int64 (no fraction, no exponent).
  bool integer(std::int64_t& out) {
    blanks();
    bool negative = false;
    if (i_ < s_.size() && s_[i_] == '-') {
      negative = true;
      ++i_;
    }
    const std::size_t start = i_;
    std::int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const int d = s_[i_++] - '0';
      if (v > (INT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    if (i_ == start) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    out = negative ? -v : v;
    return true;
  }

  void blanks() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) {
      ++i_;
    }
  }
  char peek() {
    blanks();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  char next() {
    const char c = peek();
    if (i_ < s_.size()) ++i_;
    return c;
  }
  bool expect(char c) { return next() == c; }
  bool at_end() {
    blanks();
    return i_ == s_.size();
  }
  bool literal(std::string_view word) {
    blanks();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool boolean(bool& out) {
    if (literal("true")) return out = true, true;
    if (literal("false")) return out = false, true;
    return false;
  }

  bool string(std::string& out) {
    if (!expect('"')) return false;
    out.clear();
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      if (!escape(s_[i_++], out)) return false;
    }
    return false;
  }

  bool escape(char e, std::string& out) {
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        return unicode(out);
      default:
        return false;
    }
  }

  bool unicode(std::string& out) {
    if (i_ + 4 > s_.size()) return false;
    unsigned cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      cp <<= 4;
      if (h >= '0' && h <= '9')
        cp |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f')
        cp |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        cp |= static_cast<unsigned>(h - 'A' + 10);
      else
        return false;
    }
    // UTF-8 encode the BMP code point (surrogate pairs are passed through as-is; the
    // strings here are names and credentials, never displayed text that needs them).
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return true;
  }

  bool number() {
    blanks();
    const std::size_t start = i_;
    while (i_ < s_.size() &&
           (std::string_view("+-.eE0123456789").find(s_[i_]) != std::string_view::npos)) {
      ++i_;
    }
    return i_ > start;
  }

  bool skip_value(int depth) {
    if (depth > kMaxDepth) return false;
    std::string ignored;
    switch (peek()) {
      case '"':
        return string(ignored);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      case '{':
        return skip_container('{', '}', depth, true);
      case '[':
        return skip_container('[', ']', depth, false);
      default:
        return number();
    }
  }

  bool skip_container(char open, char close, int depth, bool keyed) {
    if (!expect(open)) return false;
    if (peek() == close) return ++i_, true;
    while (true) {
      std::string key;
      if (keyed && (!string(key) || !expect(':'))) return false;
      if (!skip_value(depth + 1)) return false;
      const char c = next();
      if (c == close) return true;
      if (c != ',') return false;
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::error_code parse_connect_options(std::string_view json, ConnectOptions& out) {
  ConnectOptions parsed = out;
  if (!Reader(json).object(parsed)) return Error::invalid_arguments;
  out = std::move(parsed);
  return {};
}

}  // namespace psycho::protocol
