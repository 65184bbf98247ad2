#include "filters/rbac/rbac_config.h"

#include <set>
#include <string>

#include "config/config_loader.h"
#include "config/parsers.h"
#include "filters/rbac/rbac_filter.h"
#include "telemetry/stats/stats_store.h"

namespace remora::filters::rbac {

namespace {

using config::ConfigNode;

// Envoy fields this filter does not implement: refused, never silently ignored.
void rejectUnsupported(const ConfigNode& node, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (std::optional<ConfigNode> value = node.field(name)) {
      value->fail("unsupported field '" + std::string(name) + "'");
    }
  }
}

std::vector<ConfigNode> nonEmptyList(const ConfigNode& parent, std::string_view name) {
  const ConfigNode list = parent.required(name);
  std::vector<ConfigNode> elements = list.elements();
  if (elements.empty()) list.fail("must contain at least one entry");
  return elements;
}

router::StringMatcher parseStringMatcher(const ConfigNode& node) {
  // Checked here first so that an unknown key is reported with the file name (the
  // loader's own check takes the file from its parse context, which filters lack).
  node.expectFields({"exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"});
  return router::StringMatcher(config::detail::parseStringMatcher(node, {}));
}

// Which filter the rules are for: header and url_path mean nothing to a TCP stream.
enum class RuleScope { Http, Network };

// Refuses a header or url_path matcher in network RBAC rules.
void requireHttpScope(const ConfigNode& value, std::string_view kind, RuleScope scope) {
  if (scope == RuleScope::Network) {
    value.fail("'" + std::string(kind) + "' is not supported by envoy.filters.network.rbac");
  }
}

MatcherPtr parseHeader(const ConfigNode& node) {
  return headerMatcher(router::HeaderMatcher(config::parseHeaderMatcher(node)));
}

// envoy.config.rbac.v3.Permission.url_path: a PathMatcher.
MatcherPtr parseUrlPath(const ConfigNode& node) {
  node.expectFields({"path"});
  return urlPathMatcher(parseStringMatcher(node.required("path")));
}

// config.core.v3.CidrRange
CidrRange parseCidrRange(const ConfigNode& node) {
  node.expectFields({"address_prefix", "prefix_len"});
  const ConfigNode prefix = node.required("address_prefix");
  const std::optional<IpAddress> address = parseIpAddress(prefix.asString());
  if (!address) prefix.fail("invalid IP address \"" + prefix.asString() + "\"");
  uint32_t prefix_len = 0;
  if (std::optional<ConfigNode> len = node.field("prefix_len")) {
    prefix_len = len->asUint32();
    if (prefix_len > 128) len->fail("prefix_len must be at most 128");
  }
  return CidrRange(*address, prefix_len);
}

template <typename ParseOne>
std::vector<MatcherPtr> parseEach(const std::vector<ConfigNode>& nodes, RuleScope scope,
                                  ParseOne parse_one) {
  std::vector<MatcherPtr> matchers;
  matchers.reserve(nodes.size());
  for (const ConfigNode& node : nodes) matchers.push_back(parse_one(node, scope));
  return matchers;
}

// `any` is a proto bool Envoy requires to be true.
void requireTrue(const ConfigNode& node) {
  if (!node.asBool()) node.fail("must be true");
}

// envoy.config.rbac.v3.Permission
MatcherPtr parsePermission(const ConfigNode& node, RuleScope scope) {
  node.expectFields({"and_rules", "or_rules", "any", "header", "url_path", "destination_ip",
                     "destination_port", "destination_port_range", "metadata", "not_rule",
                     "requested_server_name", "matcher", "uri_template"});
  rejectUnsupported(node, {"destination_ip", "destination_port_range", "metadata",
                           "requested_server_name", "matcher", "uri_template"});
  const std::string_view kind = node.oneOf(
      {"and_rules", "or_rules", "any", "header", "url_path", "destination_port", "not_rule"});
  const ConfigNode value = node.required(kind);
  if (kind == "and_rules" || kind == "or_rules") {
    value.expectFields({"rules"});
    std::vector<MatcherPtr> rules = parseEach(nonEmptyList(value, "rules"), scope, parsePermission);
    return kind == "and_rules" ? allOf(std::move(rules)) : anyOf(std::move(rules));
  }
  if (kind == "any") {
    requireTrue(value);
    return anyMatcher();
  }
  if (kind == "header" || kind == "url_path") requireHttpScope(value, kind, scope);
  if (kind == "header") return parseHeader(value);
  if (kind == "url_path") return parseUrlPath(value);
  if (kind == "destination_port") {
    const uint32_t port = value.asUint32();
    if (port > 65535) value.fail("port must be at most 65535");
    return destinationPortMatcher(port);
  }
  return negated(parsePermission(value, scope));  // not_rule
}

// envoy.config.rbac.v3.Principal
MatcherPtr parsePrincipal(const ConfigNode& node, RuleScope scope) {
  node.expectFields({"and_ids", "or_ids", "any", "authenticated", "source_ip", "direct_remote_ip",
                     "remote_ip", "header", "url_path", "metadata", "filter_state", "not_id",
                     "sourced_metadata", "custom"});
  rejectUnsupported(node, {"metadata", "filter_state", "sourced_metadata", "custom"});
  const std::string_view kind =
      node.oneOf({"and_ids", "or_ids", "any", "authenticated", "source_ip", "direct_remote_ip",
                  "remote_ip", "header", "url_path", "not_id"});
  const ConfigNode value = node.required(kind);
  if (kind == "and_ids" || kind == "or_ids") {
    value.expectFields({"ids"});
    std::vector<MatcherPtr> ids = parseEach(nonEmptyList(value, "ids"), scope, parsePrincipal);
    return kind == "and_ids" ? allOf(std::move(ids)) : anyOf(std::move(ids));
  }
  if (kind == "any") {
    requireTrue(value);
    return anyMatcher();
  }
  if (kind == "authenticated") {
    value.expectFields({"principal_name"});
    std::optional<router::StringMatcher> principal_name;
    if (std::optional<ConfigNode> name = value.field("principal_name")) {
      principal_name.emplace(parseStringMatcher(*name));
    }
    return authenticatedMatcher(std::move(principal_name));
  }
  // source_ip (deprecated) is the connection's peer, as direct_remote_ip: Remora has no
  // PROXY protocol to make them differ.
  if (kind == "source_ip" || kind == "direct_remote_ip") {
    return remoteIpMatcher(parseCidrRange(value), IpSource::DirectRemote);
  }
  if (kind == "remote_ip") return remoteIpMatcher(parseCidrRange(value), IpSource::Remote);
  if (kind == "header" || kind == "url_path") requireHttpScope(value, kind, scope);
  if (kind == "header") return parseHeader(value);
  if (kind == "url_path") return parseUrlPath(value);
  return negated(parsePrincipal(value, scope));  // not_id
}

// envoy.config.rbac.v3.Policy
Policy parsePolicy(std::string name, const ConfigNode& node, RuleScope scope) {
  node.expectFields({"permissions", "principals", "condition", "checked_condition"});
  rejectUnsupported(node, {"condition", "checked_condition"});
  Policy policy{.name = std::move(name)};
  policy.permissions = anyOf(parseEach(nonEmptyList(node, "permissions"), scope, parsePermission));
  policy.principals = anyOf(parseEach(nonEmptyList(node, "principals"), scope, parsePrincipal));
  return policy;
}

// envoy.config.rbac.v3.RBAC
Engine parseRules(const ConfigNode& node, RuleScope scope) {
  node.expectFields({"action", "policies", "audit_logging_options"});
  rejectUnsupported(node, {"audit_logging_options"});
  Engine::Action action = Engine::Action::Allow;
  if (std::optional<ConfigNode> action_node = node.field("action")) {
    if (action_node->isScalar() && action_node->asString() == "LOG") {
      action_node->fail("action LOG is not supported");
    }
    action = action_node->asEnum<Engine::Action>(
        {{"ALLOW", Engine::Action::Allow}, {"DENY", Engine::Action::Deny}});
  }
  std::vector<Policy> policies;
  if (std::optional<ConfigNode> map = node.field("policies")) {
    if (!map->isMap()) map->fail("expected a mapping of policy names to policies");
    std::set<std::string, std::less<>> names;
    for (auto it = map->yaml().begin(); it != map->yaml().end(); ++it) {
      std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
      // yaml-cpp keeps both entries of a repeated key but lookups see only the first.
      if (!names.insert(name).second) map->fail("duplicate policy '" + name + "'");
      const std::optional<ConfigNode> policy = map->field(name);
      if (!policy) map->fail("policy '" + name + "' must be a mapping");
      policies.push_back(parsePolicy(std::move(name), *policy, scope));
    }
  }
  return Engine(action, std::move(policies));
}

// The `rules` and `shadow_rules` both RBAC filters share.
RbacConfig parseRuleSets(const ConfigNode& typed_config, RuleScope scope) {
  RbacConfig config;
  if (std::optional<ConfigNode> rules = typed_config.field("rules")) {
    config.rules.emplace(parseRules(*rules, scope));
  }
  if (std::optional<ConfigNode> shadow = typed_config.field("shadow_rules")) {
    config.shadow_rules.emplace(parseRules(*shadow, scope));
  }
  return config;
}

}  // namespace

RbacConfig parseRbacConfig(const ConfigNode& typed_config) {
  if (!typed_config.valid()) return {};  // Envoy accepts an empty RBAC: no rules
  typed_config.expectFields({"@type", "rules", "rules_stat_prefix", "matcher", "shadow_rules",
                             "shadow_rules_stat_prefix", "shadow_matcher", "track_per_rule_stats"});
  rejectUnsupported(typed_config, {"matcher", "shadow_matcher", "track_per_rule_stats"});
  RbacConfig config = parseRuleSets(typed_config, RuleScope::Http);
  config.rules_stat_prefix = typed_config.stringOr("rules_stat_prefix", "");
  config.shadow_rules_stat_prefix = typed_config.stringOr("shadow_rules_stat_prefix", "");
  return config;
}

NetworkRbacConfig parseNetworkRbacConfig(const ConfigNode& typed_config) {
  typed_config.expectFields({"@type", "stat_prefix", "rules", "matcher", "shadow_rules",
                             "shadow_matcher", "shadow_rules_stat_prefix", "enforcement_type",
                             "delay_deny"});
  rejectUnsupported(typed_config, {"matcher", "shadow_matcher", "delay_deny"});
  const ConfigNode stat_prefix = typed_config.required("stat_prefix");
  NetworkRbacConfig config{.stat_prefix = stat_prefix.asString()};
  if (config.stat_prefix.empty()) stat_prefix.fail("stat_prefix must not be empty");
  if (std::optional<ConfigNode> enforcement = typed_config.field("enforcement_type")) {
    if (enforcement->isScalar() && enforcement->asString() == "CONTINUOUS") {
      enforcement->fail("enforcement_type CONTINUOUS is not supported");
    }
    // The one value left; asEnum reports any other.
    enforcement->asEnum<bool>({{"ONE_TIME_ON_FIRST_BYTE", true}});
  }
  config.rules = parseRuleSets(typed_config, RuleScope::Network);
  config.rules.shadow_rules_stat_prefix = typed_config.stringOr("shadow_rules_stat_prefix", "");
  return config;
}

FilterFactoryCb RbacFactory::createFilterFactory(const ConfigNode& typed_config,
                                                 const FilterFactoryContext& context) const {
  auto config = std::make_shared<const RbacConfig>(parseRbacConfig(typed_config));
  stats::Scope<stats::RbacStats>& stats = context.store.httpRbacScope(
      context.stat_prefix, config->rules_stat_prefix, config->shadow_rules_stat_prefix);
  return [config, &stats](FilterContext& filter_context) {
    return std::make_unique<RbacFilter>(config, stats.shard(filter_context.resources.thread_index));
  };
}

}  // namespace remora::filters::rbac
