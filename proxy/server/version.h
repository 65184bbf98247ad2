#pragma once

namespace remora::server {
inline constexpr const char* kVersion = "0.1.0";
// server.version gauge: major * 10000 + minor * 100 + patch.
inline constexpr int kVersionNumber = 100;
}  // namespace remora::server
