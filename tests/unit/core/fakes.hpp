// Fakes for the router's interfaces: a worker pool that runs posted tasks when the test asks,
// a subscriber that records, and an adapter link that records.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/fabric_link.hpp"
#include "core/subject.hpp"
#include "core/subscriber.hpp"
#include "core/worker_pool.hpp"

namespace psycho::testing {

// Single-threaded stand-in for the workers: `current` is whatever the test says, and posted
// tasks wait until run() executes them "on" their worker.
class FakeWorkers : public WorkerPool {
 public:
  explicit FakeWorkers(int n) : queues_(static_cast<std::size_t>(n)) {}
  int size() const override { return static_cast<int>(queues_.size()); }
  int current() const override { return current_; }
  void post(int worker, std::function<void()> task) override {
    queues_[static_cast<std::size_t>(worker)].push_back(std::move(task));
  }
  void set_current(int w) { current_ = w; }
  // Runs queued tasks (and what they queue) until every queue is empty.
  void run() {
    for (bool again = true; again;) {
      again = false;
      for (std::size_t w = 0; w < queues_.size(); ++w) {
        while (!queues_[w].empty()) {
          auto task = std::move(queues_[w].front());
          queues_[w].pop_front();
          const int saved = current_;
          current_ = static_cast<int>(w);
          task();
          current_ = saved;
          again = true;
        }
      }
    }
  }

 private:
  std::vector<std::deque<std::function<void()>>> queues_;
  int current_ = 0;
};

class RecordingSubscriber : public Subscriber {
 public:
  RecordingSubscriber(OriginId id, int worker, const WorkerPool& pool)
      : Subscriber(id, worker), pool_(pool) {}
  void deliver(const MessagePtr& m) override {
    if (pool_.current() != worker()) wrong_thread = true;
    received.emplace_back(m->subject());
  }
  Congestion congestion() const noexcept override { return congestion_state; }
  bool keeps_up() const noexcept override {
    return congestion_state == Congestion::none && !given_up;
  }
  // Refuses, as a user's permissions would, every subject starting with `refused_prefix`.
  bool may_receive(std::string_view subject) const override {
    return refused_prefix.empty() || !subject.starts_with(refused_prefix);
  }
  std::vector<std::string> received;
  bool wrong_thread = false;
  Congestion congestion_state = Congestion::none;
  bool given_up = false;  // behind, and nobody waits for it any more (congestion() says none)
  std::string refused_prefix;

 private:
  const WorkerPool& pool_;
};

// The router's view of an adapter (FabricLink), recording what it is sent and told.
class FakeAdapter : public FabricLink {
 public:
  explicit FakeAdapter(std::string name, std::string export_pattern = ">")
      : name_(std::move(name)), export_(std::move(export_pattern)) {}
  std::string_view name() const { return name_; }
  bool exports(std::string_view subject) const override {
    return subject_matches(export_, subject);
  }
  void send(const MessagePtr& m) override { sent.push_back(m); }
  void on_interest(std::string_view pattern, bool added) override {
    interest.emplace_back((added ? "+" : "-") + std::string(pattern));
  }
  bool bridges_queue_groups() const noexcept override { return bridges; }
  void on_queue_interest(std::string_view pattern, std::string_view queue, bool added) override {
    interest.emplace_back((added ? "+" : "-") + std::string(pattern) + " " + std::string(queue));
  }
  GroupChoice group_choice(std::string_view, std::string_view queue) const override {
    if (std::find(chooses.begin(), chooses.end(), queue) != chooses.end()) {
      return GroupChoice::fabric;
    }
    return std::find(awaits.begin(), awaits.end(), queue) != awaits.end() ? GroupChoice::fallback
                                                                          : GroupChoice::router;
  }
  bool carries(const Message&) const noexcept override { return carrying; }
  bool receives_directly(const Message& m) const override {
    return direct_bus != 0 && m.trace().bus == direct_bus;
  }
  FlowState flow() const noexcept override { return {congested, 0, std::chrono::seconds(1)}; }
  FlowState flow_for(const Message& m) const noexcept override {
    FlowState f = flow();
    f.congested = f.congested || (!congested_subject.empty() && m.subject() == congested_subject);
    return f;
  }
  std::vector<MessagePtr> sent;
  bool congested = false;
  std::string congested_subject;      // congested for this subject only (a slow peer's)
  std::uint32_t direct_bus = 0;       // the bus this fake "hears itself"
  bool bridges = false;               // bridges queue groups: hears of each group apart
  std::vector<std::string> chooses;   // the groups whose member its "fabric" chooses
  std::vector<std::string> awaits;    // the groups it should choose for and cannot yet
  bool carrying = true;               // whether it would take a message to its fabric now
  std::vector<std::string> interest;  // "+pattern" / "-pattern"; "+pattern group" for groups

 private:
  std::string name_;
  std::string export_;
};

}  // namespace psycho::testing
