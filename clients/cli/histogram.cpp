#include "clients/cli/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace psycho::cli {

// Values below 2*sub_count are exact; above, each power of two is cut into sub_count
// equal buckets, indexed by the value's top sub_bits+1 bits and its exponent.
int Histogram::index_of(std::uint64_t value) {
  const int msb = std::bit_width(value) - 1;
  if (msb <= sub_bits) return static_cast<int>(value);
  const int shift = msb - sub_bits;
  return shift * sub_count + static_cast<int>(value >> shift);
}

std::uint64_t Histogram::value_of(int index) {
  if (index < 2 * sub_count) return static_cast<std::uint64_t>(index);
  const int shift = index / sub_count - 1;
  const auto mantissa = static_cast<std::uint64_t>(index - shift * sub_count);
  return (mantissa << shift) + ((std::uint64_t{1} << shift) >> 1);
}

void Histogram::record(std::uint64_t value) {
  ++buckets_[static_cast<std::size_t>(index_of(value))];
  ++count_;
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      return std::min(value_of(static_cast<int>(i)), max_);
    }
  }
  return max_;
}

}  // namespace psycho::cli
