#include "protocol/encoder.hpp"

#include <charconv>

namespace psycho::protocol {

namespace {

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, r.ptr);
}

// "<op> <subject>[ <reply>]" — the common head of PUB, HPUB, MSG and HMSG.
void append_head(std::string& out, std::string_view op, std::string_view subject,
                 std::string_view reply) {
  out.append(op);
  out.push_back(' ');
  out.append(subject);
  if (!reply.empty()) {
    out.push_back(' ');
    out.append(reply);
  }
}

}  // namespace

void append_connect(std::string& out, std::string_view json) {
  out.append("CONNECT ");
  out.append(json);
  out.append(line_end);
}

void append_pub(std::string& out, std::string_view subject, std::string_view reply,
                std::string_view payload) {
  append_head(out, "PUB", subject, reply);
  out.push_back(' ');
  append_number(out, payload.size());
  out.append(line_end);
  out.append(payload);
  out.append(line_end);
}

void append_hpub(std::string& out, std::string_view subject, std::string_view reply,
                 std::string_view headers, std::string_view payload) {
  append_head(out, "HPUB", subject, reply);
  out.push_back(' ');
  append_number(out, headers.size());
  out.push_back(' ');
  append_number(out, headers.size() + payload.size());
  out.append(line_end);
  out.append(headers);
  out.append(payload);
  out.append(line_end);
}

void append_sub(std::string& out, std::string_view subject, std::string_view queue,
                std::string_view sid) {
  append_head(out, "SUB", subject, queue);
  if (!sid.empty()) {
    out.push_back(' ');
    out.append(sid);
  }
  out.append(line_end);
}

void append_unsub(std::string& out, std::string_view subject_or_sid, std::string_view queue) {
  append_head(out, "UNSUB", subject_or_sid, queue);
  out.append(line_end);
}

void append_info(std::string& out, std::string_view json) {
  out.append("INFO ");
  out.append(json);
  out.append(line_end);
}

void append_msg_head(std::string& out, std::string_view subject, std::string_view reply,
                     std::size_t payload_size) {
  append_head(out, "MSG", subject, reply);
  out.push_back(' ');
  append_number(out, payload_size);
  out.append(line_end);
}

void append_hmsg_head(std::string& out, std::string_view subject, std::string_view reply,
                      std::size_t header_size, std::size_t total_size) {
  append_head(out, "HMSG", subject, reply);
  out.push_back(' ');
  append_number(out, header_size);
  out.push_back(' ');
  append_number(out, total_size);
  out.append(line_end);
}

void append_ok(std::string& out) { out.append("+OK\n"); }

void append_err(std::string& out, Error e) { append_err(out, wire_text(e)); }

void append_err(std::string& out, std::string_view text) {
  out.append("-ERR '");
  out.append(text);
  out.append("'\n");
}

void append_permissions_violation(std::string& out, bool publish, std::string_view subject) {
  out.append("-ERR 'Permissions Violation for ");
  out.append(publish ? "Publish to \"" : "Subscription to \"");
  out.append(subject);
  out.append("\"'\n");
}

void append_ping(std::string& out) { out.append("PING\n"); }
void append_pong(std::string& out) { out.append("PONG\n"); }
void append_line_end(std::string& out) { out.append(line_end); }

}  // namespace psycho::protocol
