// Envoy's access log formats: a text template ("format string") or a JSON object
// template ("format dictionary"), both made of literal text and command operators such
// as %START_TIME%, %REQ(X?Y):Z% or %DURATION%. Parsed once on the main thread; format()
// runs on the workers and only appends to the caller's buffer.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config_node.h"
#include "telemetry/access_log/log_context.h"

namespace remora::telemetry {

// Envoy's format when a logger configures none.
inline constexpr std::string_view kDefaultAccessLogFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

class SubstitutionFormatter {
 public:
  virtual ~SubstitutionFormatter() = default;

  // A text template. Errors (an unknown operator, a stray '%') are raised at `node`,
  // the configuration value the template came from. With omit_empty_values a missing
  // value prints nothing instead of "-".
  static std::unique_ptr<const SubstitutionFormatter> createText(std::string_view format,
                                                                 bool omit_empty_values,
                                                                 const config::ConfigNode& node);
  // A JSON object template: a mapping (nested mappings allowed) whose string values are
  // text templates. An entry that is exactly one operator keeps its type (numbers stay
  // numbers, a missing value is null, or the key is left out with omit_empty_values);
  // anything else renders as a string. Keys keep their configured order. Each entry
  // ends with "\n".
  static std::unique_ptr<const SubstitutionFormatter> createJson(
      const config::ConfigNode& json_format, bool omit_empty_values);

  // Appends one entry to `out`.
  virtual void format(const LogContext& context, std::string& out) const = 0;
};

}  // namespace remora::telemetry
