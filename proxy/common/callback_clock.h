// The time as of the I/O callback being run. A proxied request reads the clock about
// seven times (its start, the request's end, the upstream request's start, the first
// upstream byte, the upstream service time, its end) and each reading is a vDSO call of
// 25-40 ns; the readings made within one read callback differ by microseconds. So inside
// a CallbackScope the first reading is kept and reused, until the scope ends or a stream
// starts (startOfStream: pipelined requests parsed from one read each get their own
// start). Outside any scope, in timer callbacks say, every call reads the clock.
#pragma once

#include <chrono>
#include <optional>

namespace remora::callback_clock {

using Steady = std::chrono::steady_clock;
using System = std::chrono::system_clock;

namespace detail {
struct State {
  int scope_depth = 0;
  std::optional<Steady::time_point> steady;
  std::optional<System::time_point> system;
};
inline thread_local State state;

inline void forgetReadings() {
  state.steady.reset();
  state.system.reset();
}
}  // namespace detail

// Held by TcpConnection for the length of a read callback. Nesting is allowed.
class CallbackScope {
 public:
  CallbackScope() {
    if (detail::state.scope_depth++ == 0) detail::forgetReadings();
  }
  ~CallbackScope() {
    if (--detail::state.scope_depth == 0) detail::forgetReadings();
  }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
};

inline Steady::time_point steadyNow() {
  detail::State& s = detail::state;
  if (s.scope_depth == 0) return Steady::now();
  if (!s.steady) s.steady = Steady::now();
  return *s.steady;
}

inline System::time_point systemNow() {
  detail::State& s = detail::state;
  if (s.scope_depth == 0) return System::now();
  if (!s.system) s.system = System::now();
  return *s.system;
}

// A new stream begins: its start is read afresh even inside the current callback.
inline void startOfStream() { detail::forgetReadings(); }

}  // namespace remora::callback_clock
