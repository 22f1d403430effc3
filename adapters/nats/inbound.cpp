// The way in: what NATS subscriptions deliver, paced by the gateway's congestion, becomes a
// message of the gateway's with its headers and trace.
#include "adapters/nats/headers.hpp"
#include "adapters/nats/nats_adapter_impl.hpp"

namespace psycho::nats {

namespace {

// pace_import(): how often a paused delivery thread looks again, and how long it waits at
// most for a recipient that is not moving.
// Longer than a paused local publisher's 50 ms (net/client_session.cpp): what arrives
// meanwhile waits in nats.c's memory, not in a socket, and is bounded there.
constexpr std::chrono::microseconds kImportStallStep{200};
constexpr std::chrono::seconds kImportStall{1};

}  // namespace

void NatsAdapter::receive(InterestTable::SubscriptionId id, natsSubscription* sub, natsMsg* msg) {
  const std::string_view fabric_subject = natsMsg_GetSubject(msg);
  if (!table_.owns(id, fabric_subject)) {
    Counters::add(counters_.overlap_copies, 1);  // another subscription has it
    return;
  }
  import(sub, msg, {});
}

// nats-server chose one subscription of the group, so there are no overlapping copies to
// weed out.
void NatsAdapter::receive_chosen(std::string_view local_queue, natsSubscription* sub,
                                 natsMsg* msg) {
  import(sub, msg, local_queue);
}

// Flow control, the receiving half, as nats-server does it for a fast publisher and a slow
// subscriber: while what the gateway injects piles up at a recipient (or in the router),
// the delivery thread waits, and nats.c holds what keeps arriving for the subscription.
// - Once nats.c holds half of what it may (`pending_messages`, `pending_bytes`), the wait
//   goes on only for recipients that are moving: a stalled one (one that has probably
//   stopped reading) no longer holds everyone else back while nats.c fills, and a moving one
//   is still waited for, so what nats.c held does not burst into it. (Half, where the wait
//   used to end for everyone: a reader slow enough that its whole-outbox writes take longer
//   than kMovingWithin counts as stalled, and is then given no less than before.)
// - A wait ends when the congestion clears, as soon as nats.c holds three quarters, or after
//   kImportStall without a moving recipient to wait for (a slow reader's wait lasts as long
//   as it keeps reading); then messages go on at full speed until the congestion has
//   cleared once.
// So a subscriber that reads slower than the publisher writes, or not at all, is cut as a
// slow consumer, the others get everything, and the bridge never falls behind nats-server.
void NatsAdapter::pace_import(natsSubscription* sub) {
  if (!host_->congested(WaitFor::congested)) {
    import_stall_expired_ = false;
    return;
  }
  if (import_stall_expired_) return;
  auto deadline = Clock::now() + kImportStall;
  bool waited = false;
  for (;;) {
    const NatsHolds holds = nats_holds(sub);
    // A recipient that is reading is waited for as long as nats.c has room (a slow reader
    // lags, as a slow NATS client lags behind nats-server, until its buffers are full);
    // one that stopped, for kImportStall at most.
    const bool moving = holds != NatsHolds::most && host_->congested(WaitFor::moving);
    if (moving) deadline = Clock::now() + kImportStall;
    const bool out_of_patience = holds == NatsHolds::most || Clock::now() >= deadline;
    if (!out_of_patience && !moving &&
        (holds != NatsHolds::little || !host_->congested(WaitFor::congested))) {
      return;
    }
    if (!waited) Counters::add(counters_.import_stalls, 1);  // a timeout is a stall too
    waited = true;
    if (out_of_patience) {
      import_stall_expired_ = true;
      Counters::add(counters_.import_stall_timeouts, 1);
      return;
    }
    std::this_thread::sleep_for(kImportStallStep);
  }
}

NatsAdapter::NatsHolds NatsAdapter::nats_holds(natsSubscription* sub) const {
  int messages = 0, bytes = 0;
  if (natsSubscription_GetPending(sub, &messages, &bytes) != NATS_OK) return NatsHolds::most;
  // The fuller of the two, in quarters of its limit.
  const auto quarters = [](std::int64_t held, std::int64_t limit) { return 4 * held / limit; };
  const std::int64_t full = std::max(quarters(messages, config_.pending_messages),
                                     quarters(bytes, config_.nats_pending_bytes()));
  return full >= 3 ? NatsHolds::most : full >= 2 ? NatsHolds::some : NatsHolds::little;
}

void NatsAdapter::import(natsSubscription* sub, natsMsg* msg, std::string_view local_queue) {
  pace_import(sub);
  const std::string_view fabric_subject = natsMsg_GetSubject(msg);
  // The import lists first: a message that is not imported costs no header rebuild and no
  // sequence number.
  const auto local = import_.local_name(import_filter_.get(filter_), fabric_subject);
  if (!local) return;
  // A plain NATS publication gets an identity of this gateway's making; one that another
  // gateway exported carries its own in the trace headers.
  thread_local std::string scratch;
  std::string_view headers;
  const auto carried = take_headers(msg, scratch, headers);
  const Trace trace =
      carried
          ? *carried
          : Trace{import_node_, import_seq_.fetch_add(1, std::memory_order_relaxed) + 1, 0, bus_};
  const char* reply = natsMsg_GetReply(msg);
  const std::string_view payload(natsMsg_GetData(msg),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  import_.inject(*host_, origin_id(), *local,
                 {fabric_subject, reply != nullptr ? reply : "", headers, payload, local_queue},
                 trace);
}

bool NatsAdapter::receives_directly(const Message& message) const {
  if (message.trace().bus != bus_ || state_.load(std::memory_order_acquire) != State::connected) {
    return false;
  }
  const auto f = filter();
  if (!f->imports(message.subject())) return false;
  const std::string fabric_subject = f->import_name(message.subject());
  return table_.covers(fabric_subject) || queues_.covers(fabric_subject);
}

GroupChoice NatsAdapter::group_choice(std::string_view subject, std::string_view queue) const {
  const auto f = filter();
  if (!exports(subject) || !f->imports(subject)) return GroupChoice::router;
  return queues_.chooses(f->import_name(subject), queue) ? GroupChoice::fabric
                                                         : GroupChoice::fallback;
}

}  // namespace psycho::nats
