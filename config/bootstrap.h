// Typed configuration, parsed once from Envoy v3 YAML/JSON (see config_loader.h).
// Field names mirror Envoy's protos so a reader can map one to the other; the data
// plane reads only these structs, never YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config_node.h"

namespace remora::config {

using Duration = std::chrono::milliseconds;

struct SocketAddress {
  std::string address;
  uint32_t port_value = 0;
};

// envoy.type.matcher.v3.StringMatcher
struct StringMatcher {
  enum class Kind { Exact, Prefix, Suffix, Contains, SafeRegex };
  Kind kind = Kind::Exact;
  std::string value;  // the literal, or the RE2 pattern for SafeRegex
  bool ignore_case = false;
};

// config.route.v3.HeaderMatcher (string_match, present_match, invert_match, and the
// older exact_match/prefix_match/... forms, which map onto string_match).
struct HeaderMatcher {
  std::string name;
  std::optional<StringMatcher> string_match;  // absent: present_match
  bool present_match = true;
  bool invert_match = false;
  bool treat_missing_header_as_empty = false;
};

// config.route.v3.QueryParameterMatcher
struct QueryParameterMatcher {
  std::string name;
  std::optional<StringMatcher> string_match;  // absent: present_match
  bool present_match = true;
};

struct RouteMatch {
  enum class PathKind { Prefix, Path, SafeRegex };
  PathKind path_kind = PathKind::Prefix;
  std::string path_value;  // prefix, exact path, or RE2 pattern
  bool case_sensitive = true;
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParameterMatcher> query_parameters;
};

// config.core.v3.HeaderValueOption
struct HeaderValueOption {
  enum class AppendAction {
    AppendIfExistsOrAdd,
    AddIfAbsent,
    OverwriteIfExistsOrAdd,
    OverwriteIfExists
  };
  std::string key;
  std::string value;
  AppendAction append_action = AppendAction::AppendIfExistsOrAdd;
};

// Header mutations that can appear on a route, a virtual host and a route config.
struct HeaderMutations {
  std::vector<HeaderValueOption> request_headers_to_add;
  std::vector<std::string> request_headers_to_remove;
  std::vector<HeaderValueOption> response_headers_to_add;
  std::vector<std::string> response_headers_to_remove;
};

struct WeightedCluster {
  std::string name;
  uint32_t weight = 0;
  HeaderMutations headers;
};

struct RegexRewrite {
  std::string pattern;  // RE2
  std::string substitution;
};

struct RouteAction {
  std::string cluster;  // set, or weighted_clusters non-empty
  std::vector<WeightedCluster> weighted_clusters;
  std::string runtime_key_prefix;  // weighted_clusters.runtime_key_prefix
  std::string prefix_rewrite;
  std::optional<RegexRewrite> regex_rewrite;
  std::string host_rewrite_literal;
  bool auto_host_rewrite = false;
  Duration timeout = std::chrono::seconds(15);  // 0 disables
  std::optional<Duration> idle_timeout;
};

struct DirectResponseAction {
  uint32_t status = 200;
  std::string body;  // body.inline_string, or the contents of body.filename
};

struct RedirectAction {
  std::string scheme_redirect;  // https_redirect: true sets "https"
  std::string host_redirect;
  uint32_t port_redirect = 0;
  std::string path_redirect;
  std::string prefix_rewrite;
  uint32_t response_code =
      301;  // MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT
  bool strip_query = false;
};

struct Route {
  std::string name;
  std::string stat_prefix;  // opt-in per-route stats: vhost.<vhost>.route.<stat_prefix>.*
  RouteMatch match;
  enum class ActionKind { Route, DirectResponse, Redirect };
  ActionKind action_kind = ActionKind::Route;
  RouteAction route;
  DirectResponseAction direct_response;
  RedirectAction redirect;
  HeaderMutations headers;
  ConfigNode source;  // for errors found after parsing (undefined cluster)
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;
  std::vector<Route> routes;
  HeaderMutations headers;
};

struct RouteConfiguration {
  std::string name;
  std::vector<VirtualHost> virtual_hosts;
  HeaderMutations headers;
};

// An HTTP filter entry: the name and its typed_config, parsed later by the filter
// factory registered under that name (filters/filter_registry.h).
struct HttpFilterEntry {
  std::string name;
  std::string type_url;     // typed_config's @type, empty if there is none
  ConfigNode typed_config;  // the typed_config mapping (null if absent)
  ConfigNode source;
};

// config.accesslog.v3.AccessLog: the logger's name, its typed_config and its filter,
// parsed by telemetry/access_log (the loader keeps the nodes for it).
struct AccessLogEntry {
  std::string name;
  std::string type_url;
  ConfigNode typed_config;
  ConfigNode filter;  // null when absent
  ConfigNode source;
};

// config.core.v3.Http2ProtocolOptions (the subset Remora implements).
struct Http2ProtocolOptions {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_stream_window_size = 64 * 1024;
  uint32_t initial_connection_window_size = 1024 * 1024;
  uint32_t hpack_table_size = 4096;
  uint32_t max_outbound_frames = 10000;
  uint32_t max_outbound_control_frames = 1000;
};

// envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
struct HttpConnectionManager {
  enum class CodecType { Auto, Http1, Http2 };
  std::string stat_prefix;
  CodecType codec_type = CodecType::Auto;
  RouteConfiguration route_config;
  std::vector<HttpFilterEntry> http_filters;
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  std::vector<std::string> upgrade_types;  // upgrade_configs[].upgrade_type, lower-cased
  // common_http_protocol_options
  Duration idle_timeout = std::chrono::hours(1);
  uint32_t max_headers_count = 100;
  // http_protocol_options
  bool accept_http_10 = false;
  std::string default_host_for_http_10;
  Http2ProtocolOptions http2;  // http2_protocol_options
  uint32_t max_request_headers_kb = 60;
  Duration request_headers_timeout{0};  // 0 disables, as in Envoy
  Duration stream_idle_timeout = std::chrono::minutes(5);
  Duration request_timeout{0};
  Duration drain_timeout = std::chrono::seconds(5);
  std::string server_name = "envoy";
  std::vector<AccessLogEntry> access_log;
  ConfigNode source;  // the typed_config, for errors found while building filters
};

// envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
struct TcpProxy {
  std::string stat_prefix;
  std::string cluster;
  std::vector<WeightedCluster> weighted_clusters;
  Duration idle_timeout = std::chrono::hours(1);  // 0 disables
  uint32_t max_connect_attempts = 1;
  std::vector<AccessLogEntry> access_log;
};

// transport_socket {name: envoy.transport_sockets.tls, typed_config}: the
// typed_config is parsed by proxy/network/tls (Downstream/UpstreamTlsContext).
struct TransportSocket {
  ConfigNode typed_config;
};

// config.listener.v3.FilterChainMatch (the subset Remora matches on).
struct FilterChainMatch {
  std::vector<std::string> server_names;  // exact or "*.suffix"; empty matches any
  std::string transport_protocol;         // "tls", "raw_buffer", or empty for any
};

struct FilterChain {
  FilterChainMatch match;
  ConfigNode source;
  // Exactly one terminal network filter per chain in this release.
  std::optional<HttpConnectionManager> http_connection_manager;
  std::optional<TcpProxy> tcp_proxy;
  // envoy.filters.network.rbac's typed_config, ahead of tcp_proxy only; parsed by
  // filters/rbac when the listener is built.
  std::optional<ConfigNode> network_rbac;
  std::optional<TransportSocket> transport_socket;
};

struct Listener {
  std::string name;
  SocketAddress address;
  std::vector<FilterChain> filter_chains;
  // listener_filters: envoy.filters.listener.tls_inspector (SNI and TLS detection).
  bool tls_inspector = false;
  Duration listener_filters_timeout = std::chrono::seconds(15);
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  // POST /drain_listeners?inboundonly drains only INBOUND listeners.
  enum class TrafficDirection { Unspecified, Inbound, Outbound };
  TrafficDirection traffic_direction = TrafficDirection::Unspecified;
  ConfigNode source;
};

struct LbEndpoint {
  SocketAddress address;
  uint32_t load_balancing_weight = 1;
};

struct Cluster {
  enum class DiscoveryType { Static, StrictDns, LogicalDns };
  enum class LbPolicy { RoundRobin, Random };
  enum class DnsLookupFamily { Auto, V4Only, V6Only, V4Preferred, All };
  std::string name;
  DiscoveryType type = DiscoveryType::Static;
  LbPolicy lb_policy = LbPolicy::RoundRobin;
  Duration connect_timeout = std::chrono::seconds(5);
  std::vector<LbEndpoint> endpoints;  // load_assignment.endpoints[].lb_endpoints[]
  Duration dns_refresh_rate = std::chrono::seconds(5);
  DnsLookupFamily dns_lookup_family = DnsLookupFamily::Auto;
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  Duration idle_timeout = std::chrono::hours(1);  // common_http_protocol_options.idle_timeout
  // HTTP/2 to the upstream (typed_extension_protocol_options explicit_http_config).
  bool http2 = false;
  // use_downstream_protocol_config: each request goes up in its downstream's protocol
  // (HTTP/2 with http2_options, HTTP/1.1 otherwise); `http2` is then unused.
  bool use_downstream_protocol = false;
  Http2ProtocolOptions http2_options;
  std::optional<TransportSocket> transport_socket;
  ConfigNode source;
};

struct Admin {
  std::optional<SocketAddress> address;
};

// stats_config.histogram_bucket_settings[]: the first whose match accepts a
// histogram's Envoy name sets its bucket bounds.
struct HistogramBucketSetting {
  StringMatcher match;
  std::vector<double> buckets;
};

// layered_runtime: static_layer values, and whether an admin_layer takes
// POST /runtime_modify overrides.
struct Runtime {
  std::vector<std::pair<std::string, std::string>> static_values;  // flattened "a.b.c" keys
  bool has_admin_layer = false;
};

struct Bootstrap {
  ConfigNode root;  // the whole document, for /config_dump
  std::vector<HistogramBucketSetting> histogram_bucket_settings;
  Runtime runtime;
  std::string node_id;
  std::string node_cluster;
  std::vector<Listener> listeners;
  std::vector<Cluster> clusters;
  Admin admin;
};

}  // namespace remora::config
