// envoy.filters.http.health_check: config and factory.
#pragma once

#include <vector>

#include "filters/filter_registry.h"
#include "proxy/router/route_table.h"

namespace remora::filters::health_check {

struct HealthCheckConfig {
  bool pass_through_mode = false;
  // All must match for a request to be a health check (Envoy's `headers`).
  std::vector<router::HeaderMatcher> headers;
};

class HealthCheckFactory : public HttpFilterFactory {
 public:
  std::string_view name() const override { return "envoy.filters.http.health_check"; }
  std::string_view typeUrl() const override {
    return "envoy.extensions.filters.http.health_check.v3.HealthCheck";
  }
  FilterFactoryCb createFilterFactory(const config::ConfigNode& typed_config,
                                      const FilterFactoryContext& context) const override;
};

}  // namespace remora::filters::health_check
