#include "adapters/shared_snapshot.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace psycho {
namespace {

TEST(SharedSnapshot, AReaderSeesEachStoreAtItsNextRead) {
  SharedSnapshot<std::string> s(std::make_shared<const std::string>("first"));
  SharedSnapshot<std::string>::Reader reader;
  EXPECT_EQ(reader.get(s), "first");
  EXPECT_EQ(reader.get(s), "first");
  s.store(std::make_shared<const std::string>("second"));
  EXPECT_EQ(reader.get(s), "second");
  EXPECT_EQ(*s.load(), "second");
}

// The value a reader returned stays alive while it is held, whatever is stored meanwhile.
TEST(SharedSnapshot, AReaderKeepsItsValueAliveUntilItsNextRead) {
  SharedSnapshot<std::string> s(std::make_shared<const std::string>("kept"));
  SharedSnapshot<std::string>::Reader reader;
  const std::string& held = reader.get(s);
  s.store(std::make_shared<const std::string>("new"));
  EXPECT_EQ(held, "kept");
  EXPECT_EQ(reader.get(s), "new");
}

// Stores from one thread while another reads for every "message": the reader only ever sees
// values that were stored, never goes back to an older one, and ends on the last.
TEST(SharedSnapshot, AReaderFollowsAWriterThread) {
  constexpr int kStores = 20'000;
  SharedSnapshot<int> s(std::make_shared<const int>(0));
  std::atomic<bool> done{false};
  std::jthread writer([&] {
    for (int i = 1; i <= kStores; ++i) s.store(std::make_shared<const int>(i));
    done.store(true, std::memory_order_release);
  });
  SharedSnapshot<int>::Reader reader;
  int last = 0;
  bool went_back = false;
  while (!done.load(std::memory_order_acquire)) {
    const int now = reader.get(s);
    went_back = went_back || now < last;
    last = now;
  }
  EXPECT_FALSE(went_back);
  EXPECT_EQ(reader.get(s), kStores);
}

}  // namespace
}  // namespace psycho
