// Drives an io_context on the test's own thread until a condition holds, within a bound:
// the unit tests of the Asio parts of the PolderCast adapter wait this way, never by sleeping.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

namespace psycho::test {

inline constexpr std::chrono::milliseconds kWait{10000};  // every wait is bounded by this

// Runs the loop on this thread until `done()`; false when `timeout` passed first.
template <class Done>
bool run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(std::chrono::milliseconds(5)) == 0 && io.stopped()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

}  // namespace psycho::test
