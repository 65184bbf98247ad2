#include "proxy/server/options.h"

#include <sched.h>

#include <charconv>
#include <string_view>

namespace remora::server {

namespace {
bool parseUint(std::string_view text, uint32_t& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}
}  // namespace

std::string usage() {
  return "Usage: remora [options]\n"
         "  -c, --config-path FILE    Envoy v3 bootstrap config (YAML or JSON)\n"
         "      --config-yaml STRING  the bootstrap config inline\n"
         "      --concurrency N       worker threads (default: CPUs this process may use)\n"
         "      --mode serve|validate validate checks the config and exits 0 or 1\n"
         "  -l, --log-level LEVEL     trace, debug, info, warning, error, critical, off\n"
         "      --drain-time-s N      seconds to let in-flight requests finish on SIGTERM "
         "(default 600)\n"
         "      --version             print the version and exit\n"
         "  -h, --help                print this help and exit\n";
}

uint32_t availableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<uint32_t>(n) : 1;
}

std::optional<Options> parseOptions(int argc, const char* const argv[], std::string& error) {
  Options o;
  for (int i = 0; i < argc; ++i) o.argv.emplace_back(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_inline_value = false;
    if (arg.starts_with("--") && arg.find('=') != std::string_view::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_inline_value = true;
    }
    auto next = [&](std::string_view& out) {
      if (has_inline_value) {
        out = value;
        return true;
      }
      if (i + 1 >= argc) {
        error = "option " + std::string(arg) + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string_view v;
    if (arg == "-h" || arg == "--help") {
      o.show_help = true;
    } else if (arg == "--version") {
      o.show_version = true;
    } else if (arg == "-c" || arg == "--config-path") {
      if (!next(v)) return std::nullopt;
      o.config_path = v;
    } else if (arg == "--config-yaml") {
      if (!next(v)) return std::nullopt;
      o.config_yaml = v;
    } else if (arg == "--concurrency") {
      if (!next(v)) return std::nullopt;
      if (!parseUint(v, o.concurrency) || o.concurrency == 0) {
        error = "--concurrency must be a positive integer, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else if (arg == "--mode") {
      if (!next(v)) return std::nullopt;
      if (v == "serve") {
        o.mode = Options::Mode::Serve;
      } else if (v == "validate") {
        o.mode = Options::Mode::Validate;
      } else {
        error = "--mode must be serve or validate, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else if (arg == "-l" || arg == "--log-level") {
      if (!next(v)) return std::nullopt;
      const auto level = log::parseLevel(v);
      if (!level) {
        error = "unknown log level '" + std::string(v) + "'";
        return std::nullopt;
      }
      o.log_level = *level;
    } else if (arg == "--drain-time-s") {
      if (!next(v)) return std::nullopt;
      if (!parseUint(v, o.drain_time_s)) {
        error = "--drain-time-s must be a non-negative integer, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else {
      error = "unknown option '" + std::string(arg) + "'";
      return std::nullopt;
    }
  }
  if (o.show_help || o.show_version) return o;
  if (o.config_path.empty() && o.config_yaml.empty()) {
    error = "no configuration: give -c/--config-path or --config-yaml";
    return std::nullopt;
  }
  if (!o.config_path.empty() && !o.config_yaml.empty()) {
    error = "give either --config-path or --config-yaml, not both (merging is not supported)";
    return std::nullopt;
  }
  if (o.concurrency == 0) o.concurrency = availableCpus();
  return o;
}

}  // namespace remora::server
