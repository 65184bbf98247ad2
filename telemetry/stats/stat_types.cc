#include "telemetry/stats/stat_types.h"

namespace remora::stats {

const HistogramBounds& defaultHistogramBounds() {
  // Envoy's default buckets, in milliseconds.
  static const HistogramBounds bounds{0.5,   1,      5,      10,      25,     50,    100,
                                      250,   500,    1000,   2500,    5000,   10000, 30000,
                                      60000, 300000, 600000, 1800000, 3600000};
  return bounds;
}

void Histogram::init(std::shared_ptr<const HistogramBounds> bounds) {
  bounds_ = std::move(bounds);
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1);
}

void Histogram::reset() {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
}

}  // namespace remora::stats
