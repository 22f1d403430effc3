#include "core/message.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace psycho {

// The header sits in front of every message body: one cache line.
static_assert(sizeof(Message) == 64);

void MessagePtr::release() noexcept {
  // acq_rel: the thread that frees must see every other thread's reads as finished.
  if (m_ && m_->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    m_->~Message();
    std::free(m_);
  }
  m_ = nullptr;
}

std::uint64_t import_node_id(std::uint64_t node_id) noexcept {
  const std::uint64_t id = node_id ^ 0x6E617473'696D7074ull;  // "natsimpt"
  return id == 0 || id == node_id ? 1 : id;
}

MessagePtr make_message(const MessageParts& parts, OriginId origin, const Trace& trace,
                        PrincipalId publisher) {
  const std::size_t body = parts.subject.size() + parts.reply.size() + parts.headers.size() +
                           parts.payload.size() + parts.queue.size();
  void* raw = std::malloc(sizeof(Message) + body);
  if (raw == nullptr) throw std::bad_alloc();
  auto* m = new (raw) Message();
  m->subject_size_ = static_cast<std::uint32_t>(parts.subject.size());
  m->reply_size_ = static_cast<std::uint32_t>(parts.reply.size());
  m->headers_size_ = static_cast<std::uint32_t>(parts.headers.size());
  m->payload_size_ = static_cast<std::uint32_t>(parts.payload.size());
  m->queue_size_ = static_cast<std::uint32_t>(parts.queue.size());
  m->origin_ = origin;
  m->publisher_ = publisher;
  m->trace_ = trace;
  char* out = reinterpret_cast<char*>(m + 1);
  for (std::string_view piece :
       {parts.subject, parts.reply, parts.headers, parts.payload, parts.queue}) {
    if (!piece.empty()) std::memcpy(out, piece.data(), piece.size());
    out += piece.size();
  }
  return MessagePtr(m);
}

bool is_no_responders(const Message& m) noexcept {
  constexpr std::string_view kStatus = "NATS/1.0 503";
  const std::string_view headers = m.headers();
  if (!m.payload().empty() || headers.size() <= kStatus.size() || !headers.starts_with(kStatus)) {
    return false;
  }
  return headers[kStatus.size()] == '\r' || headers[kStatus.size()] == ' ';
}

bool is_valid_header_block(std::string_view headers) noexcept {
  // The first blank line is the last: lines after it would be read by nobody (a header
  // reader stops there) and could smuggle anything past one that looks at the block.
  return headers.empty() || (headers.starts_with("NATS/1.0") && headers.size() >= 12 &&
                             headers.find("\r\n\r\n") == headers.size() - 4);
}

}  // namespace psycho
