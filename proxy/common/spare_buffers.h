// Per-thread spare string buffers. Each worker is one thread, so this is per-worker
// state without locks. A connection gives a buffer back once it is drained and takes
// one when it next needs it: an idle keep-alive connection then holds no buffer
// memory, and a busy one still allocates nothing per request.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace remora::spare_buffers {

inline constexpr size_t kMaxKept = 256;
// Bounds what a worker keeps: a response body of up to a few hundred KiB still goes out
// through a kept buffer, and the list never holds more than a few MiB.
inline constexpr size_t kMaxKeptCapacity = 512 * 1024;
inline constexpr size_t kMaxKeptBytes = 4 * 1024 * 1024;
struct Kept {
  std::vector<std::string> buffers;
  size_t bytes = 0;  // their capacity in all
};

// One access to the thread-local per operation: each access to a thread_local with a
// destructor goes through its initialisation wrapper.
inline Kept& kept() {
  thread_local Kept k;
  return k;
}

inline bool onHeap(const std::string& buffer) {
  return buffer.capacity() > std::string().capacity();
}

// Leaves `buffer` empty and without heap storage; the storage is kept for take()
// while there is room, freed otherwise.
inline void give(std::string& buffer) {
  if (!onHeap(buffer)) {
    buffer.clear();
    return;
  }
  Kept& k = kept();
  if (k.buffers.size() < kMaxKept && buffer.capacity() <= kMaxKeptCapacity &&
      k.bytes + buffer.capacity() <= kMaxKeptBytes) {
    if (k.buffers.capacity() == 0) k.buffers.reserve(kMaxKept);
    k.bytes += buffer.capacity();
    buffer.clear();
    k.buffers.push_back(std::move(buffer));
  }
  std::string().swap(buffer);
}

// Gives an empty buffer without heap storage a kept one, if there is any.
inline void take(std::string& buffer) {
  if (onHeap(buffer) || !buffer.empty()) return;
  Kept& k = kept();
  if (k.buffers.empty()) return;
  buffer.swap(k.buffers.back());
  k.buffers.pop_back();
  k.bytes -= buffer.capacity();
}

}  // namespace remora::spare_buffers
