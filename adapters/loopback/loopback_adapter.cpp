#include "adapters/loopback/loopback_adapter.hpp"

#include <algorithm>

#include "config/section.hpp"

namespace psycho::loopback {

void LoopbackFabric::attach(LoopbackAdapter& adapter) {
  MutexLock lock(mutex_);
  attached_.push_back(&adapter);
}

void LoopbackFabric::detach(LoopbackAdapter& adapter) {
  MutexLock lock(mutex_);
  std::erase(attached_, &adapter);
}

void LoopbackFabric::carry(const LoopbackAdapter& from, const FabricMessage& m,
                           const Trace& trace) {
  MutexLock lock(mutex_);
  for (LoopbackAdapter* to : attached_) {
    if (to != &from) to->receive(m, trace);
  }
}

Status LoopbackAdapter::start(AdapterHost& host) {
  host_ = &host;
  fabric_.attach(*this);
  return Ok{};
}

// Nothing is buffered, so there is nothing to drain: once detached, no receive() runs.
void LoopbackAdapter::stop(std::chrono::milliseconds) {
  if (host_ != nullptr) fabric_.detach(*this);
  host_ = nullptr;
}

// Gateway -> fabric: the router has checked exports(); the subject gets its fabric name, and
// the trace travels with the message so that the far side can drop loops and duplicates.
void LoopbackAdapter::send(const MessagePtr& message) {
  thread_local std::string fabric_subject;  // reused: no allocation per message
  subjects_.to_fabric(message->subject(), fabric_subject);
  fabric_.carry(*this, {fabric_subject, message->reply(), message->headers(), message->payload()},
                message->trace());
  counters_.sent(message->body().size());
}

// Fabric -> gateway: the toolkit's one import path does the checks, the renaming, the hop
// count and the counting.
void LoopbackAdapter::receive(const FabricMessage& m, const Trace& trace) {
  if (AdapterHost* host = host_.load()) import_(*host, origin_id(), subjects_, m, trace);
}

AdapterStatus LoopbackAdapter::status() const {
  AdapterStatus st;
  st.ready = host_.load() != nullptr;
  st.state = st.ready ? "attached" : "stopped";
  counters_.fill(st.traffic);
  return st;
}

AdapterFactory adapter_factory(LoopbackFabric& fabric) {
  return {"loopback",
          [&fabric](const config::AdapterSection& section) -> Result<std::unique_ptr<Adapter>> {
            config::Section s(section.node, section.file, "loopback");
            SubjectFilter subjects = SubjectFilter::parse(s);
            if (auto st = s.finish(); !st) return fail(st.error());
            return std::unique_ptr<Adapter>(
                std::make_unique<LoopbackAdapter>(fabric, std::move(subjects)));
          },
          {}};
}

}  // namespace psycho::loopback
