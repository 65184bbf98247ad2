#include "filters/health_check/health_check_filter.h"

#include "config/config_loader.h"

namespace remora::filters::health_check {

namespace {
constexpr std::string_view kImmediateFailHeader = "x-envoy-immediate-health-check-fail";
}  // namespace

FilterFactoryCb HealthCheckFactory::createFilterFactory(const config::ConfigNode& typed_config,
                                                        const FilterFactoryContext&) const {
  if (!typed_config.valid()) typed_config.fail("missing typed_config for health_check filter");
  typed_config.expectFields({"@type", "pass_through_mode", "headers"});
  auto cfg = std::make_shared<HealthCheckConfig>();
  cfg->pass_through_mode = typed_config.required("pass_through_mode").asBool();
  if (auto headers = typed_config.field("headers")) {
    for (const config::ConfigNode& h : headers->elements()) {
      cfg->headers.emplace_back(config::parseHeaderMatcher(h));
    }
  }
  if (cfg->headers.empty()) typed_config.fail("missing required field 'headers'");
  return [cfg](FilterContext& context) {
    return std::make_unique<HealthCheckFilter>(cfg, context.server);
  };
}

FilterStatus HealthCheckFilter::onRequestHeaders(http::RequestHead& head, bool) {
  for (const router::HeaderMatcher& m : config_->headers) {
    if (!m.matches(head)) return FilterStatus::Continue;
  }
  if (server_.health_check_failed.load(std::memory_order_relaxed)) {
    // The reply runs through this filter's response phase too, which adds the
    // immediate-fail header.
    callbacks().sendLocalReply(503, "", "health_check_failed",
                               stream::ResponseFlag::FailedLocalHealthCheck);
    return FilterStatus::Stop;
  }
  if (config_->pass_through_mode) return FilterStatus::Continue;
  callbacks().sendLocalReply(200, "", "health_check_ok", stream::ResponseFlag::None);
  return FilterStatus::Stop;
}

FilterStatus HealthCheckFilter::onResponseHeaders(http::ResponseHead& head, bool) {
  // As in Envoy, every response says so while failed, so a downstream proxy stops
  // sending here at once.
  if (server_.health_check_failed.load(std::memory_order_relaxed)) {
    head.headers.set(kImmediateFailHeader, "true");
  }
  return FilterStatus::Continue;
}

}  // namespace remora::filters::health_check
