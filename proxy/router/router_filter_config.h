// envoy.filters.http.router: config and factory (the filter is in router_filter.h).
#pragma once

#include "filters/filter_registry.h"

namespace remora::router {

struct RouterConfig {
  // Omit x-envoy-upstream-service-time and x-envoy-original-path.
  bool suppress_envoy_headers = false;
};

class RouterFactory : public filters::HttpFilterFactory {
 public:
  std::string_view name() const override { return "envoy.filters.http.router"; }
  std::string_view typeUrl() const override {
    return "envoy.extensions.filters.http.router.v3.Router";
  }
  bool terminal() const override { return true; }
  filters::FilterFactoryCb createFilterFactory(
      const config::ConfigNode& typed_config,
      const filters::FilterFactoryContext& context) const override;
};

}  // namespace remora::router
