// A fixed-size log-linear latency histogram (the HdrHistogram idea, ~1.6% precision):
// recording is an array increment, so a subscriber can record millions of samples per second
// without allocating, and histograms from several threads are merged afterwards.
#pragma once

#include <array>
#include <cstdint>

namespace psycho::cli {

class Histogram {
 public:
  void record(std::uint64_t value);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // The value below which a fraction q (0..1) of the samples lie (bucket midpoint); 0 if empty.
  std::uint64_t percentile(double q) const;

 private:
  static constexpr int sub_bits = 6;  // 64 sub-buckets per power of two
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int bucket_count = (64 - sub_bits + 1) * sub_count;

  static int index_of(std::uint64_t value);
  static std::uint64_t value_of(int index);

  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace psycho::cli
