// envoy.filters.http.rbac: checks each request's headers against the enforced rules
// (403 "RBAC: access denied" when denied) and, independently, the shadow rules, whose
// verdict is only counted.
#pragma once

#include <memory>

#include "filters/filter.h"
#include "filters/rbac/rbac_config.h"
#include "telemetry/stats/stat_definitions.h"

namespace remora::filters::rbac {

// Envoy's %RESPONSE_CODE_DETAILS% for a denial: "rbac_access_denied_matched_policy[<name>]",
// with "none" when no policy matched and whitespace in the name replaced by '_' (so a
// space-separated access log keeps its field count).
std::string deniedResponseDetails(const std::string* policy);

class RbacFilter : public StreamFilter {
 public:
  // `stats` is this worker's shard.
  RbacFilter(std::shared_ptr<const RbacConfig> config, stats::HttpRbacStats& stats)
      : config_(std::move(config)), stats_(stats) {}

  FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;

 private:
  std::shared_ptr<const RbacConfig> config_;
  stats::HttpRbacStats& stats_;
};

}  // namespace remora::filters::rbac
