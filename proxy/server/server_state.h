// Process-wide flags written by the main thread (admin, signals) and read by
// workers. Plain atomics: a relaxed load is all the hot path pays.
#pragma once

#include <atomic>

namespace remora {

struct ServerState {
  // POST /healthcheck/fail sets it: health_check filters answer 503 from then on.
  std::atomic<bool> health_check_failed{false};
  // Set once drain starts: responses carry "connection: close".
  std::atomic<bool> draining{false};
};

}  // namespace remora
