#include "config/config_loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace remora::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kExamplesDir = std::string(REMORA_SOURCE_DIR) + "/config/examples/";

// Line numbers in the expectations below count from the first line of these texts.
constexpr std::string_view kClusterOnly = R"(static_resources:
  clusters:
  - name: app
    connect_timeout: 1s
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
)";

constexpr std::string_view kHttpProxy = R"(static_resources:
  clusters:
  - name: app
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
  listeners:
  - name: http
    address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: app}
)";

// `text` with its only occurrence of `from` replaced by `to`.
std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string result(text);
  const std::size_t at = result.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(result.find(from, at + 1), std::string::npos) << from;
  if (at != std::string::npos) result.replace(at, from.size(), to);
  return result;
}

// The error loading `yaml` gives, or "no error".
std::string loadError(const std::string& yaml) {
  try {
    loadBootstrapString(yaml, "t.yaml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "config_test.XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, std::string_view contents) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }

 private:
  std::string path_;
};

TEST(ConfigLoaderTest, DemoExampleLoads) {
  const Bootstrap bootstrap = loadBootstrapFile(kExamplesDir + "demo.yaml");
  ASSERT_EQ(bootstrap.listeners.size(), 1u);
  const Listener& listener = bootstrap.listeners[0];
  EXPECT_EQ(listener.name, "listener_0");
  EXPECT_EQ(listener.address.address, "0.0.0.0");
  EXPECT_EQ(listener.address.port_value, 10000u);
  ASSERT_EQ(listener.filter_chains.size(), 1u);
  ASSERT_TRUE(listener.filter_chains[0].http_connection_manager.has_value());
  const HttpConnectionManager& hcm = *listener.filter_chains[0].http_connection_manager;
  EXPECT_EQ(hcm.stat_prefix, "ingress_http");
  EXPECT_EQ(hcm.request_headers_timeout, seconds(10));
  ASSERT_EQ(hcm.http_filters.size(), 2u);
  EXPECT_EQ(hcm.http_filters[0].name, "envoy.filters.http.health_check");
  EXPECT_EQ(hcm.http_filters[0].type_url,
            "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck");
  EXPECT_EQ(hcm.http_filters[0].typed_config.required("pass_through_mode").asBool(), false);
  EXPECT_EQ(hcm.http_filters[0].typed_config.path(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]"
            ".typed_config");
  EXPECT_EQ(hcm.http_filters[1].name, "envoy.filters.http.router");
  ASSERT_EQ(hcm.route_config.virtual_hosts.size(), 1u);
  ASSERT_EQ(hcm.route_config.virtual_hosts[0].routes.size(), 1u);
  EXPECT_EQ(hcm.route_config.virtual_hosts[0].routes[0].route.cluster, "demo");
  ASSERT_EQ(bootstrap.clusters.size(), 1u);
  const Cluster& cluster = bootstrap.clusters[0];
  EXPECT_EQ(cluster.name, "demo");
  EXPECT_EQ(cluster.type, Cluster::DiscoveryType::Static);
  EXPECT_EQ(cluster.connect_timeout, milliseconds(250));
  ASSERT_EQ(cluster.endpoints.size(), 1u);
  EXPECT_EQ(cluster.endpoints[0].address.address, "127.0.0.1");
  EXPECT_EQ(cluster.endpoints[0].address.port_value, 8080u);
  ASSERT_TRUE(bootstrap.admin.address.has_value());
  EXPECT_EQ(bootstrap.admin.address->address, "127.0.0.1");
  EXPECT_EQ(bootstrap.admin.address->port_value, 9901u);
}

TEST(ConfigLoaderTest, SidecarExampleLoads) {
  const Bootstrap bootstrap = loadBootstrapFile(kExamplesDir + "sidecar.yaml");
  EXPECT_EQ(bootstrap.node_id, "productpage-sidecar");
  EXPECT_EQ(bootstrap.node_cluster, "productpage");
  ASSERT_EQ(bootstrap.listeners.size(), 2u);
  EXPECT_EQ(bootstrap.listeners[0].address.port_value, 15006u);
  EXPECT_EQ(bootstrap.listeners[1].address.port_value, 15001u);
  const HttpConnectionManager& outbound =
      *bootstrap.listeners[1].filter_chains[0].http_connection_manager;
  const VirtualHost& reviews = outbound.route_config.virtual_hosts[0];
  EXPECT_EQ(reviews.domains, (std::vector<std::string>{"reviews", "reviews:9080"}));
  const RouteAction& split = reviews.routes[0].route;
  ASSERT_EQ(split.weighted_clusters.size(), 2u);
  EXPECT_EQ(split.weighted_clusters[0].name, "reviews-v1");
  EXPECT_EQ(split.weighted_clusters[0].weight, 90u);
  EXPECT_EQ(split.weighted_clusters[1].name, "reviews-v2");
  EXPECT_EQ(split.weighted_clusters[1].weight, 10u);
  const Cluster& v2 = bootstrap.clusters[2];
  EXPECT_EQ(v2.name, "reviews-v2");
  EXPECT_EQ(v2.type, Cluster::DiscoveryType::StrictDns);
  EXPECT_EQ(v2.dns_lookup_family, Cluster::DnsLookupFamily::V4Only);
  EXPECT_EQ(v2.endpoints[0].address.address, "localhost");
  const Route& fallback = outbound.route_config.virtual_hosts[2].routes[0];
  EXPECT_EQ(fallback.action_kind, Route::ActionKind::DirectResponse);
  EXPECT_EQ(fallback.direct_response.status, 404u);
}

TEST(ConfigLoaderTest, TcpProxyExampleLoads) {
  const Bootstrap bootstrap = loadBootstrapFile(kExamplesDir + "tcp_proxy.yaml");
  ASSERT_EQ(bootstrap.listeners.size(), 1u);
  EXPECT_EQ(bootstrap.listeners[0].address.port_value, 10001u);
  const std::optional<TcpProxy>& proxy = bootstrap.listeners[0].filter_chains[0].tcp_proxy;
  ASSERT_TRUE(proxy.has_value());
  EXPECT_EQ(proxy->stat_prefix, "redis_tcp");
  EXPECT_EQ(proxy->cluster, "redis");
  EXPECT_EQ(proxy->idle_timeout, seconds(600));
  EXPECT_EQ(bootstrap.clusters[0].endpoints[0].address.port_value, 6379u);
}

TEST(ConfigLoaderTest, FileErrorsNameTheFile) {
  TempDir dir;
  const std::string path = dir.write("bad.yaml", replaced(kClusterOnly, "1s", "5x"));
  try {
    loadBootstrapFile(path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              path +
                  ":4:22: static_resources.clusters[0].connect_timeout: invalid duration "
                  "\"5x\" (expected e.g. \"0.25s\")");
  }
}

TEST(ConfigLoaderTest, MissingFile) {
  try {
    loadBootstrapFile("/nonexistent/remora.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/remora.yaml: cannot open: No such file or directory");
  }
}

TEST(ConfigLoaderTest, YamlSyntaxError) {
  EXPECT_EQ(loadError("admin:\n  address: a: b\n"), "t.yaml:2:13: invalid YAML: illegal map value");
}

TEST(ConfigLoaderTest, EmptyDocument) {
  EXPECT_EQ(loadError(""), "t.yaml: <root>: the configuration is empty");
}

TEST(ConfigLoaderTest, UnknownField) {
  EXPECT_EQ(loadError(replaced(kClusterOnly, "    connect_timeout: 1s\n",
                               "    connect_timeout: 1s\n    foo: 1\n")),
            "t.yaml:5:5: static_resources.clusters[0].foo: unknown field 'foo'");
  EXPECT_EQ(loadError("statics_resources: {}\n"),
            "t.yaml:1:1: statics_resources: unknown field 'statics_resources'");
}

TEST(ConfigLoaderTest, UnsupportedField) {
  EXPECT_EQ(loadError(replaced(kClusterOnly, "    connect_timeout: 1s\n",
                               "    connect_timeout: 1s\n    health_checks: []\n")),
            "t.yaml:5:5: static_resources.clusters[0].health_checks: unsupported field "
            "'health_checks'");
  EXPECT_EQ(loadError(replaced(kHttpProxy, "          route_config:\n",
                               "          rds: {route_config_name: x}\n          route_config:\n")),
            "t.yaml:18:11: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "rds: unsupported field 'rds'");
  EXPECT_EQ(loadError(replaced(kHttpProxy, "                route: {cluster: app}",
                               "                route: {cluster: app, retry_policy: {}}")),
            "t.yaml:24:39: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].routes[0].route.retry_policy: unsupported field "
            "'retry_policy'");
}

TEST(ConfigLoaderTest, WrongType) {
  EXPECT_EQ(loadError(replaced(kClusterOnly, "port_value: 8080", "port_value: abc")),
            "t.yaml:9:81: static_resources.clusters[0].load_assignment.endpoints[0]"
            ".lb_endpoints[0].endpoint.address.socket_address.port_value: expected a non-negative "
            "integer, got \"abc\"");
  EXPECT_EQ(loadError("static_resources:\n  clusters: {name: x}\n"),
            "t.yaml:2:13: static_resources.clusters: expected a list, got a mapping");
}

TEST(ConfigLoaderTest, MissingRequiredField) {
  EXPECT_EQ(loadError(replaced(kClusterOnly, "  - name: app\n    connect_timeout",
                               "  - connect_timeout")),
            "t.yaml:3:5: static_resources.clusters[0].name: missing required field 'name'");
  EXPECT_EQ(loadError(replaced(kHttpProxy, "stat_prefix: ingress", "codec_type: AUTO")),
            "t.yaml:16:11: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "stat_prefix: missing required field 'stat_prefix'");
}

TEST(ConfigLoaderTest, BadEnum) {
  EXPECT_EQ(loadError(replaced(kClusterOnly, "    connect_timeout: 1s\n",
                               "    lb_policy: LEAST_REQUEST\n")),
            "t.yaml:4:16: static_resources.clusters[0].lb_policy: invalid value \"LEAST_REQUEST\" "
            "(expected one of: ROUND_ROBIN, RANDOM)");
}

TEST(ConfigLoaderTest, UndefinedClusterInRoute) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "{cluster: app}", "{cluster: nope}")),
            "t.yaml:24:34: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].routes[0].route.cluster: unknown cluster 'nope'");
}

TEST(ConfigLoaderTest, UndefinedClusterInWeightedClusters) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "{cluster: app}",
                               "{weighted_clusters: {clusters: [{name: app, weight: 1}, {name: b, "
                               "weight: 1}]}}")),
            "t.yaml:24:87: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].name: "
            "unknown cluster 'b'");
}

TEST(ConfigLoaderTest, WeightedClusterWeightsMustNotSumToZero) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "{cluster: app}",
                               "{weighted_clusters: {clusters: [{name: app, weight: 0}]}}")),
            "t.yaml:24:44: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].routes[0].route.weighted_clusters: the cluster weights "
            "sum to 0");
}

TEST(ConfigLoaderTest, UndefinedClusterInTcpProxy) {
  const std::string yaml = std::string(kClusterOnly) + R"(  listeners:
  - name: tcp
    address: {socket_address: {address: 0.0.0.0, port_value: 10001}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: redis
)";
  EXPECT_EQ(loadError(yaml),
            "t.yaml:19:20: static_resources.listeners[0].filter_chains[0]"
            ".filters[0].typed_config.cluster: unknown cluster 'redis'");
}

TEST(ConfigLoaderTest, DuplicateCluster) {
  const std::string yaml = std::string(kClusterOnly) + "  - name: app\n    connect_timeout: 2s\n";
  EXPECT_EQ(loadError(yaml),
            "t.yaml:10:11: static_resources.clusters[1].name: duplicate cluster 'app'");
}

TEST(ConfigLoaderTest, DuplicateListenerNameAndAddress) {
  const std::string second = R"(  - name: http
    address: {socket_address: {address: 0.0.0.0, port_value: 10001}}
    filter_chains: [{filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app}}]}]
)";
  EXPECT_EQ(loadError(std::string(kHttpProxy) + second),
            "t.yaml:25:11: static_resources.listeners[1].name: duplicate listener name 'http'");
  EXPECT_EQ(loadError(std::string(kHttpProxy) +
                      replaced(replaced(second, "http", "other"), "10001", "10000")),
            "t.yaml:26:14: static_resources.listeners[1].address: address 0.0.0.0:10000 is "
            "already used by listener 'http'");
}

TEST(ConfigLoaderTest, BadRegex) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "{prefix: \"/\"}", "{safe_regex: {regex: \"/(a\"}}")),
            "t.yaml:23:45: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex "
            "\"/(a\": missing ): /(a");
}

TEST(ConfigLoaderTest, WrongTypeUrlForFilter) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "v3.HttpConnectionManager", "v3.TcpProxy")),
            "t.yaml:16:20: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "@type: @type 'type.googleapis.com/envoy.extensions.filters.network."
            "http_connection_manager.v3.TcpProxy' does not match filter "
            "'envoy.filters.network.http_connection_manager' (expected "
            "'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
            "HttpConnectionManager')");
}

TEST(ConfigLoaderTest, UnknownNetworkFilter) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "name: envoy.filters.network.http_connection_manager",
                               "name: envoy.filters.network.redis_proxy")),
            "t.yaml:14:15: static_resources.listeners[0].filter_chains[0].filters[0].name: "
            "unknown network filter 'envoy.filters.network.redis_proxy' (supported: "
            "envoy.filters.network.http_connection_manager, envoy.filters.network.tcp_proxy, "
            "envoy.filters.network.rbac)");
}

TEST(ConfigLoaderTest, StaticClusterNeedsIpEndpoints) {
  EXPECT_EQ(loadError(replaced(kClusterOnly, "127.0.0.1", "localhost")),
            "t.yaml:9:58: static_resources.clusters[0].load_assignment.endpoints[0]"
            ".lb_endpoints[0].endpoint.address.socket_address.address: STATIC cluster endpoints "
            "must be IP addresses, got \"localhost\"");
  EXPECT_EQ(loadError(replaced(kClusterOnly, "connect_timeout: 1s", "type: STRICT_DNS")),
            "no error");
}

TEST(ConfigLoaderTest, LogicalDnsNeedsExactlyOneEndpoint) {
  const std::string endpoint =
      "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}\n";
  EXPECT_EQ(
      loadError(replaced(kClusterOnly, "connect_timeout: 1s", "type: LOGICAL_DNS") + endpoint),
      "t.yaml:6:7: static_resources.clusters[0].load_assignment: LOGICAL_DNS clusters must "
      "have exactly one endpoint, found 2");
}

TEST(ConfigLoaderTest, InvalidDomain) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "[\"*\"]", "[\"a*b.com\"]")),
            "t.yaml:21:25: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].domains[0]: invalid domain \"a*b.com\"");
  for (const char* domain : {"*.example.com", "api-*", "example.com:8080", "[::1]:80", "*"}) {
    EXPECT_EQ(loadError(replaced(kHttpProxy, "\"*\"", std::string("\"") + domain + "\"")),
              "no error")
        << domain;
  }
}

TEST(ConfigLoaderTest, DuplicateDomainAcrossVirtualHosts) {
  EXPECT_EQ(loadError(std::string(kHttpProxy) + "            - {name: other, domains: [\"*\"]}\n"),
            "t.yaml:25:39: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[1].domains[0]: duplicate domain '*' (also in virtual host "
            "'all')");
}

TEST(ConfigLoaderTest, RouteNeedsExactlyOneAction) {
  EXPECT_EQ(
      loadError(replaced(kHttpProxy, "route: {cluster: app}",
                         "route: {cluster: app}\n                redirect: {host_redirect: x}")),
      "t.yaml:23:17: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
      "route_config.virtual_hosts[0].routes[0]: only one of 'route', 'direct_response', "
      "'redirect' may be set, found 'route' and 'redirect'");
}

TEST(ConfigLoaderTest, RouteDetailsAreParsed) {
  const std::string yaml = replaced(
      kHttpProxy, "              - match: {prefix: \"/\"}\n                route: {cluster: app}\n",
      R"(              - match:
                  path: /exact
                  case_sensitive: false
                  headers:
                  - {name: x-old, exact_match: v}
                  - {name: x-new, string_match: {suffix: z, ignore_case: true}, invert_match: true}
                  - {name: x-present, present_match: false}
                  query_parameters:
                  - {name: debug, string_match: {exact: "1"}}
                redirect: {https_redirect: true, response_code: PERMANENT_REDIRECT, strip_query: true}
                request_headers_to_add:
                - header: {key: x-a, value: "1"}
                  append: false
                - header: {key: x-b, value: "2"}
                  append_action: ADD_IF_ABSENT
                response_headers_to_remove: [server]
              - match: {prefix: /api}
                route: {cluster: app, prefix_rewrite: /, timeout: 0s, idle_timeout: 2.5s}
)");
  const Bootstrap bootstrap = loadBootstrapString(yaml, "t.yaml");
  const std::vector<Route>& routes = bootstrap.listeners[0]
                                         .filter_chains[0]
                                         .http_connection_manager->route_config.virtual_hosts[0]
                                         .routes;
  ASSERT_EQ(routes.size(), 2u);
  const Route& redirect = routes[0];
  EXPECT_EQ(redirect.match.path_kind, RouteMatch::PathKind::Path);
  EXPECT_EQ(redirect.match.path_value, "/exact");
  EXPECT_FALSE(redirect.match.case_sensitive);
  ASSERT_EQ(redirect.match.headers.size(), 3u);
  EXPECT_EQ(redirect.match.headers[0].string_match->kind, StringMatcher::Kind::Exact);
  EXPECT_EQ(redirect.match.headers[0].string_match->value, "v");
  EXPECT_EQ(redirect.match.headers[1].string_match->kind, StringMatcher::Kind::Suffix);
  EXPECT_TRUE(redirect.match.headers[1].string_match->ignore_case);
  EXPECT_TRUE(redirect.match.headers[1].invert_match);
  EXPECT_FALSE(redirect.match.headers[2].string_match.has_value());
  EXPECT_FALSE(redirect.match.headers[2].present_match);
  EXPECT_EQ(redirect.match.query_parameters[0].string_match->value, "1");
  EXPECT_EQ(redirect.action_kind, Route::ActionKind::Redirect);
  EXPECT_EQ(redirect.redirect.scheme_redirect, "https");
  EXPECT_EQ(redirect.redirect.response_code, 308u);
  EXPECT_TRUE(redirect.redirect.strip_query);
  ASSERT_EQ(redirect.headers.request_headers_to_add.size(), 2u);
  EXPECT_EQ(redirect.headers.request_headers_to_add[0].append_action,
            HeaderValueOption::AppendAction::OverwriteIfExistsOrAdd);
  EXPECT_EQ(redirect.headers.request_headers_to_add[1].append_action,
            HeaderValueOption::AppendAction::AddIfAbsent);
  EXPECT_EQ(redirect.headers.response_headers_to_remove, std::vector<std::string>{"server"});
  const RouteAction& action = routes[1].route;
  EXPECT_EQ(action.prefix_rewrite, "/");
  EXPECT_EQ(action.timeout, milliseconds(0));
  EXPECT_EQ(action.idle_timeout, milliseconds(2500));
}

TEST(ConfigLoaderTest, HostHeaderCannotBeModified) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "route: {cluster: app}",
                               "route: {cluster: app}\n                request_headers_to_remove: "
                               "[Host]")),
            "t.yaml:25:45: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "route_config.virtual_hosts[0].routes[0].request_headers_to_remove[0]: :-prefixed or "
            "host headers may not be removed");
}

// Configured text that an HTTP/1 head carries cannot hold CR, LF or NUL: it could add
// lines to the head (response splitting, request smuggling).
TEST(ConfigLoaderTest, HeaderTextWithLineBreaksIsRejected) {
  const std::string route = "route: {cluster: app}";
  const std::string stat_prefix = "stat_prefix: ingress";
  const std::string hcm = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.";
  const std::string route0 = hcm + "route_config.virtual_hosts[0].routes[0].";
  const std::string rejected = " must not contain CR, LF or NUL";
  struct Case {
    std::string from, to, error;
  };
  const std::vector<Case> cases = {
      {route,
       route + "\n                response_headers_to_add: "
               "[{header: {key: x-a, value: \"a\\r\\nset-cookie: b\"}}]",
       "t.yaml:25:70: " + route0 + "response_headers_to_add[0].header.value: header value" +
           rejected},
      {route,
       route +
           "\n                request_headers_to_add: [{header: {key: \"x-a\\nx-b\", value: v}}]",
       "t.yaml:25:57: " + route0 + "request_headers_to_add[0].header.key: invalid header name " +
           "\"x-a\nx-b\""},
      {route, "route: {cluster: app, prefix_rewrite: \"/a\\r\\nx: y\"}",
       "t.yaml:24:55: " + route0 + "route.prefix_rewrite: prefix_rewrite" + rejected},
      {route, "route: {cluster: app, host_rewrite_literal: \"h\\0\"}",
       "t.yaml:24:61: " + route0 + "route.host_rewrite_literal: host_rewrite_literal" + rejected},
      {route, "route: {cluster: app, regex_rewrite: {pattern: {regex: a}, substitution: \"\\n\"}}",
       "t.yaml:24:90: " + route0 + "route.regex_rewrite.substitution: substitution" + rejected},
      {route, "redirect: {host_redirect: \"h\\r\"}",
       "t.yaml:24:43: " + route0 + "redirect.host_redirect: host_redirect" + rejected},
      {route, "redirect: {path_redirect: \"/\\n\"}",
       "t.yaml:24:43: " + route0 + "redirect.path_redirect: path_redirect" + rejected},
      {route, "redirect: {prefix_rewrite: \"/\\n\"}",
       "t.yaml:24:44: " + route0 + "redirect.prefix_rewrite: prefix_rewrite" + rejected},
      {route, "redirect: {scheme_redirect: \"h\\n\"}",
       "t.yaml:24:45: " + route0 + "redirect.scheme_redirect: scheme_redirect" + rejected},
      {stat_prefix, stat_prefix + "\n          server_name: \"r\\r\\nx: y\"",
       "t.yaml:18:24: " + hcm + "server_name: server_name" + rejected},
      {stat_prefix,
       stat_prefix + "\n          http_protocol_options: "
                     "{accept_http_10: true, default_host_for_http_10: \"a\\nb\"}",
       "t.yaml:18:83: " + hcm +
           "http_protocol_options.default_host_for_http_10: default_host_for_http_10" + rejected},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(loadError(replaced(kHttpProxy, c.from, c.to)), c.error) << c.to;
  }
}

TEST(ConfigLoaderTest, DirectResponseBodyFromFile) {
  TempDir dir;
  const std::string body = dir.write("body.txt", "hello from a file\n");
  const Bootstrap bootstrap = loadBootstrapString(
      replaced(kHttpProxy, "route: {cluster: app}",
               "direct_response: {status: 503, body: {filename: \"" + body + "\"}}"),
      "t.yaml");
  const Route& route = bootstrap.listeners[0]
                           .filter_chains[0]
                           .http_connection_manager->route_config.virtual_hosts[0]
                           .routes[0];
  EXPECT_EQ(route.action_kind, Route::ActionKind::DirectResponse);
  EXPECT_EQ(route.direct_response.status, 503u);
  EXPECT_EQ(route.direct_response.body, "hello from a file\n");
  EXPECT_EQ(
      loadError(replaced(kHttpProxy, "route: {cluster: app}", "direct_response: {status: 600}")),
      "t.yaml:24:43: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
      "route_config.virtual_hosts[0].routes[0].direct_response.status: status must be in "
      "100..599");
}

TEST(ConfigLoaderTest, HttpConnectionManagerOptions) {
  const Bootstrap bootstrap =
      loadBootstrapString(replaced(kHttpProxy, "stat_prefix: ingress\n", R"(stat_prefix: ingress
          codec_type: HTTP1
          use_remote_address: true
          xff_num_trusted_hops: 2
          generate_request_id: false
          upgrade_configs: [{upgrade_type: WebSocket}]
          common_http_protocol_options: {idle_timeout: 30s, max_headers_count: 50}
          http_protocol_options: {accept_http_10: true, default_host_for_http_10: example.com}
          max_request_headers_kb: 96
          stream_idle_timeout: 0s
          request_timeout: 60s
          drain_timeout: 1s
          server_name: remora
)"),
                          "t.yaml");
  const HttpConnectionManager& hcm =
      *bootstrap.listeners[0].filter_chains[0].http_connection_manager;
  EXPECT_EQ(hcm.codec_type, HttpConnectionManager::CodecType::Http1);
  EXPECT_TRUE(hcm.use_remote_address);
  EXPECT_EQ(hcm.xff_num_trusted_hops, 2u);
  EXPECT_FALSE(hcm.generate_request_id);
  EXPECT_EQ(hcm.upgrade_types, std::vector<std::string>{"websocket"});
  EXPECT_EQ(hcm.idle_timeout, seconds(30));
  EXPECT_EQ(hcm.max_headers_count, 50u);
  EXPECT_TRUE(hcm.accept_http_10);
  EXPECT_EQ(hcm.default_host_for_http_10, "example.com");
  EXPECT_EQ(hcm.max_request_headers_kb, 96u);
  EXPECT_EQ(hcm.stream_idle_timeout, milliseconds(0));
  EXPECT_EQ(hcm.request_timeout, seconds(60));
  EXPECT_EQ(hcm.drain_timeout, seconds(1));
  EXPECT_EQ(hcm.server_name, "remora");
  EXPECT_EQ(hcm.source.path(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config");
}

TEST(ConfigLoaderTest, AccessLogEntriesAreKeptForTheAccessLogger) {
  const std::string yaml = replaced(kHttpProxy, "stat_prefix: ingress\n", R"(stat_prefix: ingress
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /dev/stdout
            filter: {not_health_check_filter: {}}
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
)") + R"(  - name: tcp
    address: {socket_address: {address: 0.0.0.0, port_value: 10001}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: app
          access_log:
          - name: envoy.access_loggers.stderr
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog
)";
  const Bootstrap bootstrap = loadBootstrapString(yaml, "t.yaml");
  const std::vector<AccessLogEntry>& http_logs =
      bootstrap.listeners[0].filter_chains[0].http_connection_manager->access_log;
  ASSERT_EQ(http_logs.size(), 2u);
  EXPECT_EQ(http_logs[0].name, "envoy.access_loggers.file");
  EXPECT_EQ(http_logs[0].type_url,
            "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog");
  EXPECT_EQ(http_logs[0].typed_config.path(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0]"
            ".typed_config");
  EXPECT_EQ(http_logs[0].typed_config.required("path").asString(), "/dev/stdout");
  EXPECT_TRUE(http_logs[0].filter.valid());
  EXPECT_EQ(http_logs[0].filter.path(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0]"
            ".filter");
  EXPECT_EQ(http_logs[0].source.location(), "t.yaml:19:13");
  EXPECT_EQ(http_logs[1].name, "envoy.access_loggers.stdout");
  EXPECT_FALSE(http_logs[1].filter.valid());
  const std::vector<AccessLogEntry>& tcp_logs =
      bootstrap.listeners[1].filter_chains[0].tcp_proxy->access_log;
  ASSERT_EQ(tcp_logs.size(), 1u);
  EXPECT_EQ(tcp_logs[0].type_url,
            "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog");
}

TEST(ConfigLoaderTest, AccessLogEntryErrors) {
  auto withLog = [](std::string_view entry) {
    return replaced(
        kHttpProxy, "stat_prefix: ingress\n",
        "stat_prefix: ingress\n          access_log:\n          - " + std::string(entry) + "\n");
  };
  EXPECT_EQ(loadError(withLog("{typed_config: {\"@type\": x}}")),
            "t.yaml:19:13: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "access_log[0].name: missing required field 'name'");
  EXPECT_EQ(loadError(withLog("{name: \"\"}")),
            "t.yaml:19:20: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "access_log[0].name: access log name must not be empty");
  EXPECT_EQ(loadError(withLog("{name: x, typed_config: {path: /tmp/a.log}}")),
            "t.yaml:19:37: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "access_log[0].typed_config.@type: missing required field '@type'");
  EXPECT_EQ(loadError(withLog("{name: x, path: /tmp/a.log}")),
            "t.yaml:19:23: static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "access_log[0].path: unknown field 'path'");
  EXPECT_EQ(
      loadError(replaced(kHttpProxy, "  - name: http\n", "  - name: http\n    access_log: []\n")),
      "t.yaml:11:5: static_resources.listeners[0].access_log: unsupported field "
      "'access_log'");
}

TEST(ConfigLoaderTest, AdminAccessLogPathOnlyDevNull) {
  EXPECT_EQ(loadError("admin:\n  access_log_path: /dev/null\n"), "no error");
  EXPECT_EQ(loadError("admin:\n  access_log_path: /tmp/admin.log\n"),
            "t.yaml:2:20: admin.access_log_path: unsupported value \"/tmp/admin.log\" (only "
            "\"/dev/null\" is supported)");
}

TEST(ConfigLoaderTest, ReusePortCannotBeDisabled) {
  EXPECT_EQ(loadError(replaced(kHttpProxy, "  - name: http\n",
                               "  - name: http\n    enable_reuse_port: false\n")),
            "t.yaml:11:24: static_resources.listeners[0].enable_reuse_port: only 'true' is "
            "supported");
}

constexpr std::string_view kClusterJson = R"({
  "static_resources": {
    "clusters": [{
      "name": "app",
      "connect_timeout": "1s",
      "load_assignment": {
        "cluster_name": "app",
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
          "address": "127.0.0.1", "port_value": 8080}}}}]}]
      }
    }]
  }
})";

TEST(ConfigLoaderTest, JsonEquivalentToYaml) {
  const Bootstrap from_json = loadBootstrapString(std::string(kClusterJson), "t.json");
  const Bootstrap from_yaml = loadBootstrapString(std::string(kClusterOnly), "t.yaml");
  ASSERT_EQ(from_json.clusters.size(), 1u);
  EXPECT_EQ(from_json.clusters[0].name, from_yaml.clusters[0].name);
  EXPECT_EQ(from_json.clusters[0].connect_timeout, from_yaml.clusters[0].connect_timeout);
  EXPECT_EQ(from_json.clusters[0].endpoints[0].address.address,
            from_yaml.clusters[0].endpoints[0].address.address);
  EXPECT_EQ(from_json.clusters[0].endpoints[0].address.port_value, 8080u);
}

TEST(ConfigLoaderTest, JsonErrorsHavePositions) {
  EXPECT_EQ(loadError(replaced(kClusterJson, "\"1s\"", "\"1\"")),
            "t.yaml:5:26: static_resources.clusters[0].connect_timeout: invalid duration \"1\" "
            "(expected e.g. \"0.25s\")");
}

}  // namespace
}  // namespace remora::config
