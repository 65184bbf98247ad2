// The hot-path stat primitives. Each instance belongs to one thread (a worker, or
// the main thread) that alone writes it; the admin thread only reads. Values are
// std::atomic with relaxed order so those reads are well defined, but an update is
// a plain load and store: no lock, no read-modify-write bus lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace remora::stats {

class Counter {
 public:
  void inc(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  void reset() { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Per-thread part of a gauge; the gauge's value is the sum over threads (a
// connection opened on one worker is closed on that same worker).
class Gauge {
 public:
  void add(int64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void inc() { add(1); }
  void dec() { add(-1); }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Upper bounds (in the histogram's unit, milliseconds for Envoy's timing stats),
// ascending, shared by every shard of a histogram.
using HistogramBounds = std::vector<double>;
const HistogramBounds& defaultHistogramBounds();

class Histogram {
 public:
  void init(std::shared_ptr<const HistogramBounds> bounds);
  void record(double value) {
    const HistogramBounds& b = *bounds_;
    size_t i = 0;
    while (i < b.size() && value > b[i]) ++i;  // ~20 bounds: a scan beats a search
    counts_[i].store(counts_[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
  }
  const HistogramBounds& bounds() const { return *bounds_; }
  // Per bucket (not cumulative); the last one is +Inf.
  uint64_t bucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  void reset();

 private:
  std::shared_ptr<const HistogramBounds> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// upstream_rq_<code> counters, allocated on first use by the owning thread and
// published with release/acquire so the admin thread sees a complete array.
class ResponseCodeCounters {
 public:
  static constexpr int kMin = 100;
  static constexpr int kMax = 599;
  ~ResponseCodeCounters() { delete codes_.load(std::memory_order_relaxed); }
  void inc(int code) {
    if (code < kMin || code > kMax) return;
    Codes* codes = codes_.load(std::memory_order_relaxed);
    if (!codes) {
      codes = new Codes{};
      codes_.store(codes, std::memory_order_release);
    }
    (*codes)[code - kMin].inc();
  }
  uint64_t value(int code) const {
    const Codes* codes = codes_.load(std::memory_order_acquire);
    return codes ? (*codes)[code - kMin].value() : 0;
  }
  void reset() {
    if (Codes* codes = codes_.load(std::memory_order_acquire)) {
      for (Counter& c : *codes) c.reset();
    }
  }

 private:
  using Codes = std::array<Counter, kMax - kMin + 1>;
  std::atomic<Codes*> codes_{nullptr};
};

// Counters keyed by a short name that only the writing thread learns (the TLS
// version or cipher a handshake negotiated), in a table of `Capacity` slots
// allocated on first use. The owner fills a slot's name and counter, then publishes
// it by raising the slot count (release); readers walk the published slots only.
// A name that finds the table full, or is longer than kMaxNameLength, is counted
// under "other".
template <size_t Capacity>
class NamedCounters {
 public:
  static constexpr size_t kMaxNameLength = 47;

  ~NamedCounters() { delete table_.load(std::memory_order_relaxed); }
  void inc(std::string_view name) {
    Table* table = table_.load(std::memory_order_relaxed);
    if (!table) {
      table = new Table{};
      table_.store(table, std::memory_order_release);
    }
    const size_t published = table->published.load(std::memory_order_relaxed);
    for (size_t i = 0; i < published; ++i) {
      if (table->slots[i].name() == name) {
        table->slots[i].counter.inc();
        return;
      }
    }
    if (published == Capacity || name.size() > kMaxNameLength) {
      table->other.inc();
      return;
    }
    Slot& slot = table->slots[published];
    name.copy(slot.name_storage, name.size());
    slot.name_length = name.size();
    slot.counter.inc();
    table->published.store(published + 1, std::memory_order_release);
  }
  // Calls visit(name, value) for every name seen, then ("other", value) if used.
  template <typename Visit>
  void forEach(Visit&& visit) const {
    const Table* table = table_.load(std::memory_order_acquire);
    if (!table) return;
    const size_t published = table->published.load(std::memory_order_acquire);
    for (size_t i = 0; i < published; ++i) {
      visit(table->slots[i].name(), table->slots[i].counter.value());
    }
    if (table->other.value() > 0) visit(std::string_view("other"), table->other.value());
  }

 private:
  struct Slot {
    char name_storage[kMaxNameLength];
    size_t name_length = 0;
    Counter counter;
    std::string_view name() const { return {name_storage, name_length}; }
  };
  struct Table {
    std::array<Slot, Capacity> slots;
    std::atomic<size_t> published{0};
    Counter other;
  };
  std::atomic<Table*> table_{nullptr};
};

}  // namespace remora::stats
