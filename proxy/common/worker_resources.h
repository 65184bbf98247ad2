// Per-worker resources every connection on that worker shares. Never touched by
// another thread.
#pragma once

#include <uv.h>

#include <random>

#include "proxy/common/deferred_deleter.h"
#include "proxy/network/tcp_connection.h"

namespace remora {

struct WorkerResources {
  WorkerResources(uv_loop_t* l, size_t index)
      : loop(l), thread_index(index), deleter(l), random(std::random_device{}()) {}
  uv_loop_t* loop;
  // This thread's shard in every stats scope (workers 0..N-1, the main thread N).
  size_t thread_index;
  DeferredDeleter deleter;
  network::ReadBuffer read_buffer;
  std::mt19937_64 random;
};

}  // namespace remora
