#include "adapters/nats/raw_message.hpp"

#include <cstring>

// nats.c's own constructor for messages, the one its parser uses for what arrives. Exported
// by libnats since 2.x with this signature (CMakeLists.txt checks that it links).
extern "C" natsStatus natsMsg_create(natsMsg** new_msg, const char* subject, int subject_len,
                                     const char* reply, int reply_len, const char* buf, int buf_len,
                                     int header_len);
// What nats.c's collector thread calls for a message (natsMsg_Destroy hands it over).
extern "C" void natsMsg_free(void* msg);

namespace psycho::nats {

namespace {

constexpr std::string_view kBlockStart = "NATS/1.0";
constexpr std::string_view kBlockEnd = "\r\n\r\n";

// Where natsMsg_create puts the header block: right after the subject and reply (each
// NUL-terminated), followed by a NUL and the payload. Only the addresses nats.c hands out
// through its public getters are used to find it.
std::optional<std::string_view> block_by_layout(natsMsg* msg) {
  const char* subject = natsMsg_GetSubject(msg);
  const char* reply = natsMsg_GetReply(msg);
  const char* data = natsMsg_GetData(msg);
  if (subject == nullptr || data == nullptr) return std::nullopt;
  const char* last = reply != nullptr ? reply : subject;
  const char* start = last + std::strlen(last) + 1;
  // No block: none arrived, or the message was made with headers in nats.c's map only.
  if (data < start + kBlockStart.size() + kBlockEnd.size() + 1 || data[-1] != '\0') {
    return std::nullopt;
  }
  const std::string_view block(start, static_cast<std::size_t>(data - 1 - start));
  // nats.c parses a block in place when asked for a header, writing NULs into it.
  if (block.substr(0, kBlockStart.size()) != kBlockStart ||
      block.substr(block.size() - kBlockEnd.size()) != kBlockEnd ||
      block.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  return block;
}

// Whether the layout above is the one this libnats uses: a message made by its constructor
// must give back the block it was made with.
bool layout_holds() {
  if (nats_Open(-1) != NATS_OK) return false;  // a no-op once the library is open
  constexpr std::string_view body = "NATS/1.0\r\nB: 1\r\na: 2\r\n\r\npayload";
  constexpr std::size_t header_size = body.size() - 7;
  natsMsg* msg = nullptr;
  if (make_raw_message(&msg, "s", "r", body, header_size) != NATS_OK) return false;
  const auto block = block_by_layout(msg);
  const bool holds = block && *block == body.substr(0, header_size) &&
                     std::string_view(natsMsg_GetData(msg)) == "payload";
  free_message(msg);
  return holds;
}

}  // namespace

natsStatus make_raw_message(natsMsg** out, std::string_view subject, std::string_view reply,
                            std::string_view body, std::size_t header_size) {
  return natsMsg_create(out, subject.data(), static_cast<int>(subject.size()),
                        reply.empty() ? nullptr : reply.data(), static_cast<int>(reply.size()),
                        body.data(), static_cast<int>(body.size()), static_cast<int>(header_size));
}

void free_message(natsMsg* msg) noexcept { natsMsg_free(msg); }

std::optional<std::string_view> received_header_block(natsMsg* msg) {
  static const bool layout_ok = layout_holds();
  if (!layout_ok) return std::nullopt;
  return block_by_layout(msg);
}

}  // namespace psycho::nats
