// The parser works line-first rather than byte by byte: memchr finds the end of the control
// line (zero-copy when the line lies within one piece), the line is decoded in one go, and a
// body is either handed out straight from the piece (the common case) or collected in
// scratch_ behind its control line. The State enum records where a piece ended, so any split
// of the stream gives the same ops as the whole stream.
#include "protocol/parser.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <utility>

#include "protocol/errors.hpp"

namespace psycho::protocol {

namespace {

// The most arguments after an op name: NATS HMSG <subject> <sid> <reply> <#hdr> <#total>.
constexpr std::size_t kMaxArgs = 5;
// What scratch_ reserves the first time a control line is split, so that lines growing
// piece by piece do not reallocate on the way (nats-server keeps a 4 KiB array per client).
constexpr std::size_t kLineReserve = 4 * 1024;

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Op names are case-insensitive. `upper` is the name in upper case.
bool name_is(std::string_view name, std::string_view upper) noexcept {
  for (std::size_t i = 0; i < upper.size(); ++i) {
    const char c = name[i];
    if ((c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c) != upper[i]) return false;
  }
  return true;
}

// Lengths are compared first, so most entries are passed over without reading the name.
bool lookup_op(std::string_view name, OpKind& kind) noexcept {
  static constexpr std::pair<std::string_view, OpKind> kOps[] = {
      {"PUB", OpKind::pub},   {"MSG", OpKind::msg},     {"SUB", OpKind::sub},
      {"+OK", OpKind::ok},    {"HPUB", OpKind::hpub},   {"HMSG", OpKind::hmsg},
      {"PING", OpKind::ping}, {"PONG", OpKind::pong},   {"INFO", OpKind::info},
      {"-ERR", OpKind::err},  {"UNSUB", OpKind::unsub}, {"CONNECT", OpKind::connect},
  };
  for (const auto& [text, k] : kOps) {
    if (name.size() == text.size() && name_is(name, text)) {
      kind = k;
      return true;
    }
  }
  return false;
}

// Which direction an op travels; a parser accepts only what its peer may send.
bool accepted(OpKind kind, Role role) noexcept {
  switch (kind) {
    case OpKind::ping:
    case OpKind::pong:
      return true;
    case OpKind::connect:
    case OpKind::pub:
    case OpKind::hpub:
    case OpKind::sub:
    case OpKind::unsub:
      return role == Role::server;
    case OpKind::info:
    case OpKind::msg:
    case OpKind::hmsg:
    case OpKind::ok:
    case OpKind::err:
      return role == Role::client;
  }
  return false;
}

bool has_body(OpKind kind) noexcept {
  return kind == OpKind::pub || kind == OpKind::hpub || kind == OpKind::msg || kind == OpKind::hmsg;
}

// A decimal size: digits only (no sign, no blanks), and it must fit in size_t.
bool parse_size(std::string_view s, std::size_t& out) noexcept {
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

}  // namespace

struct Parser::Args {
  std::array<std::string_view, kMaxArgs> v;
  std::size_t n = 0;
  bool overflow = false;  // more than kMaxArgs: always a wrong argument count
};

Parser::Parser(Limits limits, Role role, Dialect dialect)
    : limits_(limits), role_(role), dialect_(dialect) {}

std::error_code Parser::feed(std::string_view data, OpHandler& handler) {
  if (state_ == State::failed) return error_;
  std::error_code ec;
  stop_ = false;
  std::size_t i = 0;
  while (i < data.size() && !ec && !stop_) {
    switch (state_) {
      case State::line:
        ec = read_line(data, i, handler);
        break;
      case State::line_cr:
        // The held line ended in CR: it is the line end if LF follows, else a byte of the line.
        if (data[i] == '\n') {
          ++i;
          state_ = State::line;
          ec = on_line(scratch_, data, i, handler);
        } else if (scratch_.size() + 1 > limits_.max_control_line) {
          ec = Error::control_line_too_long;
        } else {
          scratch_.push_back('\r');
          state_ = State::line;
        }
        break;
      case State::body:
        read_body(data, i);
        break;
      case State::body_end:
        if (data[i] == '\r') {
          ++i;
          state_ = State::body_lf;
          break;
        }
        [[fallthrough]];
      case State::body_lf:
        if (data[i++] == '\n') {
          deliver_kept(handler);
        } else {
          ec = Error::bad_payload_terminator;
        }
        break;
      case State::failed:
        return error_;
    }
  }
  consumed_ = i;
  if (ec) {
    // The stream can no longer be framed; make sure nothing after the error is ever parsed.
    state_ = State::failed;
    error_ = ec;
  }
  return ec;
}

// Finds the end of the control line. In the common case the whole line is in `data` and is
// decoded in place; otherwise the part in this piece is held in scratch_ for the next one.
std::error_code Parser::read_line(std::string_view data, std::size_t& i, OpHandler& handler) {
  const std::size_t max = limits_.max_control_line;
  const std::size_t held = scratch_.size();  // never more than max (checked below)
  // Look no further than max bytes + CR + LF: past that the line is too long anyway, and a
  // peer sending megabytes without a line end costs one bounded scan.
  const std::size_t window = std::min(data.size() - i, max + 2 - held);
  const char* begin = data.data() + i;
  const auto* lf = static_cast<const char*>(std::memchr(begin, '\n', window));
  const std::size_t len = lf != nullptr ? static_cast<std::size_t>(lf - begin) : window;
  // A CR just before the LF (or at the end of the piece) may be the line end's, not the
  // line's; it is never counted against the limit and never buffered.
  const bool cr = len > 0 && begin[len - 1] == '\r';
  const std::size_t content = cr ? len - 1 : len;
  if (held + content > max) return Error::control_line_too_long;
  if (lf == nullptr) {
    if (held == 0 && scratch_.capacity() < kLineReserve) {
      scratch_.reserve(std::min(max, kLineReserve));
    }
    scratch_.append(begin, content);
    i += len;
    state_ = cr ? State::line_cr : State::line;
    return {};
  }
  i += len + 1;
  if (held == 0) return on_line({begin, content}, data, i, handler);
  scratch_.append(begin, content);
  return on_line(scratch_, data, i, handler);
}

// A complete control line (without its line end), in `data` or in scratch_; `i` is just past
// its line end.
std::error_code Parser::on_line(std::string_view line, std::string_view data, std::size_t& i,
                                OpHandler& handler) {
  op_ = Op{};
  header_size_ = 0;
  body_size_ = 0;
  const std::string_view trimmed = trim(line);
  if (trimmed.empty()) {  // an empty line between ops
    scratch_.clear();
    return {};
  }
  if (std::error_code ec = decode(trimmed)) return ec;
  if (!has_body(op_.kind)) {
    deliver(handler);
    return {};
  }
  return start_body(line, data, i, handler);
}

// The body follows the control line. If the body and its line end are in this piece, it is
// handed out in place; otherwise the line is kept and the body collected in scratch_.
std::error_code Parser::start_body(std::string_view line, std::string_view data, std::size_t& i,
                                   OpHandler& handler) {
  const std::size_t avail = data.size() - i;
  if (avail > body_size_) {
    const char* end = data.data() + i + body_size_;
    std::size_t terminator = 0;
    if (end[0] == '\n') {
      terminator = 1;
    } else if (end[0] != '\r') {
      return Error::bad_payload_terminator;
    } else if (avail > body_size_ + 1) {
      if (end[1] != '\n') return Error::bad_payload_terminator;
      terminator = 2;
    }
    if (terminator != 0) {
      set_body(data.substr(i, body_size_));
      i += body_size_ + terminator;
      deliver(handler);
      return {};
    }
  }
  keep_line(line);
  state_ = State::body;
  return {};
}

// The op goes on in a later piece, so the fields of its control line must outlive this
// piece: the line moves to the front of scratch_, and room for the whole body is reserved
// now so that appending the body never reallocates under the views.
void Parser::keep_line(std::string_view line) {
  const std::array<std::string_view*, 4> fields{&op_.subject, &op_.reply, &op_.queue, &op_.sid};
  // Offsets survive a reallocation; pointers into the old buffer would not.
  std::array<std::size_t, fields.size()> offsets{};
  for (std::size_t k = 0; k < fields.size(); ++k) {
    if (!fields[k]->empty()) offsets[k] = static_cast<std::size_t>(fields[k]->data() - line.data());
  }
  // A line that was itself split is already the whole of scratch_.
  const bool held = !scratch_.empty();
  const std::size_t need = line.size() + body_size_;
  if (scratch_.capacity() < need) scratch_.reserve(need);
  if (!held) scratch_.assign(line);
  for (std::size_t k = 0; k < fields.size(); ++k) {
    if (!fields[k]->empty()) *fields[k] = {scratch_.data() + offsets[k], fields[k]->size()};
  }
  line_size_ = scratch_.size();
}

void Parser::read_body(std::string_view data, std::size_t& i) {
  const std::size_t want = line_size_ + body_size_ - scratch_.size();
  const std::size_t take = std::min(want, data.size() - i);
  scratch_.append(data.data() + i, take);  // within the capacity keep_line reserved
  i += take;
  if (take == want) state_ = State::body_end;
}

void Parser::deliver(OpHandler& handler) {
  state_ = State::line;
  stop_ = !handler.on_op(op_);
  // The op's views may point into scratch_, so it is emptied only after the handler ran.
  // clear() keeps the capacity: the next split op reuses it without allocating.
  scratch_.clear();
  line_size_ = 0;
}

void Parser::deliver_kept(OpHandler& handler) {
  set_body(std::string_view(scratch_).substr(line_size_, body_size_));
  deliver(handler);
}

void Parser::set_body(std::string_view body) {
  op_.headers = body.substr(0, header_size_);
  op_.payload = body.substr(header_size_);
}

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

// `line` is trimmed and not empty.
std::error_code Parser::decode(std::string_view line) {
  const std::size_t name_end =
      static_cast<std::size_t>(std::find_if(line.begin(), line.end(), is_blank) - line.begin());
  OpKind kind{};
  if (!lookup_op(line.substr(0, name_end), kind) || !accepted(kind, role_)) {
    return Error::unknown_operation;
  }
  // CONNECT, INFO and -ERR take free text (JSON may hold blanks), so only the token ops
  // are split into arguments.
  const std::string_view rest = trim(line.substr(name_end));
  op_.kind = kind;
  switch (kind) {
    case OpKind::ping:
    case OpKind::pong:
    case OpKind::ok:
      return rest.empty() ? std::error_code{} : Error::invalid_arguments;
    case OpKind::connect:
    case OpKind::info:
      op_.args = rest;
      return rest.empty() ? Error::invalid_arguments : std::error_code{};
    case OpKind::err:
      op_.args = rest;
      if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
        op_.args = rest.substr(1, rest.size() - 2);
      }
      return {};
    case OpKind::pub:
    case OpKind::hpub:
      return decode_pub(split(rest), kind);
    case OpKind::msg:
    case OpKind::hmsg:
      return decode_msg(split(rest), kind);
    case OpKind::sub:
    case OpKind::unsub:
      return decode_sub(split(rest), kind);
  }
  return Error::unknown_operation;
}

// PUB <subject> [reply] <#bytes> | HPUB <subject> [reply] <#hdr> <#total>
std::error_code Parser::decode_pub(const Args& a, OpKind kind) {
  const std::size_t sizes = kind == OpKind::hpub ? 2 : 1;
  if (a.overflow || (a.n != 1 + sizes && a.n != 2 + sizes)) return Error::invalid_arguments;
  op_.subject = a.v[0];
  if (a.n == 2 + sizes) op_.reply = a.v[1];
  return decode_sizes(a, sizes);
}

// MSG <subject> [reply] <#bytes>; NATS dialect: MSG <subject> <sid> [reply] <#bytes>.
// HMSG likewise with <#hdr> <#total>.
std::error_code Parser::decode_msg(const Args& a, OpKind kind) {
  const std::size_t sizes = kind == OpKind::hmsg ? 2 : 1;
  const bool with_sid = dialect_ == Dialect::nats;
  const std::size_t fixed = (with_sid ? 2 : 1) + sizes;
  if (a.overflow || (a.n != fixed && a.n != fixed + 1)) return Error::invalid_arguments;
  op_.subject = a.v[0];
  std::size_t next = 1;
  if (with_sid) op_.sid = a.v[next++];
  if (a.n == fixed + 1) op_.reply = a.v[next];
  return decode_sizes(a, sizes);
}

// The last one or two arguments: <#bytes>, or <#hdr> <#total>.
std::error_code Parser::decode_sizes(const Args& a, std::size_t sizes) {
  std::size_t total = 0;
  std::size_t header = 0;
  if (!parse_size(a.v[a.n - 1], total)) return Error::invalid_arguments;
  if (sizes == 2 && (!parse_size(a.v[a.n - 2], header) || header > total)) {
    return Error::invalid_arguments;
  }
  // Checked here, when the control line ends, so an oversized body is never buffered.
  if (total > limits_.max_payload) return Error::payload_too_large;
  header_size_ = header;
  body_size_ = total;
  return {};
}

// SUB <subject> [queue] (NATS dialect: SUB <subject> [queue] <sid>); UNSUB <subject> [queue]
std::error_code Parser::decode_sub(const Args& a, OpKind kind) {
  const bool with_sid = dialect_ == Dialect::nats && kind == OpKind::sub;
  const std::size_t min = with_sid ? 2 : 1;
  if (a.overflow || (a.n != min && a.n != min + 1)) return Error::invalid_arguments;
  op_.subject = a.v[0];
  if (a.n == min + 1) op_.queue = a.v[1];
  if (with_sid) op_.sid = a.v[a.n - 1];
  return {};
}

}  // namespace psycho::protocol
