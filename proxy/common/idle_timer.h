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

namespace remora {

// A deadline that is set and cleared far more often than it fires (a request
// head must arrive within N seconds; nearly every one does): setting and clearing
// only record the deadline, and the underlying timer, armed at most once per
// period, re-arms itself when it fires early.
class DeadlineTimer {
 public:
  DeadlineTimer(uv_loop_t* loop, std::function<void()> on_expired)
      : loop_(loop), timer_(loop, [this] { onFire(); }), on_expired_(std::move(on_expired)) {}

  // Expires `timeout` from now unless cleared first; zero means never.
  void set(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) {
      clear();
      return;
    }
    deadline_ = uv_now(loop_) + static_cast<uint64_t>(timeout.count());
    if (!timer_.armed()) timer_.arm(timeout);
  }
  void clear() { deadline_ = 0; }
  bool pending() const { return deadline_ != 0; }
  void stop() {
    deadline_ = 0;
    timer_.disarm();
  }

 private:
  void onFire() {
    if (deadline_ == 0) return;
    const uint64_t now = uv_now(loop_);
    if (now < deadline_) {
      timer_.arm(std::chrono::milliseconds(deadline_ - now));
      return;
    }
    deadline_ = 0;
    on_expired_();
  }

  uv_loop_t* loop_;
  Timer timer_;
  std::function<void()> on_expired_;
  uint64_t deadline_ = 0;  // loop time in ms; 0: none
};

}  // namespace remora
