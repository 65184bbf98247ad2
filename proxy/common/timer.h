// A restartable one-shot timer on a uv loop.
#pragma once

#include <chrono>
#include <functional>

#include "proxy/common/uv_handle.h"

namespace remora {

class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> on_fire)
      : handle_(loop), on_fire_(std::move(on_fire)) {
    handle_.get()->data = this;
  }
  // Restarts the countdown; a zero duration disables the timer.
  void arm(std::chrono::milliseconds after) {
    if (after.count() <= 0) {
      disarm();
      return;
    }
    uv_timer_start(handle_.get(), &Timer::fire, static_cast<uint64_t>(after.count()), 0);
  }
  // Fires on the next loop iteration, on a clean stack.
  void fireSoon() { uv_timer_start(handle_.get(), &Timer::fire, 0, 0); }
  void disarm() { uv_timer_stop(handle_.get()); }
  bool armed() const { return uv_is_active(handle_.base()); }

 private:
  static void fire(uv_timer_t* t) { static_cast<Timer*>(t->data)->on_fire_(); }

  UvHandle<uv_timer_t> handle_;
  std::function<void()> on_fire_;
};

}  // namespace remora
