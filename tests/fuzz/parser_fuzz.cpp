// libFuzzer target for the protocol parser. The first input byte picks where the rest is cut
// into two pieces; the rest is fed to parsers of every role and dialect with small limits
// (so the bounds are reached quickly), and checks that:
//  - the scratch buffer never holds more than max_control_line + max_payload (+2) bytes;
//  - feeding the input whole, in two pieces, and (for short inputs) byte by byte gives the
//    same ops and the same first error; after an error nothing more is delivered;
//  - a handler returning false stops feed() at once, without an error.
// Every view of every op is copied into the trace, so ASan sees any that points outside
// live memory.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "protocol/parser.hpp"

namespace {

using namespace psycho::protocol;

constexpr Limits kLimits{128, 256};
constexpr std::size_t kBound = kLimits.max_control_line + kLimits.max_payload + 2;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "parser_fuzz: %s\n", what);
    std::abort();
  }
}

// Records each op as bytes: its kind, then every field with its length.
class Tracer : public OpHandler {
 public:
  explicit Tracer(std::size_t stop_after = SIZE_MAX) : stop_after_(stop_after) {}
  bool on_op(const Op& op) override {
    trace.push_back(static_cast<char>(op.kind));
    for (std::string_view v :
         {op.subject, op.reply, op.queue, op.sid, op.args, op.headers, op.payload}) {
      trace.append(std::to_string(v.size())).push_back(':');
      trace.append(v);
    }
    ++ops;
    return ops < stop_after_;
  }
  std::string trace;
  std::size_t ops = 0;

 private:
  std::size_t stop_after_;
};

struct Result {
  std::string trace;
  std::error_code error;
};

Result feed_pieces(const std::vector<std::string_view>& pieces, Role role, Dialect dialect) {
  Parser parser(kLimits, role, dialect);
  Tracer tracer;
  Result r;
  for (std::string_view piece : pieces) {
    const std::size_t ops_before = tracer.ops;
    const std::error_code ec = parser.feed(piece, tracer);
    check(parser.buffered() <= kBound, "scratch buffer over its bound");
    if (r.error) {
      check(ec == r.error, "a feed after an error did not return that error");
      check(tracer.ops == ops_before, "an op was delivered after an error");
    } else {
      r.error = ec;
    }
  }
  r.trace = std::move(tracer.trace);
  return r;
}

void run(std::string_view data, std::size_t cut, Role role, Dialect dialect) {
  const Result whole = feed_pieces({data}, role, dialect);
  const Result split = feed_pieces({data.substr(0, cut), data.substr(cut)}, role, dialect);
  check(split.error == whole.error && split.trace == whole.trace, "split differs from whole");
  if (data.size() <= 512) {
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < data.size(); ++i) bytes.push_back(data.substr(i, 1));
    const Result trickle = feed_pieces(bytes, role, dialect);
    check(trickle.error == whole.error && trickle.trace == whole.trace,
          "byte by byte differs from whole");
  }
}

// A handler that stops after its first op: feed returns at once, with no error.
void run_stop(std::string_view data, Role role, Dialect dialect) {
  Parser parser(kLimits, role, dialect);
  Tracer tracer(1);
  const std::error_code ec = parser.feed(data, tracer);
  check(tracer.ops <= 1, "an op was delivered after the handler asked to stop");
  if (tracer.ops == 1) check(!ec, "feed returned an error after the handler asked to stop");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  // Scaled rather than taken modulo, so that cuts reach the far end of long inputs too.
  const std::size_t cut = bytes[0] * data.size() / 255;
  for (Role role : {Role::server, Role::client}) {
    for (Dialect dialect : {Dialect::psycho, Dialect::nats}) {
      run(data, cut, role, dialect);
      run_stop(data, role, dialect);
    }
  }
  return 0;
}
