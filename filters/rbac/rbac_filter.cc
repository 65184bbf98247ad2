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

namespace {
stream::RbacMetadata::Result resultOf(bool allowed) {
  return allowed ? stream::RbacMetadata::Result::Allowed : stream::RbacMetadata::Result::Denied;
}
}  // namespace

Engine::Decision evaluateRules(const RbacConfig& config, const RequestView& request,
                               stats::RbacStats& stats, stream::RbacMetadata::Filter filter,
                               stream::StreamInfo& info) {
  stream::RbacMetadata& metadata = info.rbac;
  if (config.shadow_rules || config.rules) metadata.filter = filter;
  if (config.shadow_rules) {
    const Engine::Decision shadow = config.shadow_rules->evaluate(request);
    (shadow.allowed ? stats.shadow_allowed : stats.shadow_denied).inc();
    metadata.shadow = resultOf(shadow.allowed);
    if (shadow.policy) metadata.shadow_policy = *shadow.policy;
    metadata.shadow_key_prefix = config.shadow_rules_stat_prefix;
  }
  if (!config.rules) return Engine::Decision{true, nullptr};
  const Engine::Decision decision = config.rules->evaluate(request);
  (decision.allowed ? stats.allowed : stats.denied).inc();
  metadata.enforced = resultOf(decision.allowed);
  if (decision.policy) metadata.enforced_policy = *decision.policy;
  metadata.enforced_key_prefix = config.rules_stat_prefix;
  return decision;
}

FilterStatus RbacFilter::onRequestHeaders(http::RequestHead& head, bool) {
  stream::StreamInfo& info = callbacks().streamInfo();
  const Engine::Decision decision = evaluateRules(*config_, RequestView(head, info), stats_,
                                                  stream::RbacMetadata::Filter::Http, info);
  if (decision.allowed) return FilterStatus::Continue;
  callbacks().sendLocalReply(403, "RBAC: access denied", deniedResponseDetails(decision.policy),
                             stream::ResponseFlag::RbacAccessDenied);
  return FilterStatus::Stop;
}

}  // namespace remora::filters::rbac
