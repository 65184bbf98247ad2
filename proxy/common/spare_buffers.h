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
inline thread_local std::vector<std::string> spares;
inline thread_local size_t kept_bytes = 0;

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
  if (spares.size() < kMaxKept && buffer.capacity() <= kMaxKeptCapacity &&
      kept_bytes + buffer.capacity() <= kMaxKeptBytes) {
    if (spares.capacity() == 0) spares.reserve(kMaxKept);
    kept_bytes += buffer.capacity();
    buffer.clear();
    spares.push_back(std::move(buffer));
  }
  std::string().swap(buffer);
}

// Gives an empty buffer without heap storage a kept one, if there is any.
inline void take(std::string& buffer) {
  if (onHeap(buffer) || !buffer.empty() || spares.empty()) return;
  buffer.swap(spares.back());
  spares.pop_back();
  kept_bytes -= buffer.capacity();
}

}  // namespace remora::spare_buffers
