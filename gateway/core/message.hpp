// An immutable message, shared by every recipient.
//
// Subject, reply, header block and payload live in one allocation together with the
// reference count, so routing a message costs one malloc however many sessions, workers and
// adapters it reaches (encode once, share the payload).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace psycho {

// Who handed the message to the router: a client session or an adapter. Ids come from one
// counter (Router::next_origin_id) so they never collide. 0 means "nobody in particular".
using OriginId = std::uint64_t;

// The authenticated user who published a message, as a small id every session of that user
// shares (auth::principal_of); 0 for messages from adapters and from clients without a user.
// Permissions that depend on who sent a message (allow_responses) read it.
using PrincipalId = std::uint32_t;

// Identity of a message across gateways: the gateway that first routed it, its sequence
// there, and how many gateway-to-gateway hops it has travelled.
struct Trace {
  std::uint64_t node_id = 0;
  std::uint64_t seq = 0;
  std::uint8_t hops = 0;
  // The broker system (e.g. one NATS cluster) the message entered the gateways through, as
  // an id every gateway on it agrees on; 0 when it came from a client. A bridge never hands
  // a message back to the system it came from, and a gateway that hears that system itself
  // ignores copies relayed by other gateways (docs/nats.md).
  std::uint32_t bus = 0;
};

// The node id under which a gateway whose own id is `node_id` gives a fabric's plain
// publications (a NATS client's, which carry no identity) an identity of its making, with
// its own sequence: never `node_id` itself, which the router drops as a loop, and never 0,
// which means "no identity".
std::uint64_t import_node_id(std::uint64_t node_id) noexcept;

class MessagePtr;
struct MessageParts;
MessagePtr make_message(const MessageParts& parts, OriginId origin, const Trace& trace,
                        PrincipalId publisher = 0);

struct MessageParts {
  std::string_view subject;
  std::string_view reply;
  std::string_view headers;  // NATS header block ("NATS/1.0\r\n...\r\n\r\n") or empty
  std::string_view payload;
  // Set only on a message a fabric handed over through one of its queue subscriptions: the
  // fabric chose this gateway for that local queue group, which alone receives it.
  std::string_view queue = {};
};

// Whether `headers` is empty (no headers) or a whole NATS header block: the NATS/1.0 line
// first, the blank line last and only there, so that an HMSG carrying it is well-formed and
// every header in it is one that readers (core/header_block.hpp) see.
bool is_valid_header_block(std::string_view headers) noexcept;

class Message;

// Whether `m` is a "no responders" status: no payload, and a header block whose status line
// is 503. What nats-server sends a requester that asked for one (and the gateway itself, with
// no fabric to ask), and only to it.
bool is_no_responders(const Message& m) noexcept;

class Message {
 public:
  std::string_view subject() const noexcept { return {data(), subject_size_}; }
  std::string_view reply() const noexcept { return {data() + subject_size_, reply_size_}; }
  std::string_view headers() const noexcept {
    return {data() + subject_size_ + reply_size_, headers_size_};
  }
  std::string_view payload() const noexcept {
    return {data() + subject_size_ + reply_size_ + headers_size_, payload_size_};
  }
  // The local queue group a fabric chose this gateway for (MessageParts::queue), or empty.
  std::string_view queue() const noexcept {
    return {data() + subject_size_ + reply_size_ + headers_size_ + payload_size_, queue_size_};
  }
  // Headers and payload as one contiguous run, exactly the body of an HMSG.
  std::string_view body() const noexcept {
    return {data() + subject_size_ + reply_size_, headers_size_ + payload_size_};
  }

  OriginId origin() const noexcept { return origin_; }
  PrincipalId publisher() const noexcept { return publisher_; }
  const Trace& trace() const noexcept { return trace_; }

 private:
  friend class MessagePtr;
  friend MessagePtr make_message(const MessageParts&, OriginId, const Trace&, PrincipalId);

  Message() = default;
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }

  mutable std::atomic<std::uint32_t> refs_{1};
  std::uint32_t subject_size_ = 0;
  std::uint32_t reply_size_ = 0;
  std::uint32_t headers_size_ = 0;
  std::uint32_t payload_size_ = 0;
  PrincipalId publisher_ = 0;
  std::uint32_t queue_size_ = 0;
  OriginId origin_ = 0;
  Trace trace_;
};

// Intrusive shared pointer to an immutable Message.
class MessagePtr {
 public:
  MessagePtr() noexcept = default;
  MessagePtr(const MessagePtr& o) noexcept : m_(o.m_) { retain(); }
  MessagePtr(MessagePtr&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  MessagePtr& operator=(MessagePtr o) noexcept {
    std::swap(m_, o.m_);
    return *this;
  }
  ~MessagePtr() { release(); }

  const Message* get() const noexcept { return m_; }
  const Message& operator*() const noexcept { return *m_; }
  const Message* operator->() const noexcept { return m_; }
  explicit operator bool() const noexcept { return m_ != nullptr; }

 private:
  friend MessagePtr make_message(const MessageParts&, OriginId, const Trace&, PrincipalId);
  explicit MessagePtr(Message* m) noexcept : m_(m) {}
  void retain() noexcept {
    if (m_) m_->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;

  Message* m_ = nullptr;
};

}  // namespace psycho
