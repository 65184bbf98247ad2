// Timeouts that are set, moved and cleared far more often than they fire (a stream's
// idle timeout, a request deadline): those operations only record the loop time, and
// the underlying uv timer is armed only when the wanted expiry is earlier than the one
// already pending. A timer that fires early re-arms itself for the rest. Per-request
// activity then costs a load and a store instead of a uv_timer_stop + uv_timer_start.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "proxy/common/timer.h"

namespace remora {

// A uv timer that fires no later than every expiry asked of it, possibly earlier.
class LazyTimer {
 public:
  LazyTimer(uv_loop_t* loop, std::function<void()> on_fire)
      : loop_(loop), timer_(loop, std::move(on_fire)) {}

  uint64_t now() const { return uv_now(loop_); }
  // Makes the timer fire at `at` (loop time in ms) at the latest.
  void fireBy(uint64_t at) {
    if (timer_.armed() && due_ <= at) return;
    const uint64_t current = now();
    due_ = at > current ? at : current;
    timer_.arm(std::chrono::milliseconds(due_ > current ? due_ - current : 1));
  }
  void disarm() { timer_.disarm(); }

 private:
  uv_loop_t* loop_;
  Timer timer_;
  uint64_t due_ = 0;  // when the armed timer fires (loop time in ms)
};

class IdleTimer {
 public:
  IdleTimer(uv_loop_t* loop, std::function<void()> on_idle)
      : timer_(loop, [this] { onFire(); }), on_idle_(std::move(on_idle)) {}

  // Starts (or restarts) with `timeout`; zero disables.
  void start(std::chrono::milliseconds timeout) {
    timeout_ = static_cast<uint64_t>(timeout.count() > 0 ? timeout.count() : 0);
    last_activity_ = timer_.now();
    if (timeout_ == 0) {
      timer_.disarm();
      return;
    }
    timer_.fireBy(last_activity_ + timeout_);
  }
  void touch() { last_activity_ = timer_.now(); }
  // A pending timer stays armed (the next start() may need it) and fires idly.
  void stop() { timeout_ = 0; }

 private:
  void onFire() {
    if (timeout_ == 0) return;
    const uint64_t expiry = last_activity_ + timeout_;
    if (timer_.now() < expiry) {
      timer_.fireBy(expiry);
      return;
    }
    on_idle_();
  }

  LazyTimer timer_;
  std::function<void()> on_idle_;
  uint64_t timeout_ = 0;  // ms; 0: stopped
  uint64_t last_activity_ = 0;
};

// A deadline (a request head must arrive within N seconds; nearly every one does).
class DeadlineTimer {
 public:
  DeadlineTimer(uv_loop_t* loop, std::function<void()> on_expired)
      : timer_(loop, [this] { onFire(); }), on_expired_(std::move(on_expired)) {}

  // Expires `timeout` from now unless cleared first; zero means never.
  void set(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) {
      clear();
      return;
    }
    deadline_ = timer_.now() + static_cast<uint64_t>(timeout.count());
    timer_.fireBy(deadline_);
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
    if (timer_.now() < deadline_) {
      timer_.fireBy(deadline_);
      return;
    }
    deadline_ = 0;
    on_expired_();
  }

  LazyTimer timer_;
  std::function<void()> on_expired_;
  uint64_t deadline_ = 0;  // loop time in ms; 0: none
};

}  // namespace remora
