// config.accesslog.v3.AccessLogFilter: decides whether a finished stream is logged.
// Parsed once on the main thread, immutable, evaluated on the workers.
#pragma once

#include <memory>

#include "config/config_node.h"
#include "telemetry/access_log/log_context.h"

namespace remora::telemetry {

class AccessLogFilter {
 public:
  virtual ~AccessLogFilter() = default;

  // Supports status_code_filter, duration_filter, not_health_check_filter, and_filter,
  // or_filter and response_flag_filter. A comparison's runtime_key is accepted and
  // ignored (there is no runtime layer), so its default_value is required.
  static std::unique_ptr<const AccessLogFilter> create(const config::ConfigNode& node);

  virtual bool evaluate(const LogContext& context) const = 0;
};

}  // namespace remora::telemetry
