// The parser works line-first: it finds the control line (zero-copy when it lies within one
// piece), decodes it, and for ops with a body either hands out the body straight from the
// piece (the common case) or collects it in the scratch buffer, whose capacity is reserved
// up front so views into it never move.
#include "protocol/parser.hpp"

#include <array>
#include <cstring>

#include "protocol/errors.hpp"

namespace psycho::protocol {

namespace {

constexpr std::size_t kMaxArgs = 6;
// Scratch capacity kept between ops; a larger buffer (after one big split message) is
// released so idle connections stay small.
constexpr std::size_t kKeepScratch = 64 * 1024;

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

struct Parser::Args {
  std::array<std::string_view, kMaxArgs> v;
  std::size_t n = 0;
  bool overflow = false;
};

Parser::Args Parser::split(std::string_view s) noexcept {
  Args a;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i == s.size()) break;
    const std::size_t start = i;
    while (i < s.size() && !is_blank(s[i])) ++i;
    if (a.n == kMaxArgs) {
      a.overflow = true;
      break;
    }
    a.v[a.n++] = s.substr(start, i - start);
  }
  return a;
}

namespace {

// Case-insensitive comparison against an upper-case op name.
bool op_is(std::string_view token, std::string_view upper) noexcept {
  if (token.size() != upper.size()) return false;
  for (std::size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

// Parses a decimal size; false for anything but 1..10 digits.
bool parse_size(std::string_view s, std::size_t& out) noexcept {
  if (s.empty() || s.size() > 10) return false;
  std::size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

Parser::Parser(Limits limits, Role role, Dialect dialect)
    : limits_(limits), role_(role), dialect_(dialect) {}

std::error_code Parser::feed(std::string_view data, OpHandler& handler) {
  std::size_t i = 0;
  while (i < data.size()) {
    std::error_code ec;
    bool go_on = true;
    switch (static_cast<State>(state_)) {
      case State::line:
        ec = read_line(data, i, handler, go_on);
        break;
      case State::body:
        read_body(data, i);
        break;
      case State::body_end:
        ec = read_body_end(data, i, handler, go_on);
        break;
    }
    if (ec) return ec;
    if (!go_on) return {};
  }
  return {};
}

std::error_code Parser::read_line(std::string_view data, std::size_t& i, OpHandler& handler,
                                  bool& go_on) {
  const std::size_t limit = limits_.max_control_line + 1;  // +1: a CR before the LF
  const void* found = std::memchr(data.data() + i, '\n', data.size() - i);
  if (found == nullptr) {
    // No line end in this piece: keep what we have, but never more than the limit.
    if (scratch_.size() + (data.size() - i) > limit) return Error::control_line_too_long;
    scratch_.append(data.substr(i));
    i = data.size();
    return {};
  }
  const std::size_t len = static_cast<const char*>(found) - (data.data() + i);
  std::string_view line;
  if (scratch_.empty()) {
    line = data.substr(i, len);
  } else {
    if (scratch_.size() + len > limit) return Error::control_line_too_long;
    scratch_.append(data.substr(i, len));
    line = scratch_;
  }
  i += len + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.max_control_line) return Error::control_line_too_long;
  return on_line(line, data, i, handler, go_on);
}

std::error_code Parser::on_line(std::string_view line, std::string_view data, std::size_t& i,
                                OpHandler& handler, bool& go_on) {
  op_ = Op{};
  const std::string_view trimmed = trim(line);
  if (trimmed.empty()) {  // an empty line between ops
    reset_scratch();
    return {};
  }
  std::error_code ec = decode(trimmed);
  if (ec) return ec;
  if (!has_body_) {
    go_on = handler.on_op(op_);
    reset_scratch();
    return {};
  }
  // Fast path: body and its line end are all in this piece.
  const std::size_t avail = data.size() - i;
  if (avail >= body_size_ + 2 || (avail == body_size_ + 1 && data[i + body_size_] == '\n')) {
    const std::string_view body = data.substr(i, body_size_);
    const char c = data[i + body_size_];
    std::size_t end = 1;
    if (c == '\r' && data[i + body_size_ + 1] == '\n')
      end = 2;
    else if (c != '\n')
      return Error::bad_payload_terminator;
    i += body_size_ + end;
    set_body(body);
    go_on = handler.on_op(op_);
    reset_scratch();
    return {};
  }
  // Slow path: keep the control line at the start of the scratch buffer, with room for
  // the whole body reserved now so that neither the line nor the body ever moves.
  stash_line(line);
  state_ = static_cast<int>(body_size_ == 0 ? State::body_end : State::body);
  return {};
}

void Parser::stash_line(std::string_view line) {
  // Remember where the op's fields sit inside the line, move the line, re-point the fields.
  const char* old_base = line.data();
  std::string moved(line);
  scratch_.clear();
  scratch_.reserve(line.size() + body_size_);
  scratch_.append(moved);
  const char* base = scratch_.data();
  auto rebase = [&](std::string_view& v) {
    if (!v.empty()) v = std::string_view(base + (v.data() - old_base), v.size());
  };
  rebase(op_.subject);
  rebase(op_.reply);
  rebase(op_.sid);
  line_size_ = line.size();
}

void Parser::read_body(std::string_view data, std::size_t& i) {
  const std::size_t have = scratch_.size() - line_size_;
  const std::size_t take = std::min(body_size_ - have, data.size() - i);
  scratch_.append(data.substr(i, take));
  i += take;
  if (scratch_.size() - line_size_ == body_size_) {
    state_ = static_cast<int>(State::body_end);
    seen_cr_ = false;
  }
}

std::error_code Parser::read_body_end(std::string_view data, std::size_t& i, OpHandler& handler,
                                      bool& go_on) {
  const char c = data[i++];
  if (c == '\r' && !seen_cr_) {
    seen_cr_ = true;
    return {};
  }
  if (c != '\n') return Error::bad_payload_terminator;
  set_body(std::string_view(scratch_).substr(line_size_, body_size_));
  state_ = static_cast<int>(State::line);
  seen_cr_ = false;
  go_on = handler.on_op(op_);
  reset_scratch();
  return {};
}

void Parser::set_body(std::string_view body) {
  op_.headers = body.substr(0, header_size_);
  op_.payload = body.substr(header_size_);
}

void Parser::reset_scratch() {
  scratch_.clear();
  if (scratch_.capacity() > kKeepScratch) scratch_.shrink_to_fit();
  line_size_ = 0;
}

std::error_code Parser::decode(std::string_view line) {
  const Args a = split(line);
  if (a.overflow) return Error::invalid_arguments;
  const std::string_view name = a.v[0];
  has_body_ = false;
  header_size_ = 0;
  body_size_ = 0;
  const std::string_view rest = trim(line.substr(name.size()));
  if (op_is(name, "PING")) return op_.kind = OpKind::ping, std::error_code{};
  if (op_is(name, "PONG")) return op_.kind = OpKind::pong, std::error_code{};
  if (role_ == Role::server) {
    if (op_is(name, "PUB")) return decode_pub(a, OpKind::pub);
    if (op_is(name, "HPUB")) return decode_pub(a, OpKind::hpub);
    if (op_is(name, "SUB")) return decode_sub(a, OpKind::sub);
    if (op_is(name, "UNSUB")) return decode_sub(a, OpKind::unsub);
    if (op_is(name, "CONNECT")) {
      if (rest.empty()) return Error::invalid_arguments;
      op_.kind = OpKind::connect;
      op_.args = rest;
      return {};
    }
    return Error::unknown_operation;
  }
  if (op_is(name, "MSG")) return decode_msg(a, OpKind::msg);
  if (op_is(name, "HMSG")) return decode_msg(a, OpKind::hmsg);
  if (op_is(name, "+OK")) return op_.kind = OpKind::ok, std::error_code{};
  if (op_is(name, "INFO")) {
    op_.kind = OpKind::info;
    op_.args = rest;
    return {};
  }
  if (op_is(name, "-ERR")) {
    op_.kind = OpKind::err;
    op_.args = rest;
    if (op_.args.size() >= 2 && op_.args.front() == '\'' && op_.args.back() == '\'') {
      op_.args = op_.args.substr(1, op_.args.size() - 2);
    }
    return {};
  }
  return Error::unknown_operation;
}

// PUB <subject> [reply] <#bytes> | HPUB <subject> [reply] <#hdr> <#total>
std::error_code Parser::decode_pub(const Args& a, OpKind kind) {
  const std::size_t sizes = kind == OpKind::hpub ? 2 : 1;
  if (a.n != 2 + sizes && a.n != 3 + sizes) return Error::invalid_arguments;
  op_.kind = kind;
  op_.subject = a.v[1];
  if (a.n == 3 + sizes) op_.reply = a.v[2];
  return decode_sizes(a, sizes);
}

// MSG <subject> [reply] <#bytes>, or with the NATS dialect MSG <subject> <sid> [reply] <#bytes>
std::error_code Parser::decode_msg(const Args& a, OpKind kind) {
  const std::size_t sizes = kind == OpKind::hmsg ? 2 : 1;
  const std::size_t fixed = (dialect_ == Dialect::nats ? 3 : 2) + sizes;
  if (a.n != fixed && a.n != fixed + 1) return Error::invalid_arguments;
  op_.kind = kind;
  op_.subject = a.v[1];
  std::size_t next = 2;
  if (dialect_ == Dialect::nats) op_.sid = a.v[next++];
  if (a.n == fixed + 1) op_.reply = a.v[next];
  return decode_sizes(a, sizes);
}

std::error_code Parser::decode_sizes(const Args& a, std::size_t sizes) {
  std::size_t total = 0, header = 0;
  if (!parse_size(a.v[a.n - 1], total)) return Error::invalid_arguments;
  if (sizes == 2) {
    if (!parse_size(a.v[a.n - 2], header) || header > total) return Error::invalid_arguments;
  }
  if (total > limits_.max_payload) return Error::payload_too_large;
  header_size_ = header;
  body_size_ = total;
  has_body_ = true;
  return {};
}

// SUB <subject> [queue] (NATS dialect: SUB <subject> [queue] <sid>); UNSUB <subject> [queue]
std::error_code Parser::decode_sub(const Args& a, OpKind kind) {
  const bool with_sid = dialect_ == Dialect::nats && kind == OpKind::sub;
  const std::size_t min = with_sid ? 3 : 2;
  if (a.n != min && a.n != min + 1) return Error::invalid_arguments;
  op_.kind = kind;
  op_.subject = a.v[1];
  if (a.n == min + 1) op_.queue = a.v[2];
  if (with_sid) op_.sid = a.v[a.n - 1];
  return {};
}

}  // namespace psycho::protocol
