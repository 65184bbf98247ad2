// %START_TIME%'s format, parsed once; format() runs on the workers.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace remora::telemetry {

// START_TIME's format: strftime, plus Envoy's extra specifiers %s (epoch seconds),
// %f / %1f..%9f (fractional seconds) and absl's %E1S..%E9S (seconds with a fraction).
class TimeFormat {
 public:
  TimeFormat() = default;
  explicit TimeFormat(std::string_view spec);
  void format(std::chrono::system_clock::time_point time, std::string& out) const;

 private:
  struct Segment {
    enum class Kind { Strftime, EpochSeconds, Fraction };
    Kind kind;
    std::string text;  // Strftime
    int digits;        // Fraction
  };
  std::vector<Segment> segments_;
};

}  // namespace remora::telemetry
