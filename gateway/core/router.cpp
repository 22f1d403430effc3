#include "core/router.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <unordered_set>
#include <utility>

#include "core/fabric_link.hpp"
#include "core/keyed_hash.hpp"
#include "core/string_hash.hpp"

namespace psycho {

namespace {

// Bytes charged per cross-worker delivery on top of subject and body (the MSG line).
constexpr std::size_t kDeliveryOverhead = 64;

// xorshift64*: cheap, per-worker, good enough to spread queue-group picks.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1Dull;
}

// One member, starting at a random one and skipping the publisher itself (a session never
// receives its own message through a queue group); null when there is none.
const std::shared_ptr<Subscriber>* pick_member(
    std::uint64_t& random, const Message& message,
    const std::vector<std::shared_ptr<Subscriber>>& members) {
  const std::size_t n = members.size();
  if (n == 0) return nullptr;
  const std::size_t start = static_cast<std::size_t>(next_random(random) % n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& member = members[(start + i) % n];
    if (member->id() != message.origin()) return &member;
  }
  return nullptr;
}

struct GroupMemberHash {
  std::size_t operator()(const std::pair<std::size_t, const Subscriber*>& m) const noexcept {
    return KeyedHash{}(m.first, reinterpret_cast<std::uintptr_t>(m.second));
  }
};
}  // namespace

// Everything a subject resolves to, precomputed once per (subject, index generation).
struct Router::MatchResult {
  // Plain subscribers by worker, each subscriber once however many patterns matched.
  std::vector<std::vector<std::shared_ptr<Subscriber>>> by_worker;
  struct Group {
    std::string name;
    std::vector<std::shared_ptr<Subscriber>> members;
    // The adapter whose fabric chooses the member (GroupChoice::fabric), or null.
    FabricLink* chooser = nullptr;
    bool fallback = false;  // an adapter's fabric should choose, and cannot yet
  };
  std::vector<Group> groups;
  std::vector<FabricLink*> adapters;  // whose export filter takes the subject
  bool has_local = false;
};

namespace {

// Of a message's congested recipients, the one a publisher or an adapter should wait for: one
// that is moving if there is one, else a stalled one (it was reading) before a silent one. A
// stalled one may be given up soon (or, by an adapter whose own buffer is filling, at once),
// and the wait must then go on for a moving one rather than end and let what was held back
// burst into it.
struct RecipientToWaitFor {
  std::shared_ptr<Subscriber> recipient;
  Congestion state = Congestion::none;

  void consider(const std::shared_ptr<Subscriber>& s) {
    if (state == Congestion::moving) return;
    const Congestion c = s->congestion();
    if (c <= state) return;  // Congestion is ordered by how much waiting is worth
    recipient = s;
    state = c;
  }
};

}  // namespace

struct Router::Delivery {
  MessagePtr message;
  std::shared_ptr<const MatchResult> result;  // deliver to result->by_worker[target] ...
  std::shared_ptr<Subscriber> single;         // ... or, when set, to this one only
  bool injected = false;                      // it came from an adapter

  // On the target worker's thread.
  void run(int target) const {
    if (single) {
      single->deliver(message);
      return;
    }
    for (const auto& s : result->by_worker[static_cast<std::size_t>(target)]) s->deliver(message);
  }

  // On the target worker's thread, after run(): the recipient to wait for now, or null.
  std::shared_ptr<Subscriber> congested_recipient(int target) const {
    RecipientToWaitFor chosen;
    if (single) {
      chosen.consider(single);
    } else {
      for (const auto& s : result->by_worker[static_cast<std::size_t>(target)]) chosen.consider(s);
    }
    return std::move(chosen.recipient);
  }
};

// One per worker, each on its own cache line (PerWorker): only its worker writes it, except
// in_flight, which the targets decrement. outbound_bytes and in_flight are atomics because
// adapters' threads read them too (backlogged, from injection_congested).
struct Router::WorkerState {
  WorkerState(int workers, int index)
      : outbound(static_cast<std::size_t>(workers)),
        outbound_bytes(
            std::make_unique<std::atomic<std::size_t>[]>(static_cast<std::size_t>(workers))),
        in_flight(std::make_unique<std::atomic<std::size_t>[]>(static_cast<std::size_t>(workers))),
        random(0x9E3779B97F4A7C15ull ^
               static_cast<std::uint64_t>(index + 1) * 0xBF58476D1CE4E5B9ull) {}

  std::unordered_map<std::string, std::shared_ptr<const MatchResult>, StringHash, std::equal_to<>>
      cache;
  std::uint64_t cache_generation = 0;
  // The last subject looked up and its result, checked before `cache` is hashed: a stream
  // mostly repeats one subject (hashing was about a seventh of a worker's CPU per PUB).
  std::string last_subject;
  std::shared_ptr<const MatchResult> last_match;
  std::vector<std::vector<Delivery>> outbound;  // by target worker
  // Body bytes in `outbound`, by target; written by the worker alone.
  std::unique_ptr<std::atomic<std::size_t>[]> outbound_bytes;
  // Body bytes posted to each target and not yet delivered there; written by both sides.
  std::unique_ptr<std::atomic<std::size_t>[]> in_flight;
  bool flush_scheduled = false;
  std::uint32_t congestion_countdown = 0;  // recipients' congestion is sampled, not read always
  std::uint64_t sequence = 0;
  std::uint64_t random;
};

Router::Router(WorkerPool& workers, RouterOptions options)
    : workers_(workers),
      options_(options),
      import_node_(import_node_id(options.node_id)),
      dedup_(options.dedup_capacity),
      worker_state_(workers.size(), [n = workers.size()](int w) { return WorkerState(n, w); }),
      inject_queues_(workers.size()) {
  inject_pause_.store(options.inject_pause, std::memory_order_relaxed);
}

Router::~Router() = default;

void Router::add_adapter(FabricLink& adapter) { adapters_.push_back(&adapter); }

std::uint64_t Router::next_sequence() noexcept {
  // Per-worker counters with the worker index in the low byte: unique, and no shared atomic.
  const int w = workers_.current();
  if (w < 0) {
    // Off the workers (nothing publishes from there today): one shared counter, in the top
    // half where no worker's count ever gets. Not 0 for every message, which the duplicate
    // check would have taken for one message repeated.
    return kOffWorkerSequences | (off_worker_sequence_.fetch_add(1, std::memory_order_relaxed) + 1);
  }
  auto& ws = worker_state_[w];
  return (++ws.sequence << 8) | static_cast<std::uint64_t>(w);
}

bool Router::subscribe(const std::shared_ptr<Subscriber>& subscriber, std::string_view pattern,
                       std::string_view queue) {
  {
    WriterLock lock(index_mutex_);
    if (!index_.insert(pattern, subscriber, queue)) return false;
    generation_.fetch_add(1, std::memory_order_release);
  }
  change_interest(pattern, queue, -1, +1);
  return true;
}

bool Router::unsubscribe(const Subscriber& subscriber, std::string_view pattern,
                         std::string_view queue) {
  {
    WriterLock lock(index_mutex_);
    if (!index_.remove(pattern, subscriber, queue)) return false;
    generation_.fetch_add(1, std::memory_order_release);
  }
  change_interest(pattern, queue, -1, -1);
  return true;
}

void Router::declare_interest(OriginId adapter, std::string_view pattern, bool added) {
  for (std::size_t k = 0; k < adapters_.size(); ++k) {
    if (adapters_[k]->origin_id() == adapter) {
      change_interest(pattern, {}, static_cast<int>(k), added ? +1 : -1);
      return;
    }
  }
}

void Router::change_interest(std::string_view pattern, std::string_view queue, int from_adapter,
                             int delta) {
  MutexLock lock(interest_mutex_);
  auto it = interest_.find(pattern);
  if (it == interest_.end()) {
    if (delta < 0) return;
    it =
        interest_.emplace(std::string(pattern), Interest{0, {}, std::vector<int>(adapters_.size())})
            .first;
  }
  Interest& in = it->second;
  auto group = std::find_if(in.groups.begin(), in.groups.end(),
                            [&](const auto& g) { return g.first == queue; });
  if (!queue.empty() && group == in.groups.end()) {
    if (delta < 0) return;
    group = in.groups.emplace(in.groups.end(), std::string(queue), 0);
  }
  int& own = !queue.empty()     ? group->second
             : from_adapter < 0 ? in.clients
                                : in.by_adapter[static_cast<std::size_t>(from_adapter)];
  if (own + delta < 0) return;  // a remove nobody added
  // An adapter hears of everyone's interest but its own (split horizon for interest): it
  // is told when the count of the *others* crosses zero. One that bridges queue groups
  // counts plain interest here and hears of each group apart.
  auto others_want = [&in, this](std::size_t k) {
    const int all = adapters_[k]->bridges_queue_groups() ? in.plain() : in.total();
    return all - in.by_adapter[k] > 0;
  };
  std::vector<bool> before(adapters_.size());
  for (std::size_t k = 0; k < adapters_.size(); ++k) before[k] = others_want(k);
  const bool group_before = own > 0;
  own += delta;
  for (std::size_t k = 0; k < adapters_.size(); ++k) {
    if (const bool after = others_want(k); after != before[k]) {
      adapters_[k]->on_interest(pattern, after);
    }
    if (!queue.empty() && adapters_[k]->bridges_queue_groups() && (own > 0) != group_before) {
      adapters_[k]->on_queue_interest(pattern, queue, own > 0);
    }
  }
  if (!queue.empty() && own == 0) in.groups.erase(group);
  if (in.total() == 0) interest_.erase(it);
}

std::size_t Router::subscription_count() const {
  ReaderLock lock(index_mutex_);
  return index_.size();
}

std::shared_ptr<const Router::MatchResult> Router::build_match(std::string_view subject) const {
  auto result = std::make_shared<MatchResult>();
  result->by_worker.resize(static_cast<std::size_t>(workers_.size()));
  // Hash sets, not vectors: a subject with 100,000 subscribers must not cost 100,000² steps.
  std::unordered_set<const Subscriber*> plain_seen;
  std::unordered_set<std::pair<std::size_t, const Subscriber*>, GroupMemberHash> members_seen;
  {
    ReaderLock lock(index_mutex_);
    index_.match(subject, [&](const SubscriptionEntry& e) {
      if (e.queue.empty()) {
        if (!plain_seen.insert(e.subscriber.get()).second) return;
        result->by_worker[static_cast<std::size_t>(e.subscriber->worker())].push_back(e.subscriber);
        return;
      }
      // A member that may not receive the subject is never picked: picking it would lose
      // the message for the whole group.
      if (!e.subscriber->may_receive(subject)) return;
      auto g = std::find_if(result->groups.begin(), result->groups.end(),
                            [&](const auto& grp) { return grp.name == e.queue; });
      if (g == result->groups.end()) {
        result->groups.push_back({e.queue, {}, {}});
        g = std::prev(result->groups.end());
      }
      const auto group_index = static_cast<std::size_t>(g - result->groups.begin());
      if (members_seen.emplace(group_index, e.subscriber.get()).second) {
        g->members.push_back(e.subscriber);
      }
    });
  }
  result->has_local = !plain_seen.empty() || !result->groups.empty();
  for (FabricLink* a : adapters_) {
    if (a->exports(subject)) result->adapters.push_back(a);
  }
  for (auto& g : result->groups) {
    for (FabricLink* a : result->adapters) {
      if (!a->bridges_queue_groups()) continue;
      const GroupChoice choice = a->group_choice(subject, g.name);
      g.fallback = g.fallback || choice == GroupChoice::fallback;
      if (choice == GroupChoice::fabric) {
        g.chooser = a;
        break;
      }
    }
  }
  return result;
}

std::shared_ptr<const Router::MatchResult> Router::lookup(WorkerState* ws,
                                                          std::string_view subject) {
  if (ws == nullptr) return build_match(subject);
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  if (ws->cache_generation != generation) {
    ws->cache.clear();
    ws->last_match = nullptr;
    ws->cache_generation = generation;
  }
  if (ws->last_match != nullptr && ws->last_subject == subject) return ws->last_match;
  std::shared_ptr<const MatchResult> result;
  if (auto it = ws->cache.find(subject); it != ws->cache.end()) {
    result = it->second;
  } else {
    result = build_match(subject);
    if (ws->cache.size() >= options_.match_cache_entries) ws->cache.clear();
    ws->cache.emplace(std::string(subject), result);
  }
  ws->last_subject.assign(subject);
  ws->last_match = result;
  return result;
}

Backpressure Router::route(const MessagePtr& message, bool injected) {
  const int here = workers_.current();
  WorkerState* ws = here >= 0 ? &worker_state_[here] : nullptr;
  auto result = lookup(ws, message->subject());
  stats_.routed.fetch_add(1, std::memory_order_relaxed);
  if (!message->queue().empty()) return deliver_chosen(here, message, *result, injected);
  if (!result->has_local && result->adapters.empty()) {
    stats_.no_interest.fetch_add(1, std::memory_order_relaxed);
    Backpressure none;
    none.unrouted = true;
    return none;
  }
  if (!message->reply().empty() && (result->has_local || !result->groups.empty()) &&
      std::any_of(result->adapters.begin(), result->adapters.end(),
                  [&](const FabricLink* a) { return a->origin_id() != message->origin(); })) {
    answered_here_.note(message->reply());
  }
  // Reading every recipient's flag for every message would touch other cores' cache lines on
  // the hottest path; a sample every 16 messages finds a congested consumer soon enough.
  bool check = true;
  if (ws != nullptr) {
    check = ws->congestion_countdown == 0;
    ws->congestion_countdown = check ? 15 : ws->congestion_countdown - 1;
  }
  Backpressure pressure;
  RecipientToWaitFor congested;
  for (int target = 0; target < static_cast<int>(result->by_worker.size()); ++target) {
    if (result->by_worker[static_cast<std::size_t>(target)].empty()) continue;
    for (const auto& s : result->by_worker[static_cast<std::size_t>(target)]) {
      if (target == here) s->deliver(message);
      if (check) congested.consider(s);
    }
    if (target != here) queue_remote(here, target, Delivery{message, result, nullptr, injected});
  }
  // A queue group's chosen member is a recipient like any other: one that falls behind slows
  // the publisher (or the adapter) down rather than being cut as a slow consumer.
  if (!result->groups.empty()) {
    if (auto member = deliver_groups(here, message, result, injected, check)) {
      congested.consider(member);
    }
  }
  pressure.recipient = std::move(congested.recipient);
  if (check && ws != nullptr) pressure.backlog = backlogged(here);
  // An adapter's flag is read for every message it is sent, beside the send's own lock: its
  // queue's headroom above the pause mark is one message per paused publisher, which sixteen
  // unchecked messages (of up to max_payload each) would overflow.
  for (FabricLink* a : result->adapters) {
    if (a->origin_id() == message->origin()) continue;
    a->send(message);
    if (pressure.adapter == nullptr && a->flow_for(*message).congested) {
      pressure.adapter = a;
      pressure.held = message;
    }
  }
  return pressure;
}

bool Router::someone_keeps_up(const MatchResult* result) {
  if (result == nullptr) return false;
  for (const auto& on_worker : result->by_worker) {
    for (const auto& s : on_worker) {
      if (s->keeps_up()) return true;
    }
  }
  return false;
}

bool Router::injection_congested(WaitFor who) const {
  const std::size_t pause_at =
      std::min(inject_pause_.load(std::memory_order_relaxed), options_.inject_backlog / 2);
  if (inject_backlog_.load(std::memory_order_relaxed) > pause_at) return true;
  if (!inject_pressured_.load(std::memory_order_relaxed)) return false;
  MutexLock lock(inject_pressure_mutex_);
  Congestion recipient =
      inject_pressure_.recipient ? inject_pressure_.recipient->congestion() : Congestion::none;
  if (recipient == Congestion::none && inject_stalled_ != nullptr) {
    inject_pressure_.recipient = std::exchange(inject_stalled_, nullptr);
    recipient = inject_pressure_.recipient->congestion();
  }
  // A silent recipient (one that took nothing since it fell behind) is not worth idling
  // another that keeps up for: it is probably stuck, and what the adapter holds meanwhile
  // would later burst into the one that kept up.
  const bool worth_waiting_for =
      recipient == Congestion::stalled ||
      (recipient == Congestion::silent && !someone_keeps_up(inject_recipients_.get()));
  if (recipient == Congestion::silent && !worth_waiting_for && who == WaitFor::congested &&
      inject_passed_over_ != inject_pressure_.recipient->id()) {
    inject_passed_over_ = inject_pressure_.recipient->id();
    stats_.silent_passed_over.fetch_add(1, std::memory_order_relaxed);
  }
  if (recipient == Congestion::moving || (worth_waiting_for && who == WaitFor::congested) ||
      (inject_pressure_.adapter != nullptr &&
       inject_pressure_.adapter->flow_for(*inject_pressure_.held).congested) ||
      (inject_pressure_worker_ >= 0 && backlogged(inject_pressure_worker_))) {
    return true;
  }
  // Not waited for by this adapter, but still by the others.
  if (recipient != Congestion::none) return false;
  inject_pressure_ = {};
  inject_recipients_ = nullptr;
  inject_pressure_worker_ = -1;
  inject_pressured_.store(false, std::memory_order_relaxed);
  return false;
}

void Router::follow_max_pending(std::size_t max_pending) noexcept {
  inject_pause_.store(std::min(options_.inject_pause, max_pending / 4), std::memory_order_relaxed);
}

void Router::note_inject_pressure(Backpressure pressure, int handing_off,
                                  std::shared_ptr<const MatchResult> recipients) {
  MutexLock lock(inject_pressure_mutex_);
  // Workers report one after another: a moving recipient one of them found stays the one to
  // wait for while it moves, whatever stalled one another finds next; that one is kept as
  // the next in line. The newest report wins a tie.
  const std::shared_ptr<Subscriber> candidates[] = {pressure.recipient, inject_pressure_.recipient,
                                                    inject_stalled_};
  RecipientToWaitFor best;
  for (const auto& s : candidates) {
    if (s) best.consider(s);
  }
  inject_stalled_ = nullptr;
  if (best.state == Congestion::moving) {
    RecipientToWaitFor next;
    for (const auto& s : candidates) {
      if (s && s != best.recipient) next.consider(s);
    }
    inject_stalled_ = std::move(next.recipient);
  }
  // The recipients beside the one to wait for, when this report found it: the list belongs
  // to that recipient's message.
  if (best.recipient != nullptr && best.recipient == pressure.recipient) {
    inject_recipients_ = std::move(recipients);
  }
  pressure.recipient = std::move(best.recipient);
  inject_pressure_ = std::move(pressure);
  inject_pressure_worker_ = handing_off;
  inject_pressured_.store(true, std::memory_order_relaxed);
}

bool Router::backlogged(int worker) const {
  const WorkerState& ws = worker_state_[worker];
  for (std::size_t t = 0; t < ws.outbound.size(); ++t) {
    if (ws.in_flight[t].load(std::memory_order_relaxed) +
            ws.outbound_bytes[t].load(std::memory_order_relaxed) >
        options_.worker_backlog) {
      return true;
    }
  }
  return false;
}

std::uint64_t& Router::random_state(int here, std::uint64_t& fallback) {
  return here >= 0 ? worker_state_[here].random : fallback;
}

void Router::hand_to(int here, const MessagePtr& message, const std::shared_ptr<Subscriber>& member,
                     bool injected) {
  if (member->worker() == here) {
    member->deliver(message);
  } else {
    // Injected: the member's worker tells the adapters after the batch, as for plain ones.
    queue_remote(here, member->worker(), Delivery{message, nullptr, member, injected});
  }
}

// A member that also holds a plain subscription matching the message gets both copies, as a
// NATS client with both subscriptions does.
std::shared_ptr<Subscriber> Router::deliver_groups(int here, const MessagePtr& message,
                                                   const std::shared_ptr<const MatchResult>& result,
                                                   bool injected, bool check) {
  std::uint64_t fallback_random = message->trace().seq;
  std::uint64_t& random = random_state(here, fallback_random);
  RecipientToWaitFor congested;
  for (const auto& group : result->groups) {
    if (group.chooser != nullptr) {
      // The group's copy comes through the fabric's queue subscription, if the fabric
      // chooses this gateway at all.
      if (group.chooser->origin_id() == message->origin()) continue;
      // The fabric chooses one member among all its gateways and its own members.
      if (group.chooser->carries(*message)) continue;
      stats_.queue_fallback.fetch_add(1, std::memory_order_relaxed);
    } else if (group.fallback) {
      stats_.queue_fallback.fetch_add(1, std::memory_order_relaxed);
    } else if (injected) {
      // Every gateway the message reaches picks for its own members: once per gateway.
      stats_.queue_gateway_picks.fetch_add(1, std::memory_order_relaxed);
    }
    if (const auto* member = pick_member(random, *message, group.members)) {
      hand_to(here, message, *member, injected);
      if (check) congested.consider(*member);
    }
  }
  return std::move(congested.recipient);
}

// A message a fabric handed back for one local queue group, having chosen this gateway: one
// member of that group gets it and nobody else. Plain subscribers and the other groups had
// their own copies, and no adapter gets it (it came from the fabric that chose).
Backpressure Router::deliver_chosen(int here, const MessagePtr& message, const MatchResult& result,
                                    bool injected) {
  const auto group = std::find_if(result.groups.begin(), result.groups.end(),
                                  [&](const auto& g) { return g.name == message->queue(); });
  std::uint64_t fallback_random = message->trace().seq;
  const auto* member =
      group == result.groups.end()
          ? nullptr
          : pick_member(random_state(here, fallback_random), *message, group->members);
  if (member == nullptr) {
    stats_.drop(RouterDrop::queue_gone);  // its members left while the message travelled
    return {};
  }
  hand_to(here, message, *member, injected);
  Backpressure pressure;
  if ((*member)->congested()) pressure.recipient = *member;
  return pressure;
}

void Router::queue_remote(int here, int target, Delivery delivery) {
  if (here < 0) {
    // Not on a worker (tests, or a caller outside the pool): hand over directly.
    auto batch = std::make_shared<Delivery>(std::move(delivery));
    workers_.post(target, [batch, target] { batch->run(target); });
    return;
  }
  WorkerState& ws = worker_state_[here];
  // The body, plus what the recipient's worker will encode around it: an empty-bodied
  // message is not free to deliver.
  std::atomic<std::size_t>& queued = ws.outbound_bytes[static_cast<std::size_t>(target)];
  queued.store(queued.load(std::memory_order_relaxed) + delivery.message->body().size() +
                   delivery.message->subject().size() + kDeliveryOverhead,
               std::memory_order_relaxed);
  ws.outbound[static_cast<std::size_t>(target)].push_back(std::move(delivery));
  if (!ws.flush_scheduled) {
    ws.flush_scheduled = true;
    workers_.post(here, [this, here] { flush_remote(here); });
  }
}

void Router::flush_remote(int here) {
  WorkerState& ws = worker_state_[here];
  ws.flush_scheduled = false;
  for (int target = 0; target < static_cast<int>(ws.outbound.size()); ++target) {
    auto& pending = ws.outbound[static_cast<std::size_t>(target)];
    if (pending.empty()) continue;
    auto batch = std::make_shared<std::vector<Delivery>>(std::move(pending));
    pending.clear();
    std::atomic<std::size_t>* in_flight = &ws.in_flight[static_cast<std::size_t>(target)];
    // In flight before it stops being queued, so that a reader never sees it in neither.
    const std::size_t bytes =
        ws.outbound_bytes[static_cast<std::size_t>(target)].load(std::memory_order_relaxed);
    in_flight->fetch_add(bytes, std::memory_order_relaxed);
    ws.outbound_bytes[static_cast<std::size_t>(target)].store(0, std::memory_order_relaxed);
    workers_.post(target, [this, batch, target, bytes, in_flight] {
      for (const Delivery& d : *batch) d.run(target);
      in_flight->fetch_sub(bytes, std::memory_order_relaxed);
      // Injected messages were routed on another worker, which could not see what delivering
      // them here did to their recipients: tell the adapters here (the last one stands for
      // the batch, as routing samples one message in 16).
      const auto last = std::find_if(batch->rbegin(), batch->rend(),
                                     [](const Delivery& d) { return d.injected; });
      if (last == batch->rend()) return;
      if (auto recipient = last->congested_recipient(target)) {
        Backpressure pressure;
        pressure.recipient = std::move(recipient);
        note_inject_pressure(std::move(pressure), -1, last->result);
      }
    });
  }
}

namespace {
// The burst open on this thread (Router::begin_burst): whose, and the inject queues it filled
// without posting, one bit per worker (workers past 64 are posted to at once).
struct OpenBurst {
  const Router* router = nullptr;
  std::uint64_t unposted = 0;
};
thread_local OpenBurst open_burst;
}  // namespace

bool Router::begin_burst() {
  if (open_burst.router != nullptr) return false;
  open_burst = {this, 0};
  return true;
}

void Router::end_burst() {
  const std::uint64_t unposted = open_burst.unposted;
  open_burst = {};
  for (int target = 0; target < 64 && (unposted >> target) != 0; ++target) {
    if (((unposted >> target) & 1) == 0) continue;
    InjectQueue& q = inject_queues_[target];
    bool schedule = false;
    {
      MutexLock lock(q.mutex);
      schedule = !q.messages.empty() && !std::exchange(q.scheduled, true);
    }
    if (schedule) workers_.post(target, [this, target] { route_injected(target); });
  }
}

bool Router::inject(MessagePtr message) {
  const Trace& trace = message->trace();
  // A message a fabric hands back for a queue group is neither a loop nor a duplicate,
  // although it carries the identity of a copy already routed here (or this gateway's own,
  // when it published it): it goes to one member of that group and nowhere else.
  const bool chosen = !message->queue().empty();
  // An identity this gateway gave a fabric's plain publication is new when it arrives with
  // one hop (its own import): it skips the duplicate table, which costs a cache miss or two
  // per message. Seen again after more hops, it has come back around a loop.
  const bool minted_here = trace.node_id == import_node_;
  if ((trace.node_id == options_.node_id || (minted_here && trace.hops > 1)) && !chosen) {
    stats_.drop(RouterDrop::own_origin);
    return false;
  }
  if (trace.hops > options_.max_hops) {
    stats_.drop(RouterDrop::hop_limit);
    return false;
  }
  if (is_no_responders(*message) && answered_here_.contains(message->subject())) {
    stats_.drop(RouterDrop::answered_here);
    return false;
  }
  if (trace.bus != 0 && !chosen) {
    for (const FabricLink* a : adapters_) {
      if (a->origin_id() != message->origin() && a->receives_directly(*message)) {
        stats_.drop(RouterDrop::direct_path);
        return false;
      }
    }
  }
  // Bounded in bytes, not messages: 65,536 messages of max_payload could be gigabytes. The
  // room is taken before the dedup check so that a message dropped for lack of room is not
  // remembered, and a retransmission of it can still get in.
  const std::size_t cost = message->subject().size() + message->body().size() + kDeliveryOverhead;
  if (inject_backlog_.fetch_add(cost, std::memory_order_relaxed) + cost > options_.inject_backlog) {
    inject_backlog_.fetch_sub(cost, std::memory_order_relaxed);
    stats_.drop(RouterDrop::backlog_full);
    return false;
  }
  if (!chosen && !minted_here && trace.node_id != 0 && !dedup_.insert(trace.node_id, trace.seq)) {
    inject_backlog_.fetch_sub(cost, std::memory_order_relaxed);
    stats_.drop(RouterDrop::duplicate);
    return false;
  }
  stats_.injected.fetch_add(1, std::memory_order_relaxed);
  // All of one adapter's messages are routed on one worker, so they reach every subscriber
  // in the order the adapter received them (NATS promises per-publisher order). Batched:
  // one post per burst, not per message.
  const auto target =
      static_cast<int>(message->origin() % static_cast<std::uint64_t>(inject_queues_.size()));
  InjectQueue& q = inject_queues_[target];
  // In a burst the post waits for end_burst(): a worker woken at the first message raced
  // the adapter and took a few at a time, each hand-off a post under the worker's scheduler
  // lock (a PolderCast link's receiving gateway: a contended lock every few messages).
  const bool held = open_burst.router == this && target < 64;
  bool schedule = false;
  {
    MutexLock lock(q.mutex);
    q.messages.push_back(std::move(message));
    if (held) {
      if (!q.scheduled) open_burst.unposted |= std::uint64_t{1} << target;
    } else {
      schedule = !std::exchange(q.scheduled, true);
    }
  }
  if (schedule) {
    workers_.post(target, [this, target] { route_injected(target); });
  }
  return true;
}

void Router::route_injected(int worker) {
  InjectQueue& q = inject_queues_[worker];
  std::vector<MessagePtr>& batch = q.draining;  // only this worker touches it
  {
    MutexLock lock(q.mutex);
    batch.swap(q.messages);
    q.scheduled = false;
  }
  for (const MessagePtr& m : batch) {
    inject_backlog_.fetch_sub(m->subject().size() + m->body().size() + kDeliveryOverhead,
                              std::memory_order_relaxed);
    // What this worker hands on to other workers leaves the inject backlog here, so its
    // hand-off is a reason for the adapter to pause too: without it, a burst from a fabric
    // would pile up between workers with no bound.
    if (Backpressure pressure = route(m, true)) {
      const int handing_off = pressure.backlog ? worker : -1;
      // A message chosen for one queue group reached one member, not the plain subscribers.
      note_inject_pressure(
          std::move(pressure), handing_off,
          m->queue().empty() ? lookup(&worker_state_[worker], m->subject()) : nullptr);
    }
  }
  batch.clear();  // keeps its capacity for the next burst
}

}  // namespace psycho
