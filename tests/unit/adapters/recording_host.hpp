// A fake AdapterHost for adapter unit tests: records what an adapter hands the router.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"

namespace psycho {

class RecordingHost : public AdapterHost {
 public:
  std::uint64_t node_id() const override { return 1; }
  bool inject(MessagePtr message) override {
    injected.push_back(std::move(message));
    return true;
  }
  void declare_interest(const Adapter&, std::string_view, bool) override {}
  void exports_changed() override {}
  std::vector<MessagePtr> injected;
};

}  // namespace psycho
