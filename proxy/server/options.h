// Command-line options, with Envoy's flag names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/common/logger.h"

namespace remora::server {

struct Options {
  enum class Mode { Serve, Validate };
  std::string config_path;
  std::string config_yaml;
  uint32_t concurrency = 0;  // 0: the CPUs this process may run on
  Mode mode = Mode::Serve;
  log::Level log_level = log::Level::Info;
  uint32_t drain_time_s = 600;
  bool show_version = false;
  bool show_help = false;
  std::vector<std::string> argv;  // as given, for /server_info
};

// Parses argv. On a usage error returns nullopt and sets `error`.
std::optional<Options> parseOptions(int argc, const char* const argv[], std::string& error);
std::string usage();
// CPUs in this process's affinity mask (what a container's cpuset allows).
uint32_t availableCpus();

}  // namespace remora::server
