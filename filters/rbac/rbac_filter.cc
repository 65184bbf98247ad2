#include "filters/rbac/rbac_filter.h"

#include <algorithm>

namespace remora::filters::rbac {

std::string deniedResponseDetails(const std::string* policy) {
  std::string details = "rbac_access_denied_matched_policy[";
  const size_t name_start = details.size();
  details += policy ? *policy : "none";
  std::replace_if(
      details.begin() + static_cast<std::ptrdiff_t>(name_start), details.end(),
      [](char c) { return std::string_view(" \t\f\v\n\r").find(c) != std::string_view::npos; },
      '_');
  details += ']';
  return details;
}

FilterStatus RbacFilter::onRequestHeaders(http::RequestHead& head, bool) {
  stream::StreamInfo& info = callbacks().streamInfo();
  const RequestView request(head, info);
  if (config_->shadow_rules) {
    const Engine::Decision shadow = config_->shadow_rules->evaluate(request);
    (shadow.allowed ? stats_.shadow_allowed : stats_.shadow_denied).inc();
  }
  if (!config_->rules) return FilterStatus::Continue;

  const Engine::Decision decision = config_->rules->evaluate(request);
  if (decision.policy) info.rbac_policy = *decision.policy;
  if (decision.allowed) {
    stats_.allowed.inc();
    return FilterStatus::Continue;
  }
  stats_.denied.inc();
  // Envoy sets no response flag for an RBAC denial; the details name the policy.
  callbacks().sendLocalReply(403, "RBAC: access denied", deniedResponseDetails(decision.policy));
  return FilterStatus::Stop;
}

}  // namespace remora::filters::rbac
