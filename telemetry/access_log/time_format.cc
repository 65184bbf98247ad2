#include "telemetry/access_log/time_format.h"

#include <array>
#include <cstdint>
#include <ctime>

namespace remora::telemetry {

TimeFormat::TimeFormat(std::string_view spec) {
  std::string chunk;
  auto flushChunk = [&] {
    if (!chunk.empty()) segments_.push_back({Segment::Kind::Strftime, std::move(chunk), 0});
    chunk.clear();
  };
  for (std::size_t i = 0; i < spec.size(); ++i) {
    const std::string_view rest = spec.substr(i);
    const auto isDigit = [](char c) { return c >= '1' && c <= '9'; };
    if (rest[0] != '%') {
      chunk += rest[0];
    } else if (rest.size() == 1) {
      chunk += "%%";  // a trailing '%' is literal text
    } else if (rest[1] == 's') {
      flushChunk();
      segments_.push_back({Segment::Kind::EpochSeconds, {}, 0});
      i += 1;
    } else if (rest[1] == 'f') {
      flushChunk();
      segments_.push_back({Segment::Kind::Fraction, {}, 9});
      i += 1;
    } else if (rest.size() > 2 && isDigit(rest[1]) && rest[2] == 'f') {
      flushChunk();
      segments_.push_back({Segment::Kind::Fraction, {}, rest[1] - '0'});
      i += 2;
    } else if (rest.size() > 3 && rest[1] == 'E' && isDigit(rest[2]) && rest[3] == 'S') {
      chunk += "%S.";
      flushChunk();
      segments_.push_back({Segment::Kind::Fraction, {}, rest[2] - '0'});
      i += 3;
    } else {
      chunk += rest.substr(0, 2);  // "%%" and every strftime conversion
      i += 1;
    }
  }
  flushChunk();
}

void TimeFormat::format(std::chrono::system_clock::time_point time, std::string& out) const {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const std::time_t epoch_seconds = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&epoch_seconds, &utc);
  const uint64_t nanos = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
  for (const Segment& segment : segments_) {
    switch (segment.kind) {
      case Segment::Kind::Strftime: {
        std::array<char, 256> buffer;
        out.append(buffer.data(),
                   std::strftime(buffer.data(), buffer.size(), segment.text.c_str(), &utc));
        break;
      }
      case Segment::Kind::EpochSeconds:
        out += std::to_string(epoch_seconds);
        break;
      case Segment::Kind::Fraction: {
        uint64_t value = nanos;
        for (int i = segment.digits; i < 9; ++i) value /= 10;
        const std::string digits = std::to_string(value);
        out.append(static_cast<std::size_t>(segment.digits) - digits.size(), '0');
        out += digits;
        break;
      }
    }
  }
}

}  // namespace remora::telemetry
