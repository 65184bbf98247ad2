// envoy.filters.http.rbac: config and factory (the policy engine is in rbac_engine.h,
// the filter in rbac_filter.h).
#pragma once

#include <optional>
#include <string>

#include "filters/filter_registry.h"
#include "filters/rbac/rbac_engine.h"

namespace remora::filters::rbac {

// envoy.extensions.filters.http.rbac.v3.RBAC
struct RbacConfig {
  std::optional<Engine> rules;         // absent: every request passes, uncounted
  std::optional<Engine> shadow_rules;  // evaluated and counted, never enforced
  // Put into the stat names (rbac.<prefix>.allowed) and in front of the dynamic
  // metadata keys (<prefix>enforced_engine_result), as Envoy does.
  std::string rules_stat_prefix;
  std::string shadow_rules_stat_prefix;
};

// Throws config::ConfigError naming the offending field.
RbacConfig parseRbacConfig(const config::ConfigNode& typed_config);

// envoy.extensions.filters.network.rbac.v3.RBAC, enforced once on a connection's first
// bytes (ONE_TIME_ON_FIRST_BYTE; CONTINUOUS is refused).
struct NetworkRbacConfig {
  std::string stat_prefix;
  RbacConfig rules;
};

// As parseRbacConfig; header and url_path matchers are refused, a TCP stream has neither.
NetworkRbacConfig parseNetworkRbacConfig(const config::ConfigNode& typed_config);

class RbacFactory : public HttpFilterFactory {
 public:
  std::string_view name() const override { return "envoy.filters.http.rbac"; }
  std::string_view typeUrl() const override { return "envoy.extensions.filters.http.rbac.v3.RBAC"; }
  // Registers http.<stat_prefix>.rbac.[<rules_stat_prefix>.]* in the context's store.
  FilterFactoryCb createFilterFactory(const config::ConfigNode& typed_config,
                                      const FilterFactoryContext& context) const override;
};

}  // namespace remora::filters::rbac
