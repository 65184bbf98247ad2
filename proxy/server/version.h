#pragma once

namespace remora::server {
inline constexpr const char* kVersion = "0.1.0";
}
