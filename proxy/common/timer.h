// A restartable one-shot timer on a uv loop.
#pragma once

#include <chrono>
#include <functional>

#include "proxy/common/uv_handle.h"

namespace remora {

// The uv handle is made on first use: most connections never arm most of their timers
// (connect, request-headers and pipeline-resume timers), and an idle connection's
// memory is what a sidecar multiplies by its connection count.
class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> on_fire)
      : loop_(loop), on_fire_(std::move(on_fire)) {}
  // Restarts the countdown; a zero duration disables the timer.
  void arm(std::chrono::milliseconds after) {
    if (after.count() <= 0) {
      disarm();
      return;
    }
    start(static_cast<uint64_t>(after.count()));
  }
  // Fires on the next loop iteration, on a clean stack.
  void fireSoon() { start(0); }
  void disarm() {
    if (handle_) uv_timer_stop(handle_.get());
  }
  bool armed() const { return handle_ && uv_is_active(handle_.base()); }

 private:
  void start(uint64_t after_ms) {
    if (!handle_) {
      handle_ = UvHandle<uv_timer_t>(loop_);
      handle_.get()->data = this;
    }
    uv_timer_start(handle_.get(), &Timer::fire, after_ms, 0);
  }
  static void fire(uv_timer_t* t) { static_cast<Timer*>(t->data)->on_fire_(); }

  uv_loop_t* loop_;
  UvHandle<uv_timer_t> handle_;
  std::function<void()> on_fire_;
};

}  // namespace remora
