// Per-worker resources every connection on that worker shares. Never touched by
// another thread.
#pragma once

#include <uv.h>

#include <random>

#include "proxy/common/deferred_deleter.h"
#include "proxy/network/tcp_connection.h"

namespace remora {

struct WorkerResources {
  explicit WorkerResources(uv_loop_t* l) : loop(l), deleter(l), random(std::random_device{}()) {}
  uv_loop_t* loop;
  DeferredDeleter deleter;
  network::ReadBuffer read_buffer;
  std::mt19937_64 random;
};

}  // namespace remora
