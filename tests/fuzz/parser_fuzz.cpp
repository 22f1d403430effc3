// libFuzzer target for the protocol parser: every role and dialect, the input cut at a
// position the fuzzer controls, small limits so the bounds are reached quickly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/connect_options.hpp"
#include "protocol/parser.hpp"

namespace {

using namespace psycho::protocol;

class Sink : public OpHandler {
 public:
  bool on_op(const Op& op) override {
    // Touch every view so ASan sees any that points outside live memory.
    std::size_t n = 0;
    for (std::string_view v : {op.subject, op.reply, op.queue, op.sid, op.args, op.headers,
                               op.payload}) {
      for (char c : v) n += static_cast<unsigned char>(c);
    }
    if (op.kind == OpKind::connect) {
      ConnectOptions options;
      (void)parse_connect_options(op.args, options);
    }
    sum_ += n;
    return true;
  }
  std::size_t sum_ = 0;
};

void run(std::string_view data, std::size_t cut, Role role, Dialect dialect) {
  const Limits limits{128, 256};
  Parser parser(limits, role, dialect);
  Sink sink;
  if (parser.feed(data.substr(0, cut), sink)) return;
  if (parser.buffered() > limits.max_control_line + limits.max_payload + 2) std::abort();
  if (parser.feed(data.substr(cut), sink)) return;
  if (parser.buffered() > limits.max_control_line + limits.max_payload + 2) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t cut = bytes[0] % size;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const std::size_t at = cut > data.size() ? data.size() : cut;
  run(data, at, Role::server, Dialect::psycho);
  run(data, at, Role::client, Dialect::psycho);
  run(data, at, Role::client, Dialect::nats);
  run(data, at, Role::server, Dialect::nats);
  return 0;
}
