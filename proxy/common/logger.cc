#include "proxy/common/logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace remora::log {

namespace {
std::atomic<Level> g_level{Level::Info};

const char* levelName(Level l) {
  switch (l) {
    case Level::Trace:
      return "trace";
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warning";
    case Level::Error:
      return "error";
    case Level::Critical:
      return "critical";
    case Level::Off:
      return "off";
  }
  return "info";
}
}  // namespace

std::optional<Level> parseLevel(std::string_view name) {
  for (Level l : {Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error,
                  Level::Critical, Level::Off}) {
    if (name == levelName(l)) return l;
  }
  if (name == "warn") return Level::Warn;
  return std::nullopt;
}

void setLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }

bool enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed) && level != Level::Off;
}

void write(Level level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
  std::string line = "[" + std::string(stamp) + "." + std::to_string(1000 + ms).substr(1) + "][" +
                     levelName(level) + "] " + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace remora::log
