#include "telemetry/access_log/access_log_filter.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/access_log/config_fields.h"

namespace remora::telemetry {
namespace {

using stream::ResponseFlag;

// config.accesslog.v3.ComparisonFilter
struct Comparison {
  enum class Op { Eq, Ge, Le };
  Op op = Op::Eq;
  uint64_t value = 0;

  bool matches(uint64_t actual) const {
    switch (op) {
      case Op::Eq:
        return actual == value;
      case Op::Ge:
        return actual >= value;
      case Op::Le:
        return actual <= value;
    }
    return false;
  }
};

Comparison parseComparison(const config::ConfigNode& filter) {
  checkFields(filter, {"comparison"});
  const config::ConfigNode node = filter.required("comparison");
  checkFields(node, {"op", "value"});
  Comparison comparison;
  if (std::optional<config::ConfigNode> op = node.field("op")) {
    using Op = Comparison::Op;
    comparison.op = op->asEnum<Op>({{"EQ", Op::Eq}, {"GE", Op::Ge}, {"LE", Op::Le}});
  }
  // config.core.v3.RuntimeUInt32: without a runtime layer the runtime_key never
  // overrides anything, so only default_value counts.
  const config::ConfigNode value = node.required("value");
  checkFields(value, {"default_value", "runtime_key"});
  comparison.value = value.required("default_value").asUint32();
  value.stringOr("runtime_key", "");
  return comparison;
}

class StatusCodeFilter : public AccessLogFilter {
 public:
  explicit StatusCodeFilter(Comparison comparison) : comparison_(comparison) {}
  bool evaluate(const LogContext& context) const override {
    return comparison_.matches(static_cast<uint64_t>(context.info.response_code));
  }

 private:
  Comparison comparison_;
};

// Compares the total duration in milliseconds; a stream that has not ended never matches.
class DurationFilter : public AccessLogFilter {
 public:
  explicit DurationFilter(Comparison comparison) : comparison_(comparison) {}
  bool evaluate(const LogContext& context) const override {
    const stream::StreamInfo& info = context.info;
    if (!info.end) return false;
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(*info.end - info.start);
    return comparison_.matches(static_cast<uint64_t>(millis.count()));
  }

 private:
  Comparison comparison_;
};

// A health check is a request the health_check filter answered itself.
class NotHealthCheckFilter : public AccessLogFilter {
 public:
  bool evaluate(const LogContext& context) const override {
    const std::string& details = context.info.response_code_details;
    return details != "health_check_ok" && details != "health_check_failed";
  }
};

class AndFilter : public AccessLogFilter {
 public:
  explicit AndFilter(std::vector<std::unique_ptr<const AccessLogFilter>> filters)
      : filters_(std::move(filters)) {}
  bool evaluate(const LogContext& context) const override {
    for (const auto& filter : filters_) {
      if (!filter->evaluate(context)) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<const AccessLogFilter>> filters_;
};

class OrFilter : public AccessLogFilter {
 public:
  explicit OrFilter(std::vector<std::unique_ptr<const AccessLogFilter>> filters)
      : filters_(std::move(filters)) {}
  bool evaluate(const LogContext& context) const override {
    for (const auto& filter : filters_) {
      if (filter->evaluate(context)) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<const AccessLogFilter>> filters_;
};

// Every flag name Envoy accepts here, plus Remora's RBAC. Flags Remora never sets map
// to None: a config copied from Envoy still loads, and those names simply never match.
constexpr std::array<std::pair<std::string_view, ResponseFlag>, 30> kResponseFlagNames{{
    {"LH", ResponseFlag::FailedLocalHealthCheck},
    {"UH", ResponseFlag::NoHealthyUpstream},
    {"UT", ResponseFlag::UpstreamRequestTimeout},
    {"LR", ResponseFlag::LocalReset},
    {"UR", ResponseFlag::UpstreamRemoteReset},
    {"UF", ResponseFlag::UpstreamConnectionFailure},
    {"UC", ResponseFlag::UpstreamConnectionTermination},
    {"UO", ResponseFlag::UpstreamOverflow},
    {"NR", ResponseFlag::NoRouteFound},
    {"DI", ResponseFlag::None},
    {"FI", ResponseFlag::None},
    {"RL", ResponseFlag::None},
    {"UAEX", ResponseFlag::None},
    {"RLSE", ResponseFlag::None},
    {"DC", ResponseFlag::DownstreamConnectionTermination},
    {"URX", ResponseFlag::UpstreamRetryLimitExceeded},
    {"SI", ResponseFlag::StreamIdleTimeout},
    {"IH", ResponseFlag::None},
    {"DPE", ResponseFlag::DownstreamProtocolError},
    {"UMSDR", ResponseFlag::None},
    {"RFCF", ResponseFlag::None},
    {"NFCF", ResponseFlag::None},
    {"DT", ResponseFlag::DurationTimeout},
    {"UPE", ResponseFlag::UpstreamProtocolError},
    {"NC", ResponseFlag::NoClusterFound},
    {"OM", ResponseFlag::None},
    {"DF", ResponseFlag::None},
    {"DO", ResponseFlag::None},
    {"DR", ResponseFlag::None},
    {"RBAC", ResponseFlag::RbacAccessDenied},
}};

// Matches when any of the listed flags is set, or, with no list, when any flag is.
class ResponseFlagFilter : public AccessLogFilter {
 public:
  ResponseFlagFilter(bool any_flag, uint32_t mask) : any_flag_(any_flag), mask_(mask) {}
  bool evaluate(const LogContext& context) const override {
    const uint32_t flags = context.info.response_flags;
    return any_flag_ ? flags != 0 : (flags & mask_) != 0;
  }

 private:
  bool any_flag_;
  uint32_t mask_;
};

std::unique_ptr<const AccessLogFilter> parseResponseFlagFilter(const config::ConfigNode& node) {
  checkFields(node, {"flags"});
  uint32_t mask = 0;
  const std::vector<config::ConfigNode> flags =
      node.has("flags") ? node.required("flags").elements() : std::vector<config::ConfigNode>{};
  for (const config::ConfigNode& flag : flags) {
    const std::string name = flag.asString();
    const auto* known = std::find_if(kResponseFlagNames.begin(), kResponseFlagNames.end(),
                                     [&](const auto& entry) { return entry.first == name; });
    if (known == kResponseFlagNames.end()) {
      std::string accepted;
      for (const auto& entry : kResponseFlagNames) {
        if (!accepted.empty()) accepted += ", ";
        accepted += entry.first;
      }
      flag.fail("unknown response flag \"" + name + "\" (expected one of: " + accepted + ")");
    }
    mask |= static_cast<uint32_t>(known->second);
  }
  return std::make_unique<ResponseFlagFilter>(flags.empty(), mask);
}

std::vector<std::unique_ptr<const AccessLogFilter>> parseFilterList(
    const config::ConfigNode& node) {
  checkFields(node, {"filters"});
  const config::ConfigNode list = node.required("filters");
  std::vector<std::unique_ptr<const AccessLogFilter>> filters;
  for (const config::ConfigNode& element : list.elements()) {
    filters.push_back(AccessLogFilter::create(element));
  }
  if (filters.size() < 2) list.fail("at least 2 filters are required");
  return filters;
}

}  // namespace

std::unique_ptr<const AccessLogFilter> AccessLogFilter::create(const config::ConfigNode& node) {
  checkFields(node,
              {"status_code_filter", "duration_filter", "not_health_check_filter", "and_filter",
               "or_filter", "response_flag_filter"},
              {"runtime_filter", "traceable_filter", "header_filter", "grpc_status_filter",
               "extension_filter", "metadata_filter", "log_type_filter"});
  const std::string_view kind =
      node.oneOf({"status_code_filter", "duration_filter", "not_health_check_filter", "and_filter",
                  "or_filter", "response_flag_filter"});
  const config::ConfigNode config = node.required(kind);
  if (kind == "status_code_filter") {
    return std::make_unique<StatusCodeFilter>(parseComparison(config));
  }
  if (kind == "duration_filter") return std::make_unique<DurationFilter>(parseComparison(config));
  if (kind == "not_health_check_filter") {
    checkFields(config, {});
    return std::make_unique<NotHealthCheckFilter>();
  }
  if (kind == "and_filter") return std::make_unique<AndFilter>(parseFilterList(config));
  if (kind == "or_filter") return std::make_unique<OrFilter>(parseFilterList(config));
  return parseResponseFlagFilter(config);
}

}  // namespace remora::telemetry
