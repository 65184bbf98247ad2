// config.listener.v3.Listener and its network filters: the terminal
// http_connection_manager or tcp_proxy, optionally after envoy.filters.network.rbac.
#include <algorithm>
#include <cctype>

#include "config/parsers.h"

namespace remora::config::detail {
namespace {

constexpr std::string_view kHttpConnectionManagerName =
    "envoy.filters.network.http_connection_manager";
constexpr std::string_view kHttpConnectionManagerType =
    "type.googleapis.com/"
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr std::string_view kTcpProxyName = "envoy.filters.network.tcp_proxy";
constexpr std::string_view kTcpProxyType =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr std::string_view kNetworkRbacName = "envoy.filters.network.rbac";
constexpr std::string_view kNetworkRbacType =
    "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";

void parseHttpFilters(const ConfigNode& node, const ParseContext& ctx,
                      std::vector<HttpFilterEntry>& filters) {
  for (const ConfigNode& element : node.elements()) {
    checkFields(element, ctx, {"name", "typed_config"});
    HttpFilterEntry entry;
    const ConfigNode name = element.required("name");
    entry.name = name.asString();
    if (entry.name.empty()) name.fail("filter name must not be empty");
    if (std::optional<ConfigNode> typed_config = element.field("typed_config")) {
      entry.type_url = typed_config->required("@type").asString();
      entry.typed_config = *typed_config;
    }
    entry.source = element;
    filters.push_back(std::move(entry));
  }
}

// config.accesslog.v3.AccessLog entries; telemetry/access_log parses typed_config and
// filter when it builds the loggers.
std::vector<AccessLogEntry> parseAccessLogs(const ConfigNode& node, const ParseContext& ctx) {
  std::vector<AccessLogEntry> entries;
  for (const ConfigNode& element : node.elements()) {
    checkFields(element, ctx, {"name", "typed_config", "filter"});
    AccessLogEntry entry;
    const ConfigNode name = element.required("name");
    entry.name = name.asString();
    if (entry.name.empty()) name.fail("access log name must not be empty");
    if (std::optional<ConfigNode> typed_config = element.field("typed_config")) {
      entry.type_url = typed_config->required("@type").asString();
      entry.typed_config = *typed_config;
    }
    if (std::optional<ConfigNode> filter = element.field("filter")) entry.filter = *filter;
    entry.source = element;
    entries.push_back(std::move(entry));
  }
  return entries;
}

HttpConnectionManager parseHttpConnectionManager(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx,
              {"@type",
               "stat_prefix",
               "codec_type",
               "route_config",
               "http_filters",
               "use_remote_address",
               "xff_num_trusted_hops",
               "skip_xff_append",
               "generate_request_id",
               "preserve_external_request_id",
               "upgrade_configs",
               "common_http_protocol_options",
               "http_protocol_options",
               "http2_protocol_options",
               "max_request_headers_kb",
               "request_headers_timeout",
               "stream_idle_timeout",
               "request_timeout",
               "drain_timeout",
               "server_name",
               "access_log"},
              {"rds", "tracing"});
  HttpConnectionManager hcm;
  hcm.stat_prefix = node.required("stat_prefix").asString();
  if (std::optional<ConfigNode> codec = node.field("codec_type")) {
    using Codec = HttpConnectionManager::CodecType;
    hcm.codec_type = codec->asEnum<Codec>(
        {{"AUTO", Codec::Auto}, {"HTTP1", Codec::Http1}, {"HTTP2", Codec::Http2}});
  }
  hcm.route_config = parseRouteConfiguration(node.required("route_config"), ctx);
  if (std::optional<ConfigNode> filters = node.field("http_filters")) {
    parseHttpFilters(*filters, ctx, hcm.http_filters);
  }
  hcm.use_remote_address = node.boolOr("use_remote_address", hcm.use_remote_address);
  hcm.xff_num_trusted_hops = node.uint32Or("xff_num_trusted_hops", hcm.xff_num_trusted_hops);
  hcm.skip_xff_append = node.boolOr("skip_xff_append", hcm.skip_xff_append);
  hcm.generate_request_id = node.boolOr("generate_request_id", hcm.generate_request_id);
  hcm.preserve_external_request_id =
      node.boolOr("preserve_external_request_id", hcm.preserve_external_request_id);
  if (std::optional<ConfigNode> upgrades = node.field("upgrade_configs")) {
    for (const ConfigNode& upgrade : upgrades->elements()) {
      checkFields(upgrade, ctx, {"upgrade_type"});
      std::string type = upgrade.required("upgrade_type").asString();
      // Upgrade tokens compare case-insensitively (RFC 9110 section 7.8).
      std::transform(type.begin(), type.end(), type.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      hcm.upgrade_types.push_back(std::move(type));
    }
  }
  if (std::optional<ConfigNode> common = node.field("common_http_protocol_options")) {
    checkFields(*common, ctx, {"idle_timeout", "max_headers_count"});
    hcm.idle_timeout = common->durationOr("idle_timeout", hcm.idle_timeout);
    if (std::optional<ConfigNode> count = common->field("max_headers_count")) {
      hcm.max_headers_count = count->asUint32();
      if (hcm.max_headers_count < 1) count->fail("max_headers_count must be at least 1");
    }
  }
  if (std::optional<ConfigNode> http1 = node.field("http_protocol_options")) {
    checkFields(*http1, ctx, {"accept_http_10", "default_host_for_http_10"});
    hcm.accept_http_10 = http1->boolOr("accept_http_10", false);
    hcm.default_host_for_http_10 = headerTextOr(*http1, "default_host_for_http_10", "");
  }
  if (std::optional<ConfigNode> http2 = node.field("http2_protocol_options")) {
    hcm.http2 = parseHttp2ProtocolOptions(*http2, ctx);
  }
  if (std::optional<ConfigNode> kb = node.field("max_request_headers_kb")) {
    hcm.max_request_headers_kb = kb->asUint32();
    if (hcm.max_request_headers_kb < 1 || hcm.max_request_headers_kb > 8192) {
      kb->fail("max_request_headers_kb must be in 1..8192");
    }
  }
  hcm.request_headers_timeout =
      node.durationOr("request_headers_timeout", hcm.request_headers_timeout);
  hcm.stream_idle_timeout = node.durationOr("stream_idle_timeout", hcm.stream_idle_timeout);
  hcm.request_timeout = node.durationOr("request_timeout", hcm.request_timeout);
  hcm.drain_timeout = node.durationOr("drain_timeout", hcm.drain_timeout);
  hcm.server_name = headerTextOr(node, "server_name", hcm.server_name);
  if (std::optional<ConfigNode> logs = node.field("access_log")) {
    hcm.access_log = parseAccessLogs(*logs, ctx);
  }
  hcm.source = node;
  return hcm;
}

TcpProxy parseTcpProxy(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx,
              {"@type", "stat_prefix", "cluster", "weighted_clusters", "idle_timeout",
               "max_connect_attempts", "access_log"});
  TcpProxy proxy;
  proxy.stat_prefix = node.required("stat_prefix").asString();
  if (node.oneOf({"cluster", "weighted_clusters"}) == "cluster") {
    proxy.cluster = parseClusterReference(node.required("cluster"), ctx);
  } else {
    const ConfigNode weighted = node.required("weighted_clusters");
    checkFields(weighted, ctx, {"clusters"});
    const std::vector<ConfigNode> clusters = weighted.required("clusters").elements();
    if (clusters.empty()) weighted.required("clusters").fail("at least one cluster is required");
    uint64_t total_weight = 0;
    for (const ConfigNode& entry : clusters) {
      checkFields(entry, ctx, {"name", "weight"});
      WeightedCluster cluster;
      cluster.name = parseClusterReference(entry.required("name"), ctx);
      cluster.weight = entry.uint32Or("weight", 0);
      total_weight += cluster.weight;
      proxy.weighted_clusters.push_back(std::move(cluster));
    }
    if (total_weight == 0) weighted.fail("the cluster weights sum to 0");
  }
  proxy.idle_timeout = node.durationOr("idle_timeout", proxy.idle_timeout);
  if (std::optional<ConfigNode> attempts = node.field("max_connect_attempts")) {
    proxy.max_connect_attempts = attempts->asUint32();
    if (proxy.max_connect_attempts < 1) attempts->fail("max_connect_attempts must be at least 1");
  }
  if (std::optional<ConfigNode> logs = node.field("access_log")) {
    proxy.access_log = parseAccessLogs(*logs, ctx);
  }
  return proxy;
}

// The network filter's name, one of those Remora implements.
std::string networkFilterName(const ConfigNode& filter, const ParseContext& ctx) {
  checkFields(filter, ctx, {"name", "typed_config"});
  const ConfigNode name_node = filter.required("name");
  std::string name = name_node.asString();
  if (name != kHttpConnectionManagerName && name != kTcpProxyName && name != kNetworkRbacName) {
    name_node.fail("unknown network filter '" + name +
                   "' (supported: " + std::string(kHttpConnectionManagerName) + ", " +
                   std::string(kTcpProxyName) + ", " + std::string(kNetworkRbacName) + ")");
  }
  return name;
}

// The filter's typed_config, whose @type must be the one of the filter's name.
ConfigNode networkFilterTypedConfig(const ConfigNode& filter, const std::string& name) {
  const ConfigNode typed_config = filter.required("typed_config");
  const ConfigNode type_node = typed_config.required("@type");
  const std::string_view expected_type = name == kHttpConnectionManagerName
                                             ? kHttpConnectionManagerType
                                         : name == kTcpProxyName ? kTcpProxyType
                                                                 : kNetworkRbacType;
  if (type_node.asString() != expected_type) {
    type_node.fail("@type '" + type_node.asString() + "' does not match filter '" + name +
                   "' (expected '" + std::string(expected_type) + "')");
  }
  return typed_config;
}

FilterChain parseFilterChain(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"name", "filters", "transport_socket", "filter_chain_match"});
  node.stringOr("name", "");  // type-checked only: nothing refers to a chain by name yet
  const ConfigNode filters = node.required("filters");
  const std::vector<ConfigNode> elements = filters.elements();
  if (elements.empty() || elements.size() > 2) {
    filters.fail(
        "a filter chain takes one terminal network filter (http_connection_manager or "
        "tcp_proxy), optionally preceded by " +
        std::string(kNetworkRbacName) + ", found " + std::to_string(elements.size()) + " filters");
  }
  const ConfigNode& terminal = elements.back();
  const std::string name = networkFilterName(terminal, ctx);
  if (name == kNetworkRbacName) {
    terminal.required("name").fail(std::string(kNetworkRbacName) + " must be followed by " +
                                   std::string(kTcpProxyName));
  }
  const bool is_hcm = name == kHttpConnectionManagerName;
  FilterChain chain;
  if (elements.size() == 2) {
    const ConfigNode& first = elements.front();
    const std::string first_name = networkFilterName(first, ctx);
    if (first_name != kNetworkRbacName) {
      first.required("name").fail("'" + first_name +
                                  "' is a terminal filter and must be the chain's last");
    }
    if (is_hcm) {
      first.required("name").fail(
          std::string(kNetworkRbacName) + " in front of " +
          std::string(kHttpConnectionManagerName) +
          " is not supported (use envoy.filters.http.rbac in its http_filters)");
    }
    chain.network_rbac = networkFilterTypedConfig(first, first_name);
  }
  const ConfigNode typed_config = networkFilterTypedConfig(terminal, name);
  if (is_hcm) {
    chain.http_connection_manager = parseHttpConnectionManager(typed_config, ctx);
  } else {
    chain.tcp_proxy = parseTcpProxy(typed_config, ctx);
  }
  if (std::optional<ConfigNode> transport = node.field("transport_socket")) {
    chain.transport_socket = parseTransportSocket(*transport, ctx);
  }
  if (std::optional<ConfigNode> match = node.field("filter_chain_match")) {
    checkFields(*match, ctx, {"server_names", "transport_protocol"},
                {"destination_port", "prefix_ranges", "source_prefix_ranges", "source_ports",
                 "application_protocols", "direct_source_prefix_ranges", "source_type"});
    if (std::optional<ConfigNode> names = match->field("server_names")) {
      for (const ConfigNode& name : names->elements()) {
        std::string value = name.asString();
        if (value.empty() || (value.find('*') != std::string::npos && !value.starts_with("*."))) {
          name.fail("server name must be a host name or \"*.\" followed by a domain");
        }
        std::transform(value.begin(), value.end(), value.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        chain.match.server_names.push_back(std::move(value));
      }
    }
    if (std::optional<ConfigNode> transport = match->field("transport_protocol")) {
      chain.match.transport_protocol = transport->asString();
      if (chain.match.transport_protocol != "tls" &&
          chain.match.transport_protocol != "raw_buffer") {
        transport->fail("transport_protocol must be \"tls\" or \"raw_buffer\"");
      }
    }
  }
  chain.source = node;
  return chain;
}

}  // namespace

Listener parseListener(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(
      node, ctx,
      {"name", "address", "filter_chains", "per_connection_buffer_limit_bytes", "enable_reuse_port",
       "traffic_direction", "listener_filters", "listener_filters_timeout"},
      {"access_log"});
  Listener listener;
  const ConfigNode address = node.required("address");
  listener.address = parseAddress(address, ctx);
  const ConfigNode ip = address.required("socket_address").required("address");
  if (!isIpLiteral(listener.address.address)) {
    ip.fail("listener address must be an IP address, got \"" + listener.address.address + "\"");
  }
  // Envoy names an unnamed listener itself; the address keeps the name readable.
  listener.name = node.stringOr(
      "name", listener.address.address + "_" + std::to_string(listener.address.port_value));
  const ConfigNode chains = node.required("filter_chains");
  for (const ConfigNode& chain : chains.elements()) {
    listener.filter_chains.push_back(parseFilterChain(chain, ctx));
  }
  if (listener.filter_chains.empty()) chains.fail("at least one filter chain is required");
  for (size_t i = 0; i < listener.filter_chains.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const FilterChainMatch& a = listener.filter_chains[i].match;
      const FilterChainMatch& b = listener.filter_chains[j].match;
      if (a.server_names == b.server_names && a.transport_protocol == b.transport_protocol) {
        chains.elements()[i].fail(
            "multiple filter chains with the same matching rules are defined");
      }
    }
  }
  if (std::optional<ConfigNode> filters = node.field("listener_filters")) {
    for (const ConfigNode& filter : filters->elements()) {
      checkFields(filter, ctx, {"name", "typed_config"});
      const ConfigNode name = filter.required("name");
      if (name.asString() != "envoy.filters.listener.tls_inspector") {
        name.fail("unsupported listener filter '" + name.asString() +
                  "' (supported: envoy.filters.listener.tls_inspector)");
      }
      if (std::optional<ConfigNode> typed = filter.field("typed_config")) {
        checkFields(*typed, ctx, {"@type"});
      }
      listener.tls_inspector = true;
    }
  }
  listener.listener_filters_timeout =
      node.durationOr("listener_filters_timeout", listener.listener_filters_timeout);
  listener.per_connection_buffer_limit_bytes = node.uint32Or(
      "per_connection_buffer_limit_bytes", listener.per_connection_buffer_limit_bytes);
  if (std::optional<ConfigNode> reuse_port = node.field("enable_reuse_port")) {
    // Every worker binds its own socket with SO_REUSEPORT; turning that off is not supported.
    if (!reuse_port->asBool()) reuse_port->fail("only 'true' is supported");
  }
  if (std::optional<ConfigNode> direction = node.field("traffic_direction")) {
    listener.traffic_direction = direction->asEnum<Listener::TrafficDirection>(
        {{"UNSPECIFIED", Listener::TrafficDirection::Unspecified},
         {"INBOUND", Listener::TrafficDirection::Inbound},
         {"OUTBOUND", Listener::TrafficDirection::Outbound}});
  }
  listener.source = node;
  return listener;
}

}  // namespace remora::config::detail
