// The way out: what the router sends to NATS waits in one bounded queue for the publisher
// thread, which publishes it and keeps light traffic from waiting for nats.c's flusher.
#include "adapters/nats/headers.hpp"
#include "adapters/nats/nats_adapter_impl.hpp"
#include "adapters/nats/raw_message.hpp"

namespace psycho::nats {

namespace {

// Batches up to this size are flushed at once (see run_publisher).
constexpr std::size_t kLatencyBatch = 16;

Drop drop_reason(natsStatus s) {
  switch (s) {
    case NATS_INSUFFICIENT_BUFFER:
      return Drop::reconnect_buffer_full;
    case NATS_MAX_PAYLOAD:
      return Drop::too_large;
    case NATS_CONNECTION_CLOSED:
      return Drop::closed;
    default:
      return Drop::publish_error;
  }
}

}  // namespace

void NatsAdapter::send(const MessagePtr& message) {
  if (message->trace().bus == bus_) {
    counters_.count(Drop::same_bus);
    return;
  }
  if (!queue_.push(message)) counters_.count(Drop::queue_full);
}

void NatsAdapter::run_publisher() {
  std::vector<MessagePtr> batch;
  while (queue_.take_all(batch, 100ms)) {
    apply_interest();
    for (const auto& m : batch) publish(*m);
    // nats.c's flusher waits up to 1 ms for more data before it writes, which would add a
    // millisecond to every request/reply through the gateway. A small batch means light
    // load, where latency matters: push it out now (a flush is a PING; the data leaves at
    // once, only this thread waits for the PONG). Big batches fill nats.c's buffer, which it
    // then writes by itself.
    if (!batch.empty() && batch.size() <= kLatencyBatch &&
        state_.load(std::memory_order_acquire) == State::connected) {
      natsConnection_FlushTimeout(connection_, 100);
    }
    batch.clear();
    jetstream_.retry_failed();
    if (Clock::now() >= next_housekeeping_) housekeeping();
  }
}

void NatsAdapter::publish(const Message& message) {
  if (connection_ == nullptr) {  // between reopen() attempts
    counters_.count(Drop::closed);
    return;
  }
  publisher_filter_.get(filter_).to_fabric(message.subject(), subject_buffer_);
  const bool to_jetstream = jetstream_.enabled() && jetstream_.wants(message.subject());
  natsStatus s;
  if (!trace_headers_ && !to_jetstream && message.headers().empty()) {
    // The fast path: no natsMsg, nats.c writes straight into its buffer.
    const auto payload = message.payload();
    if (message.reply().empty()) {
      s = natsConnection_Publish(connection_, subject_buffer_.c_str(), payload.data(),
                                 static_cast<int>(payload.size()));
    } else {
      reply_buffer_.assign(message.reply());
      s = natsConnection_PublishRequest(connection_, subject_buffer_.c_str(), reply_buffer_.c_str(),
                                        payload.data(), static_cast<int>(payload.size()));
    }
  } else {
    s = publish_with_headers(message, to_jetstream);
  }
  if (s == NATS_OK) {
    counters_.sent(message.body().size());
  } else {
    counters_.count(drop_reason(s));
  }
}

natsStatus NatsAdapter::publish_with_headers(const Message& message, bool to_jetstream) {
  // The client's own header block goes out byte for byte; Psycho-* headers are ours to set,
  // never a client's (raw_message.hpp).
  TraceValues trace;
  format_trace(message.trace(), trace);
  const OutgoingBody body =
      outgoing_body(message.headers(), message.payload(), trace_headers_ ? trace.trace : "",
                    to_jetstream ? trace.msg_id : "", body_buffer_);
  natsMsg* msg = nullptr;
  natsStatus s =
      make_raw_message(&msg, subject_buffer_, message.reply(), body.bytes, body.header_size);
  if (s != NATS_OK) return s;
  if (to_jetstream) return jetstream_.publish(msg);
  s = natsConnection_PublishMsg(connection_, msg);
  free_message(msg);
  return s;
}

}  // namespace psycho::nats
