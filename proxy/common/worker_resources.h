// Per-worker resources every connection on that worker shares. Never touched by
// another thread.
#pragma once

#include <uv.h>

#include <random>

#include "proxy/common/deferred_deleter.h"
#include "proxy/common/recycle_pool.h"
#include "proxy/network/tcp_connection.h"
#include "proxy/network/tls/tls_context_overrides.h"

namespace remora {

struct WorkerResources {
  WorkerResources(uv_loop_t* l, size_t index)
      : loop(l),
        thread_index(index),
        write_batcher(l),
        deleter(l),
        random(std::random_device{}()) {}
  uv_loop_t* loop;
  // This thread's shard in every stats scope (workers 0..N-1, the main thread N).
  size_t thread_index;
  // Declared before the deleter: objects it destroys late still cancel their
  // scheduled writes and release the read buffer.
  network::WriteBatcher write_batcher;
  network::ReadBuffer read_buffer;
  DeferredDeleter deleter;
  // Finished streams kept for reuse; destroyed before the deleter they hand extras to.
  RecyclePool recycled{deleter};
  std::mt19937_64 random;
  // Certificates reloaded since the config was loaded; see TlsContextOverrides.
  network::tls::TlsContextOverrides tls_contexts;
};

}  // namespace remora
