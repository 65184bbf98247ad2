#include "filters/filter_registry.h"

#include <array>
#include <string>

#include "filters/health_check/health_check_config.h"
#include "filters/rbac/rbac_config.h"
#include "proxy/router/router_filter_config.h"

namespace remora::filters {

namespace {
const std::array<const HttpFilterFactory*, 3>& allFactories() {
  static const health_check::HealthCheckFactory health_check;
  static const rbac::RbacFactory rbac;
  static const router::RouterFactory router;
  static const std::array<const HttpFilterFactory*, 3> factories{&health_check, &rbac, &router};
  return factories;
}
}  // namespace

const HttpFilterFactory* findHttpFilterFactory(std::string_view name) {
  for (const HttpFilterFactory* f : allFactories()) {
    if (f->name() == name) return f;
  }
  return nullptr;
}

std::vector<FilterFactoryCb> buildHttpFilterChain(
    const std::vector<config::HttpFilterEntry>& entries,
    const config::ConfigNode& http_filters_node, const FilterFactoryContext& context) {
  std::vector<FilterFactoryCb> chain;
  for (size_t i = 0; i < entries.size(); ++i) {
    const config::HttpFilterEntry& entry = entries[i];
    const HttpFilterFactory* factory = findHttpFilterFactory(entry.name);
    if (!factory) entry.source.fail("unknown HTTP filter '" + entry.name + "'");
    if (!entry.type_url.empty() &&
        entry.type_url != "type.googleapis.com/" + std::string(factory->typeUrl())) {
      entry.typed_config.fail("@type '" + entry.type_url + "' does not match filter '" +
                              entry.name + "' (expected type.googleapis.com/" +
                              std::string(factory->typeUrl()) + ")");
    }
    if (factory->terminal() && i + 1 != entries.size()) {
      entry.source.fail("terminal filter '" + entry.name + "' must be the last in the chain");
    }
    chain.push_back(factory->createFilterFactory(entry.typed_config, context));
  }
  if (entries.empty() || !findHttpFilterFactory(entries.back().name)->terminal()) {
    http_filters_node.fail("the last HTTP filter must be envoy.filters.http.router");
  }
  return chain;
}

}  // namespace remora::filters
