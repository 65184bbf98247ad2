// envoy.filters.http.rbac: checks each request's headers against the enforced rules
// (403 "RBAC: access denied" when denied) and, independently, the shadow rules, whose
// verdict is only counted and recorded.
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

// What both RBAC filters do with a request or connection: evaluates the shadow and the
// enforced rules, counts each verdict in `stats` and records it in `info.rbac` for the
// access log's %DYNAMIC_METADATA%. Returns the enforced verdict (allowed, with no
// policy, when there are no enforced rules).
Engine::Decision evaluateRules(const RbacConfig& config, const RequestView& request,
                               stats::RbacStats& stats, stream::RbacMetadata::Filter filter,
                               stream::StreamInfo& info);

class RbacFilter : public StreamFilter {
 public:
  // `stats` is this worker's shard.
  RbacFilter(std::shared_ptr<const RbacConfig> config, stats::RbacStats& stats)
      : config_(std::move(config)), stats_(stats) {}

  FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;

 private:
  std::shared_ptr<const RbacConfig> config_;
  stats::RbacStats& stats_;
};

}  // namespace remora::filters::rbac
