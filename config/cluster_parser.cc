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

// typed_extension_protocol_options with
// envoy.extensions.upstreams.http.v3.HttpProtocolOptions: which protocol to speak
// upstream.
void parseUpstreamProtocolOptions(const ConfigNode& node, const ParseContext& ctx,
                                  Cluster& cluster) {
  constexpr std::string_view kName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  checkFields(node, ctx, {kName});
  const ConfigNode options = node.required(kName);
  checkFields(options, ctx,
              {"@type", "explicit_http_config", "use_downstream_protocol_config",
               "common_http_protocol_options"},
              {"auto_config", "upstream_http_protocol_options", "http_filters"});
  const std::string type = options.stringOr("@type", "");
  if (type != "type.googleapis.com/" + std::string(kName)) {
    options.fail("@type must be type.googleapis.com/" + std::string(kName));
  }
  if (std::optional<ConfigNode> common = options.field("common_http_protocol_options")) {
    checkFields(*common, ctx, {"idle_timeout"});
    cluster.idle_timeout = common->durationOr("idle_timeout", cluster.idle_timeout);
  }
  const std::string_view kind =
      options.oneOf({"explicit_http_config", "use_downstream_protocol_config"});
  const ConfigNode config = options.required(kind);
  checkFields(config, ctx, {"http_protocol_options", "http2_protocol_options"},
              {"http3_protocol_options"});
  if (kind == "use_downstream_protocol_config") {
    // Both protocols may be used, each with its options (defaults when absent).
    cluster.use_downstream_protocol = true;
    if (std::optional<ConfigNode> http1 = config.field("http_protocol_options")) {
      checkFields(*http1, ctx, {});
    }
    if (std::optional<ConfigNode> http2 = config.field("http2_protocol_options")) {
      cluster.http2_options = parseHttp2ProtocolOptions(*http2, ctx);
    }
    return;
  }
  const std::string_view protocol =
      config.oneOf({"http_protocol_options", "http2_protocol_options"});
  if (protocol == "http2_protocol_options") {
    cluster.http2 = true;
    if (std::optional<ConfigNode> http2 = config.field(protocol)) {
      cluster.http2_options = parseHttp2ProtocolOptions(*http2, ctx);
    }
  } else if (std::optional<ConfigNode> http1 = config.field(protocol)) {
    checkFields(*http1, ctx, {});
  }
}

}  // namespace

Cluster parseCluster(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(
      node, ctx,
      {"name", "type", "connect_timeout", "lb_policy", "load_assignment", "dns_refresh_rate",
       "dns_lookup_family", "per_connection_buffer_limit_bytes", "common_http_protocol_options",
       "typed_extension_protocol_options", "http2_protocol_options", "transport_socket"},
      {"health_checks", "circuit_breakers", "outlier_detection"});
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
  if (std::optional<ConfigNode> options = node.field("typed_extension_protocol_options")) {
    parseUpstreamProtocolOptions(*options, ctx, cluster);
  }
  if (std::optional<ConfigNode> transport = node.field("transport_socket")) {
    cluster.transport_socket = parseTransportSocket(*transport, ctx);
  }
  if (std::optional<ConfigNode> http2 = node.field("http2_protocol_options")) {
    // The v3 cluster-level field (deprecated by Envoy, still accepted there).
    cluster.http2 = true;
    cluster.http2_options = parseHttp2ProtocolOptions(*http2, ctx);
  }
  cluster.source = node;
  return cluster;
}

}  // namespace remora::config::detail
