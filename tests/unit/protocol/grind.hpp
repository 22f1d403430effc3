// Feeds a byte stream to a parser whole, split at every position, and one byte at a time,
// recording what comes out so the three can be compared (Beast's "parsegrind" idea).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/parser.hpp"

namespace psycho::protocol::testing {

// An Op with owned strings, so it can outlive the parser's buffers.
struct OwnedOp {
  OpKind kind{};
  std::string subject, reply, queue, sid, args, headers, payload;
  bool operator==(const OwnedOp&) const = default;
};

inline void PrintTo(const OwnedOp& o, std::ostream* os) {
  *os << "{kind " << static_cast<int>(o.kind) << " subject '" << o.subject << "' reply '" << o.reply
      << "' queue '" << o.queue << "' sid '" << o.sid << "' args '" << o.args << "' headers "
      << o.headers.size() << "B payload " << o.payload.size() << "B}";
}

struct Outcome {
  std::vector<OwnedOp> ops;  // every op delivered, including by feeds after an error
  std::error_code error;     // the first error
  std::size_t max_buffered = 0;
  bool error_repeated = true;  // every feed after the error returned the same error
  bool operator==(const Outcome& o) const { return ops == o.ops && error == o.error; }
};

class Recorder : public OpHandler {
 public:
  explicit Recorder(std::size_t stop_after = SIZE_MAX) : stop_after_(stop_after) {}
  bool on_op(const Op& op) override {
    ops.push_back({op.kind, std::string(op.subject), std::string(op.reply), std::string(op.queue),
                   std::string(op.sid), std::string(op.args), std::string(op.headers),
                   std::string(op.payload)});
    return ops.size() < stop_after_;
  }
  std::vector<OwnedOp> ops;

 private:
  std::size_t stop_after_;
};

struct ParserSetup {
  Limits limits{};
  Role role = Role::server;
  Dialect dialect = Dialect::psycho;
};

// Feeds `pieces` in order. Pieces after an error are fed too: they must deliver nothing and
// return the same error, whatever they hold.
inline Outcome feed_pieces(const std::vector<std::string>& pieces, const ParserSetup& setup) {
  Parser parser(setup.limits, setup.role, setup.dialect);
  Recorder recorder;
  Outcome out;
  for (const auto& piece : pieces) {
    const std::error_code ec = parser.feed(piece, recorder);
    out.max_buffered = std::max(out.max_buffered, parser.buffered());
    if (out.error) {
      out.error_repeated = out.error_repeated && ec == out.error;
    } else {
      out.error = ec;
    }
  }
  out.ops = std::move(recorder.ops);
  return out;
}

inline Outcome feed_whole(const std::string& input, const ParserSetup& setup = {}) {
  return feed_pieces({input}, setup);
}

// Every way of cutting the input: at each split point into two pieces, and byte by byte.
inline std::vector<std::vector<std::string>> all_splits(const std::string& input) {
  std::vector<std::vector<std::string>> splits;
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    splits.push_back({input.substr(0, cut), input.substr(cut)});
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  splits.push_back(std::move(bytes));
  return splits;
}

// Asserts that every way of splitting `input` gives the same ops and error as feeding it
// whole, that the scratch buffer stays within its bound, and returns the whole outcome.
inline Outcome ground(const std::string& input, const ParserSetup& setup = {}) {
  const Outcome whole = feed_whole(input, setup);
  EXPECT_EQ(whole.max_buffered, 0u) << "an op within one piece is never copied";
  const std::size_t bound = setup.limits.max_control_line + setup.limits.max_payload;
  for (const auto& pieces : all_splits(input)) {
    const Outcome split = feed_pieces(pieces, setup);
    EXPECT_EQ(split, whole) << "input split into " << pieces.size() << " pieces, first "
                            << pieces.front().size() << " bytes";
    EXPECT_TRUE(split.error_repeated);
    EXPECT_LE(split.max_buffered, bound);
    if (!(split == whole)) break;  // one failing split says enough
  }
  return whole;
}

}  // namespace psycho::protocol::testing
