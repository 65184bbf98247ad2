// A timeout that restarts on activity without touching the timer heap each time:
// touch() only records the loop time, and the timer, when it fires early,
// re-arms itself for the rest. Per-request activity then costs a load and a
// store instead of a uv_timer_stop + uv_timer_start.
#pragma once

#include <chrono>
#include <functional>

#include "proxy/common/timer.h"

namespace remora {

class IdleTimer {
 public:
  IdleTimer(uv_loop_t* loop, std::function<void()> on_idle)
      : loop_(loop), timer_(loop, [this] { onFire(); }), on_idle_(std::move(on_idle)) {}

  // Starts (or restarts) with `timeout`; zero disables.
  void start(std::chrono::milliseconds timeout) {
    timeout_ = timeout;
    last_activity_ = uv_now(loop_);
    timer_.arm(timeout);
  }
  void touch() { last_activity_ = uv_now(loop_); }
  void stop() {
    timeout_ = std::chrono::milliseconds(0);
    timer_.disarm();
  }

 private:
  void onFire() {
    const uint64_t idle_for = uv_now(loop_) - last_activity_;
    const auto timeout = static_cast<uint64_t>(timeout_.count());
    if (timeout == 0) return;
    if (idle_for < timeout) {
      timer_.arm(std::chrono::milliseconds(timeout - idle_for));
      return;
    }
    on_idle_();
  }

  uv_loop_t* loop_;
  Timer timer_;
  std::function<void()> on_idle_;
  std::chrono::milliseconds timeout_{0};
  uint64_t last_activity_ = 0;
};

}  // namespace remora
