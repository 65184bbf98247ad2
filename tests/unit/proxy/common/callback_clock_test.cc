// callback_clock: one clock reading per callback scope (and per stream start), the real
// clock outside any scope.
#include "proxy/common/callback_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace remora::callback_clock {
namespace {

// Waits until the real steady clock has moved past `t`.
void waitPast(Steady::time_point t) {
  while (Steady::now() <= t) std::this_thread::yield();
}

TEST(CallbackClockTest, OutsideAScopeEveryCallReadsTheClock) {
  const Steady::time_point first = steadyNow();
  waitPast(first);
  EXPECT_GT(steadyNow(), first);
}

TEST(CallbackClockTest, InsideAScopeTheFirstReadingIsReused) {
  const CallbackScope scope;
  const Steady::time_point steady = steadyNow();
  const System::time_point system = systemNow();
  waitPast(steady);
  EXPECT_EQ(steadyNow(), steady);
  EXPECT_EQ(systemNow(), system);
}

TEST(CallbackClockTest, ANewScopeReadsAfresh) {
  Steady::time_point in_first_scope;
  {
    const CallbackScope scope;
    in_first_scope = steadyNow();
  }
  waitPast(in_first_scope);
  const CallbackScope scope;
  EXPECT_GT(steadyNow(), in_first_scope);
}

TEST(CallbackClockTest, NestedScopesShareTheOuterReadingUntilTheOuterEnds) {
  const CallbackScope outer;
  const Steady::time_point reading = steadyNow();
  waitPast(reading);
  {
    const CallbackScope inner;
    EXPECT_EQ(steadyNow(), reading);
  }
  EXPECT_EQ(steadyNow(), reading);
}

TEST(CallbackClockTest, AStreamStartReadsAfreshInsideTheScope) {
  const CallbackScope scope;
  const Steady::time_point before = steadyNow();
  waitPast(before);
  startOfStream();
  const Steady::time_point after = steadyNow();
  EXPECT_GT(after, before);
  waitPast(after);
  EXPECT_EQ(steadyNow(), after);
}

TEST(CallbackClockTest, EachThreadHasItsOwnReading) {
  const CallbackScope scope;
  const Steady::time_point here = steadyNow();
  waitPast(here);
  Steady::time_point there;
  std::thread([&] { there = steadyNow(); }).join();
  EXPECT_GT(there, here);
}

}  // namespace
}  // namespace remora::callback_clock
