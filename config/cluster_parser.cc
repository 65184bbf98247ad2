// config.cluster.v3.Cluster with an inline load_assignment.
#include "config/parsers.h"

namespace remora::config::detail {
namespace {

LbEndpoint parseLbEndpoint(const ConfigNode& node, const ParseContext& ctx,
                           Cluster::DiscoveryType type) {
  checkFields(node, ctx, {"endpoint", "load_balancing_weight"});
  LbEndpoint result;
  const ConfigNode endpoint = node.required("endpoint");
  checkFields(endpoint, ctx, {"address"});
  const ConfigNode address = endpoint.required("address");
  result.address = parseAddress(address, ctx);
  if (type == Cluster::DiscoveryType::Static && !isIpLiteral(result.address.address)) {
    address.required("socket_address")
        .required("address")
        .fail("STATIC cluster endpoints must be IP addresses, got \"" + result.address.address +
              "\"");
  }
  if (std::optional<ConfigNode> weight = node.field("load_balancing_weight")) {
    result.load_balancing_weight = weight->asUint32();
    if (result.load_balancing_weight < 1) weight->fail("load_balancing_weight must be at least 1");
  }
  return result;
}

void parseLoadAssignment(const ConfigNode& node, const ParseContext& ctx, Cluster& cluster) {
  checkFields(node, ctx, {"cluster_name", "endpoints"});
  const ConfigNode cluster_name = node.required("cluster_name");
  if (cluster_name.asString().empty()) cluster_name.fail("cluster_name must not be empty");
  if (std::optional<ConfigNode> endpoints = node.field("endpoints")) {
    for (const ConfigNode& locality : endpoints->elements()) {
      checkFields(locality, ctx, {"lb_endpoints"});
      if (std::optional<ConfigNode> lb_endpoints = locality.field("lb_endpoints")) {
        for (const ConfigNode& lb_endpoint : lb_endpoints->elements()) {
          cluster.endpoints.push_back(parseLbEndpoint(lb_endpoint, ctx, cluster.type));
        }
      }
    }
  }
  if (cluster.type == Cluster::DiscoveryType::LogicalDns && cluster.endpoints.size() != 1) {
    node.fail("LOGICAL_DNS clusters must have exactly one endpoint, found " +
              std::to_string(cluster.endpoints.size()));
  }
}

}  // namespace

Cluster parseCluster(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(
      node, ctx,
      {"name", "type", "connect_timeout", "lb_policy", "load_assignment", "dns_refresh_rate",
       "dns_lookup_family", "per_connection_buffer_limit_bytes", "common_http_protocol_options"},
      {"health_checks", "circuit_breakers", "outlier_detection", "typed_extension_protocol_options",
       "transport_socket"});
  Cluster cluster;
  const ConfigNode name = node.required("name");
  cluster.name = name.asString();
  if (cluster.name.empty()) name.fail("cluster name must not be empty");
  if (std::optional<ConfigNode> type = node.field("type")) {
    using Type = Cluster::DiscoveryType;
    cluster.type = type->asEnum<Type>({{"STATIC", Type::Static},
                                       {"STRICT_DNS", Type::StrictDns},
                                       {"LOGICAL_DNS", Type::LogicalDns}});
  }
  if (std::optional<ConfigNode> timeout = node.field("connect_timeout")) {
    cluster.connect_timeout = timeout->asDuration();
    if (cluster.connect_timeout.count() == 0) timeout->fail("connect_timeout must be above 0s");
  }
  if (std::optional<ConfigNode> policy = node.field("lb_policy")) {
    using Policy = Cluster::LbPolicy;
    cluster.lb_policy =
        policy->asEnum<Policy>({{"ROUND_ROBIN", Policy::RoundRobin}, {"RANDOM", Policy::Random}});
  }
  if (std::optional<ConfigNode> assignment = node.field("load_assignment")) {
    parseLoadAssignment(*assignment, ctx, cluster);
  } else if (cluster.type == Cluster::DiscoveryType::LogicalDns) {
    node.required("load_assignment");
  }
  if (std::optional<ConfigNode> refresh = node.field("dns_refresh_rate")) {
    cluster.dns_refresh_rate = refresh->asDuration();
    if (cluster.dns_refresh_rate.count() == 0) refresh->fail("dns_refresh_rate must be above 0s");
  }
  if (std::optional<ConfigNode> family = node.field("dns_lookup_family")) {
    using Family = Cluster::DnsLookupFamily;
    cluster.dns_lookup_family = family->asEnum<Family>({{"AUTO", Family::Auto},
                                                        {"V4_ONLY", Family::V4Only},
                                                        {"V6_ONLY", Family::V6Only},
                                                        {"V4_PREFERRED", Family::V4Preferred},
                                                        {"ALL", Family::All}});
  }
  cluster.per_connection_buffer_limit_bytes =
      node.uint32Or("per_connection_buffer_limit_bytes", cluster.per_connection_buffer_limit_bytes);
  if (std::optional<ConfigNode> options = node.field("common_http_protocol_options")) {
    checkFields(*options, ctx, {"idle_timeout"});
    cluster.idle_timeout = options->durationOr("idle_timeout", cluster.idle_timeout);
  }
  cluster.source = node;
  return cluster;
}

}  // namespace remora::config::detail
