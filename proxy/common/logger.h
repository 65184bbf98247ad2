// Minimal leveled logging to stderr, with Envoy's level names. The level is a
// process-wide atomic so POST /logging can change it while workers run.
#pragma once

#include <atomic>
#include <optional>
#include <string_view>

namespace remora::log {

enum class Level { Trace, Debug, Info, Warn, Error, Critical, Off };

std::optional<Level> parseLevel(std::string_view name);
void setLevel(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

}  // namespace remora::log

#define REMORA_LOG(level, msg)                                  \
  do {                                                          \
    if (::remora::log::enabled(::remora::log::Level::level)) {  \
      ::remora::log::write(::remora::log::Level::level, (msg)); \
    }                                                           \
  } while (0)
