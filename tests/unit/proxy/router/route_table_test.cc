#include "proxy/router/route_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace remora::router {
namespace {

using AppendAction = config::HeaderValueOption::AppendAction;
using PathKind = config::RouteMatch::PathKind;
using StringKind = config::StringMatcher::Kind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

config::Route routeTo(std::string cluster, PathKind kind = PathKind::Prefix,
                      std::string path = "/") {
  config::Route route;
  route.match.path_kind = kind;
  route.match.path_value = std::move(path);
  route.route.cluster = std::move(cluster);
  return route;
}

config::VirtualHost virtualHost(std::string name, std::vector<std::string> domains,
                                std::vector<config::Route> routes = {}) {
  config::VirtualHost vh;
  vh.name = std::move(name);
  vh.domains = std::move(domains);
  vh.routes = std::move(routes);
  if (vh.routes.empty()) vh.routes.push_back(routeTo(vh.name));
  return vh;
}

config::RouteConfiguration configWith(std::vector<config::VirtualHost> virtual_hosts) {
  config::RouteConfiguration config;
  config.name = "local_route";
  config.virtual_hosts = std::move(virtual_hosts);
  return config;
}

// A table with one catch-all virtual host holding `routes`.
std::shared_ptr<const RouteTable> tableWithRoutes(std::vector<config::Route> routes) {
  return RouteTable::create(configWith({virtualHost("vh", {"*"}, std::move(routes))}));
}

http::RequestHead request(std::string path, std::string authority = "example.com") {
  http::RequestHead head;
  head.method = "GET";
  head.path = std::move(path);
  head.authority = std::move(authority);
  return head;
}

std::string vhostName(const RouteTable& table, std::string_view authority) {
  const VirtualHostEntry* vh = table.findVirtualHost(authority);
  return vh == nullptr ? "<none>" : vh->name();
}

// Cluster of the matched route, or "<none>".
std::string routedCluster(const RouteTable& table, const http::RequestHead& head) {
  const RouteEntry* route = table.match(head);
  return route == nullptr ? "<none>" : route->routeAction().cluster;
}

std::vector<std::string> values(const http::HeaderMap& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const http::HeaderEntry& entry : headers) {
    if (entry.name == name) out.push_back(entry.value);
  }
  return out;
}

config::StringMatcher stringMatcher(StringKind kind, std::string value, bool ignore_case = false) {
  return config::StringMatcher{kind, std::move(value), ignore_case};
}

// ---- Virtual host selection ----

TEST(RouteTableVirtualHost, DomainPrecedenceExactThenSuffixThenPrefixThenDefault) {
  const auto table = RouteTable::create(configWith({
      virtualHost("default", {"*"}),
      virtualHost("prefix", {"api.*"}),
      virtualHost("suffix", {"*.example.com"}),
      virtualHost("longer_suffix", {"*-beta.example.com"}),
      virtualHost("exact", {"api.example.com"}),
  }));
  EXPECT_EQ(vhostName(*table, "api.example.com"), "exact");
  EXPECT_EQ(vhostName(*table, "API.Example.COM"), "exact");
  EXPECT_EQ(vhostName(*table, "web.example.com"), "suffix");
  EXPECT_EQ(vhostName(*table, "web-beta.example.com"), "longer_suffix");
  EXPECT_EQ(vhostName(*table, "api.example.org"), "prefix");
  EXPECT_EQ(vhostName(*table, "other.org"), "default");
  // A wildcard stands for at least one character.
  EXPECT_EQ(vhostName(*table, ".example.com"), "default");
  EXPECT_EQ(vhostName(*table, "api."), "default");
  EXPECT_EQ(vhostName(*table, ""), "default");
}

TEST(RouteTableVirtualHost, HostsOfAnyLengthMatchIgnoringCase) {
  const std::string long_label(300, 'a');
  const auto table = RouteTable::create(configWith({
      virtualHost("default", {"*"}),
      virtualHost("service", {"payments.internal.svc.cluster.local"}),
      virtualHost("long", {long_label + ".example.com"}),
      virtualHost("long_suffix", {"*." + long_label + ".net"}),
  }));
  EXPECT_EQ(vhostName(*table, "Payments.Internal.SVC.cluster.local"), "service");
  EXPECT_EQ(vhostName(*table, "A" + long_label.substr(1) + ".EXAMPLE.com"), "long");
  EXPECT_EQ(vhostName(*table, "x." + long_label + ".NET"), "long_suffix");
  EXPECT_EQ(vhostName(*table, long_label + ".example.org"), "default");
}

TEST(RouteTableVirtualHost, LongestWildcardWins) {
  const auto table = RouteTable::create(configWith({
      virtualHost("short_prefix", {"foo.*"}),
      virtualHost("long_prefix", {"foo.bar.*"}),
      virtualHost("short_suffix", {"*.com"}),
      virtualHost("long_suffix", {"*.example.com"}),
      virtualHost("bare_suffix", {"*shop.net"}),
  }));
  EXPECT_EQ(vhostName(*table, "foo.bar.baz"), "long_prefix");
  EXPECT_EQ(vhostName(*table, "foo.baz"), "short_prefix");
  EXPECT_EQ(vhostName(*table, "a.example.com"), "long_suffix");
  EXPECT_EQ(vhostName(*table, "a.other.com"), "short_suffix");
  EXPECT_EQ(vhostName(*table, "myshop.net"), "bare_suffix");
  // Suffix wildcards are tried before prefix wildcards whatever their length.
  EXPECT_EQ(vhostName(*table, "foo.bar.com"), "short_suffix");
}

TEST(RouteTableVirtualHost, NoMatchWithoutDefaultReturnsNull) {
  const auto table = RouteTable::create(configWith({virtualHost("only", {"only.example.com"})}));
  EXPECT_EQ(table->findVirtualHost("other.example.com"), nullptr);
  EXPECT_EQ(table->match(request("/", "other.example.com")), nullptr);
  EXPECT_EQ(routedCluster(*table, request("/", "only.example.com")), "only");
}

TEST(RouteTableVirtualHost, PortIsPartOfTheMatchedAuthority) {
  const auto table = RouteTable::create(configWith({
      virtualHost("default", {"*"}),
      virtualHost("no_port", {"example.com"}),
      virtualHost("port_8080", {"example.com:8080"}),
      virtualHost("any_port", {"other.com:*"}),
  }));
  EXPECT_EQ(vhostName(*table, "example.com"), "no_port");
  EXPECT_EQ(vhostName(*table, "example.com:8080"), "port_8080");
  // Envoy's default: the port is not stripped, so an unknown port misses "example.com".
  EXPECT_EQ(vhostName(*table, "example.com:9090"), "default");
  EXPECT_EQ(vhostName(*table, "other.com:1234"), "any_port");
  EXPECT_EQ(vhostName(*table, "other.com"), "default");
}

TEST(RouteTableVirtualHost, ThousandExactDomains) {
  std::vector<config::VirtualHost> hosts;
  for (int i = 0; i < 1000; ++i) {
    const std::string name = "svc-" + std::to_string(i);
    hosts.push_back(virtualHost(name, {name + ".ns.svc.cluster.local", name + ":8080"}));
  }
  const auto table = RouteTable::create(configWith(std::move(hosts)));
  EXPECT_EQ(vhostName(*table, "svc-537.ns.svc.cluster.local"), "svc-537");
  EXPECT_EQ(vhostName(*table, "svc-999:8080"), "svc-999");
  EXPECT_EQ(vhostName(*table, "svc-1000:8080"), "<none>");
}

TEST(RouteTableVirtualHost, DuplicateDomainsAreRefused) {
  EXPECT_THROW(RouteTable::create(configWith(
                   {virtualHost("a", {"A.example.com"}), virtualHost("b", {"a.example.com"})})),
               config::ConfigError);
  EXPECT_THROW(RouteTable::create(configWith({virtualHost("a", {"*"}), virtualHost("b", {"*"})})),
               config::ConfigError);
  try {
    RouteTable::create(
        configWith({virtualHost("a", {"*.example.com"}), virtualHost("b", {"*.example.com"})}));
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("domain \"*.example.com\""));
    EXPECT_THAT(e.what(), HasSubstr("virtual host \"b\""));
  }
}

// ---- Path matching ----

TEST(RouteTablePath, PrefixIsCaseSensitiveByDefaultAndIgnoresTheQuery) {
  const auto table = tableWithRoutes({routeTo("api", PathKind::Prefix, "/api")});
  EXPECT_EQ(routedCluster(*table, request("/api")), "api");
  EXPECT_EQ(routedCluster(*table, request("/api/v1?x=1")), "api");
  EXPECT_EQ(routedCluster(*table, request("/apix")), "api");
  EXPECT_EQ(routedCluster(*table, request("/ap")), "<none>");
  EXPECT_EQ(routedCluster(*table, request("/API")), "<none>");

  const auto with_query = tableWithRoutes({routeTo("q", PathKind::Prefix, "/a?x")});
  EXPECT_EQ(routedCluster(*with_query, request("/a?x=1")), "<none>");
}

TEST(RouteTablePath, CaseInsensitivePrefixAndPath) {
  config::Route prefix = routeTo("prefix", PathKind::Prefix, "/api");
  prefix.match.case_sensitive = false;
  config::Route exact = routeTo("exact", PathKind::Path, "/Health");
  exact.match.case_sensitive = false;
  const auto table = tableWithRoutes({exact, prefix});
  EXPECT_EQ(routedCluster(*table, request("/API/v1")), "prefix");
  EXPECT_EQ(routedCluster(*table, request("/hEALTH")), "exact");
  EXPECT_EQ(routedCluster(*table, request("/Ap")), "<none>");
}

TEST(RouteTablePath, ExactPath) {
  const auto table = tableWithRoutes({routeTo("health", PathKind::Path, "/health")});
  EXPECT_EQ(routedCluster(*table, request("/health")), "health");
  EXPECT_EQ(routedCluster(*table, request("/health?full=1")), "health");
  EXPECT_EQ(routedCluster(*table, request("/health/")), "<none>");
  EXPECT_EQ(routedCluster(*table, request("/healthz")), "<none>");
  EXPECT_EQ(routedCluster(*table, request("/HEALTH")), "<none>");
}

TEST(RouteTablePath, SafeRegexMustMatchTheWholePathWithoutQuery) {
  const auto table = tableWithRoutes({routeTo("users", PathKind::SafeRegex, "/users/[0-9]+")});
  EXPECT_EQ(routedCluster(*table, request("/users/42")), "users");
  EXPECT_EQ(routedCluster(*table, request("/users/42?tab=1")), "users");
  EXPECT_EQ(routedCluster(*table, request("/users/42/edit")), "<none>");
  EXPECT_EQ(routedCluster(*table, request("/x/users/42")), "<none>");
}

TEST(RouteTablePath, FirstMatchingRouteWins) {
  const auto specific_first = tableWithRoutes(
      {routeTo("specific", PathKind::Prefix, "/a/b"), routeTo("general", PathKind::Prefix, "/a")});
  EXPECT_EQ(routedCluster(*specific_first, request("/a/b/c")), "specific");
  EXPECT_EQ(routedCluster(*specific_first, request("/a/x")), "general");

  const auto general_first = tableWithRoutes(
      {routeTo("general", PathKind::Prefix, "/a"), routeTo("specific", PathKind::Prefix, "/a/b")});
  EXPECT_EQ(routedCluster(*general_first, request("/a/b/c")), "general");
}

TEST(RouteTablePath, InvalidRegexIsAConfigErrorNamingTheRoute) {
  try {
    tableWithRoutes({routeTo("ok"), routeTo("bad", PathKind::SafeRegex, "/users/(")});
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("virtual host \"vh\" routes[1]"));
    EXPECT_THAT(e.what(), HasSubstr("invalid regex \"/users/(\""));
  }
}

// ---- Header matchers ----

class HeaderMatcherTest : public ::testing::Test {
 protected:
  static bool matches(const config::HeaderMatcher& config, const http::RequestHead& head) {
    return HeaderMatcher(config).matches(head);
  }
  static config::HeaderMatcher stringMatch(std::string name, StringKind kind, std::string value,
                                           bool ignore_case = false) {
    config::HeaderMatcher m;
    m.name = std::move(name);
    m.string_match = stringMatcher(kind, std::move(value), ignore_case);
    return m;
  }
  static http::RequestHead withHeader(std::string name, std::string value) {
    http::RequestHead head = request("/p?q=1");
    head.headers.add(name, value);
    return head;
  }
};

TEST_F(HeaderMatcherTest, StringMatchKinds) {
  const auto exact = stringMatch("x-env", StringKind::Exact, "prod");
  EXPECT_TRUE(matches(exact, withHeader("x-env", "prod")));
  EXPECT_FALSE(matches(exact, withHeader("x-env", "Prod")));
  EXPECT_FALSE(matches(exact, withHeader("x-env", "dev")));
  EXPECT_FALSE(matches(exact, request("/")));
  EXPECT_TRUE(
      matches(stringMatch("x-env", StringKind::Exact, "prod", true), withHeader("x-env", "PrOd")));

  const auto prefix = stringMatch("x-v", StringKind::Prefix, "ab");
  EXPECT_TRUE(matches(prefix, withHeader("x-v", "abc")));
  EXPECT_FALSE(matches(prefix, withHeader("x-v", "xabc")));
  EXPECT_TRUE(
      matches(stringMatch("x-v", StringKind::Prefix, "AB", true), withHeader("x-v", "abc")));

  const auto suffix = stringMatch("x-v", StringKind::Suffix, "bc");
  EXPECT_TRUE(matches(suffix, withHeader("x-v", "abc")));
  EXPECT_FALSE(matches(suffix, withHeader("x-v", "abcd")));
  EXPECT_TRUE(
      matches(stringMatch("x-v", StringKind::Suffix, "BC", true), withHeader("x-v", "abc")));

  const auto contains = stringMatch("x-v", StringKind::Contains, "mid");
  EXPECT_TRUE(matches(contains, withHeader("x-v", "a-mid-b")));
  EXPECT_FALSE(matches(contains, withHeader("x-v", "a-MID-b")));
  EXPECT_TRUE(
      matches(stringMatch("x-v", StringKind::Contains, "mId", true), withHeader("x-v", "a-MID-b")));

  const auto regex = stringMatch("x-v", StringKind::SafeRegex, "v[0-9]+");
  EXPECT_TRUE(matches(regex, withHeader("x-v", "v12")));
  EXPECT_FALSE(matches(regex, withHeader("x-v", "v12a")));
  EXPECT_FALSE(matches(regex, withHeader("x-v", "xv12")));
}

TEST_F(HeaderMatcherTest, ConfiguredNameIsCaseInsensitive) {
  EXPECT_TRUE(
      matches(stringMatch("X-Env", StringKind::Exact, "prod"), withHeader("x-env", "prod")));
}

TEST_F(HeaderMatcherTest, PresentMatch) {
  config::HeaderMatcher present;
  present.name = "x-flag";
  EXPECT_TRUE(matches(present, withHeader("x-flag", "")));
  EXPECT_FALSE(matches(present, request("/")));

  config::HeaderMatcher absent = present;
  absent.present_match = false;
  EXPECT_TRUE(matches(absent, request("/")));
  EXPECT_FALSE(matches(absent, withHeader("x-flag", "1")));
}

TEST_F(HeaderMatcherTest, InvertMatch) {
  auto not_prod = stringMatch("x-env", StringKind::Exact, "prod");
  not_prod.invert_match = true;
  EXPECT_TRUE(matches(not_prod, withHeader("x-env", "dev")));
  EXPECT_FALSE(matches(not_prod, withHeader("x-env", "prod")));
  // Envoy: a missing header does not match an inverted string match...
  EXPECT_FALSE(matches(not_prod, request("/")));
  // ...unless it is treated as empty.
  not_prod.treat_missing_header_as_empty = true;
  EXPECT_TRUE(matches(not_prod, request("/")));

  config::HeaderMatcher not_present;
  not_present.name = "x-flag";
  not_present.invert_match = true;
  EXPECT_TRUE(matches(not_present, request("/")));
  EXPECT_FALSE(matches(not_present, withHeader("x-flag", "1")));

  config::HeaderMatcher not_absent = not_present;
  not_absent.present_match = false;
  EXPECT_FALSE(matches(not_absent, request("/")));
  EXPECT_TRUE(matches(not_absent, withHeader("x-flag", "1")));
}

TEST_F(HeaderMatcherTest, TreatMissingHeaderAsEmpty) {
  auto empty = stringMatch("x-env", StringKind::Exact, "");
  EXPECT_FALSE(matches(empty, request("/")));
  empty.treat_missing_header_as_empty = true;
  EXPECT_TRUE(matches(empty, request("/")));
}

TEST_F(HeaderMatcherTest, RepeatedHeadersAreJoinedWithComma) {
  http::RequestHead head = request("/");
  head.headers.add("x-tag", "a");
  head.headers.add("x-other", "z");
  head.headers.add("X-Tag", "b");
  EXPECT_TRUE(matches(stringMatch("x-tag", StringKind::Exact, "a,b"), head));
  EXPECT_FALSE(matches(stringMatch("x-tag", StringKind::Exact, "a"), head));
  EXPECT_FALSE(matches(stringMatch("x-tag", StringKind::Exact, "a, b"), head));
}

TEST_F(HeaderMatcherTest, PseudoHeadersReadTheRequestHead) {
  http::RequestHead head = request("/p?q=1", "Example.com:8080");
  head.method = "POST";
  head.scheme = "https";
  EXPECT_TRUE(matches(stringMatch(":method", StringKind::Exact, "POST"), head));
  EXPECT_FALSE(matches(stringMatch(":method", StringKind::Exact, "GET"), head));
  EXPECT_TRUE(matches(stringMatch(":path", StringKind::Exact, "/p?q=1"), head));
  EXPECT_TRUE(matches(stringMatch(":authority", StringKind::Exact, "Example.com:8080"), head));
  EXPECT_TRUE(matches(stringMatch("host", StringKind::Prefix, "Example.com"), head));
  EXPECT_TRUE(matches(stringMatch(":scheme", StringKind::Exact, "https"), head));

  config::HeaderMatcher no_authority;
  no_authority.name = ":authority";
  EXPECT_FALSE(matches(no_authority, request("/", "")));
}

TEST(RouteTableHeaders, EveryHeaderMatcherMustMatch) {
  config::Route route = routeTo("canary");
  route.match.headers.push_back(
      {"x-canary", config::StringMatcher{StringKind::Exact, "1", false}, true, false, false});
  route.match.headers.push_back(
      {":method", config::StringMatcher{StringKind::Exact, "GET", false}, true, false, false});
  const auto table = tableWithRoutes({route, routeTo("stable")});

  http::RequestHead head = request("/");
  EXPECT_EQ(routedCluster(*table, head), "stable");
  head.headers.add("x-canary", "1");
  EXPECT_EQ(routedCluster(*table, head), "canary");
  head.method = "POST";
  EXPECT_EQ(routedCluster(*table, head), "stable");
}

// ---- Query parameters ----

TEST(RouteTableQuery, PresentAndValueMatch) {
  config::QueryParameterMatcher debug_present;
  debug_present.name = "debug";
  QueryParameterMatcher present(debug_present);
  EXPECT_TRUE(present.matches("debug"));
  EXPECT_TRUE(present.matches("a=1&debug=0"));
  EXPECT_FALSE(present.matches("debugx=1"));
  EXPECT_FALSE(present.matches("xdebug"));
  EXPECT_FALSE(present.matches(""));

  QueryParameterMatcher exact_one({"v", stringMatcher(StringKind::Exact, "1"), true});
  EXPECT_TRUE(exact_one.matches("a=2&v=1"));
  EXPECT_FALSE(exact_one.matches("v=2"));
  // The first occurrence is the one matched.
  EXPECT_TRUE(exact_one.matches("v=1&v=2"));
  EXPECT_FALSE(exact_one.matches("v=2&v=1"));
  // A parameter without '=' has an empty value.
  EXPECT_TRUE(QueryParameterMatcher({"flag", stringMatcher(StringKind::Exact, ""), true})
                  .matches("flag&v=1"));

  QueryParameterMatcher regex({"id", stringMatcher(StringKind::SafeRegex, "[0-9]+"), true});
  EXPECT_TRUE(regex.matches("id=123"));
  EXPECT_FALSE(regex.matches("id=12a"));
}

TEST(RouteTableQuery, ValuesAreNotPercentDecoded) {
  QueryParameterMatcher decoded({"name", stringMatcher(StringKind::Exact, "a b"), true});
  QueryParameterMatcher raw({"name", stringMatcher(StringKind::Exact, "a%20b"), true});
  EXPECT_FALSE(decoded.matches("name=a%20b"));
  EXPECT_TRUE(raw.matches("name=a%20b"));
}

TEST(RouteTableQuery, RouteNeedsEveryParameter) {
  config::Route route = routeTo("debug");
  route.match.query_parameters.push_back({"debug", std::nullopt, true});
  route.match.query_parameters.push_back({"user", stringMatcher(StringKind::Prefix, "adm"), true});
  const auto table = tableWithRoutes({route, routeTo("normal")});
  EXPECT_EQ(routedCluster(*table, request("/x?debug&user=admin")), "debug");
  EXPECT_EQ(routedCluster(*table, request("/x?user=admin")), "normal");
  EXPECT_EQ(routedCluster(*table, request("/x?debug=1&user=guest")), "normal");
  EXPECT_EQ(routedCluster(*table, request("/x")), "normal");
}

// ---- Weighted clusters ----

config::Route weightedRoute(std::vector<std::pair<std::string, uint32_t>> weights) {
  config::Route route = routeTo("");
  for (auto& [name, weight] : weights) {
    config::WeightedCluster cluster;
    cluster.name = name;
    cluster.weight = weight;
    route.route.weighted_clusters.push_back(cluster);
  }
  return route;
}

TEST(RouteTableWeighted, PickWalksCumulativeWeightsInConfigOrder) {
  const auto table = tableWithRoutes({weightedRoute({{"a", 1}, {"b", 2}, {"c", 3}})});
  const RouteEntry* route = table->match(request("/"));
  ASSERT_NE(route, nullptr);

  std::map<std::string, int> counts;
  for (uint64_t value = 0; value < 6; ++value) ++counts[route->pickCluster(value)];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 3}}));

  EXPECT_EQ(route->pickCluster(0), "a");
  EXPECT_EQ(route->pickCluster(1), "b");
  EXPECT_EQ(route->pickCluster(2), "b");
  EXPECT_EQ(route->pickCluster(3), "c");
  EXPECT_EQ(route->pickCluster(5), "c");
  EXPECT_EQ(route->pickCluster(6), "a");
  EXPECT_EQ(route->pickCluster(6000 + 4), "c");
  EXPECT_EQ(route->pickCluster(UINT64_MAX), "c");  // UINT64_MAX % 6 == 3
}

TEST(RouteTableWeighted, ZeroWeightEntriesAreNeverPicked) {
  const auto table = tableWithRoutes({weightedRoute({{"off", 0}, {"on", 5}, {"also_off", 0}})});
  const RouteEntry* route = table->match(request("/"));
  for (uint64_t value = 0; value < 10; ++value) EXPECT_EQ(route->pickCluster(value), "on");
}

TEST(RouteTableWeighted, ZeroTotalWeightIsAConfigError) {
  EXPECT_THROW(tableWithRoutes({weightedRoute({{"a", 0}, {"b", 0}})}), config::ConfigError);
}

TEST(RouteTableWeighted, SingleClusterIsReturnedForAnyValue) {
  const auto table = tableWithRoutes({routeTo("only")});
  EXPECT_EQ(table->match(request("/"))->pickCluster(12345), "only");
}

// ---- Rewrites ----

http::RequestHead rewritten(const config::Route& route, std::string path,
                            std::string authority = "example.com") {
  const auto table = tableWithRoutes({route});
  http::RequestHead head = request(std::move(path), std::move(authority));
  const RouteEntry* entry = table->match(head);
  EXPECT_NE(entry, nullptr);
  if (entry != nullptr) entry->rewriteRequest(head);
  return head;
}

TEST(RouteTableRewrite, PrefixRewriteKeepsTheRestAndTheQuery) {
  config::Route route = routeTo("c", PathKind::Prefix, "/api/");
  route.route.prefix_rewrite = "/v2/";
  EXPECT_EQ(rewritten(route, "/api/users?x=1").path, "/v2/users?x=1");

  config::Route strip = routeTo("c", PathKind::Prefix, "/api");
  strip.route.prefix_rewrite = "/";
  EXPECT_EQ(rewritten(strip, "/api/users").path, "//users");

  config::Route insensitive = routeTo("c", PathKind::Prefix, "/api");
  insensitive.match.case_sensitive = false;
  insensitive.route.prefix_rewrite = "/svc";
  EXPECT_EQ(rewritten(insensitive, "/API/users").path, "/svc/users");
}

TEST(RouteTableRewrite, PrefixRewriteOnExactPathReplacesThePath) {
  config::Route route = routeTo("c", PathKind::Path, "/old");
  route.route.prefix_rewrite = "/new";
  EXPECT_EQ(rewritten(route, "/old?q=1").path, "/new?q=1");
}

TEST(RouteTableRewrite, RegexRewriteOnPathOnlyKeepsQuery) {
  config::Route route = routeTo("c");
  route.route.regex_rewrite = config::RegexRewrite{"^/service/([^/]+)(/.*)$", "\\2/instance/\\1"};
  EXPECT_EQ(rewritten(route, "/service/foo/v1/api?x=/service/a/b").path,
            "/v1/api/instance/foo?x=/service/a/b");

  config::Route global = routeTo("c");
  global.route.regex_rewrite = config::RegexRewrite{"o", "0"};
  EXPECT_EQ(rewritten(global, "/foo/boo?o=1").path, "/f00/b00?o=1");
}

TEST(RouteTableRewrite, HostRewriteLiteralSetsTheAuthority) {
  config::Route route = routeTo("c");
  route.route.host_rewrite_literal = "backend.internal";
  const http::RequestHead head = rewritten(route, "/a?b", "example.com:8080");
  EXPECT_EQ(head.authority, "backend.internal");
  EXPECT_EQ(head.path, "/a?b");
  EXPECT_FALSE(head.headers.has("host"));

  const auto table = tableWithRoutes({route});
  http::RequestHead with_host_field = request("/", "example.com");
  with_host_field.headers.add("Host", "example.com");
  table->match(with_host_field)->rewriteRequest(with_host_field);
  EXPECT_THAT(values(with_host_field.headers, "host"), ElementsAre("backend.internal"));
}

TEST(RouteTableRewrite, NoRewriteLeavesTheRequestAlone) {
  const http::RequestHead head = rewritten(routeTo("c"), "/a?b", "example.com");
  EXPECT_EQ(head.path, "/a?b");
  EXPECT_EQ(head.authority, "example.com");
}

TEST(RouteTableRewrite, PrefixAndRegexRewriteTogetherAreRefused) {
  config::Route route = routeTo("c");
  route.route.prefix_rewrite = "/x";
  route.route.regex_rewrite = config::RegexRewrite{"a", "b"};
  EXPECT_THROW(tableWithRoutes({route}), config::ConfigError);
}

// ---- Redirects ----

std::string location(const config::RedirectAction& redirect, http::RequestHead head,
                     PathKind kind = PathKind::Prefix, std::string match_path = "/") {
  config::Route route = routeTo("", kind, std::move(match_path));
  route.action_kind = config::Route::ActionKind::Redirect;
  route.redirect = redirect;
  const auto table = tableWithRoutes({route});
  const RouteEntry* entry = table->match(head);
  EXPECT_NE(entry, nullptr);
  return entry == nullptr ? "" : entry->redirectLocation(head);
}

TEST(RouteTableRedirect, HttpsRedirect) {
  config::RedirectAction https;
  https.scheme_redirect = "https";
  EXPECT_EQ(location(https, request("/a?b=1", "example.com")), "https://example.com/a?b=1");
  // The default port of the old scheme is dropped, any other is kept.
  EXPECT_EQ(location(https, request("/a", "example.com:80")), "https://example.com/a");
  EXPECT_EQ(location(https, request("/a", "example.com:8080")), "https://example.com:8080/a");
  EXPECT_EQ(location(https, request("/a", "[::1]:80")), "https://[::1]/a");
  // x-forwarded-proto decides which port is the default one.
  http::RequestHead forwarded = request("/a", "example.com:443");
  forwarded.headers.add("x-forwarded-proto", "https");
  config::RedirectAction http_redirect;
  http_redirect.scheme_redirect = "http";
  EXPECT_EQ(location(http_redirect, forwarded), "http://example.com/a");
}

TEST(RouteTableRedirect, SchemeIsKeptWithoutSchemeRedirect) {
  config::RedirectAction host_only;
  host_only.host_redirect = "new.example.com";
  http::RequestHead head = request("/p", "old.example.com:8443");
  head.scheme = "https";
  EXPECT_EQ(location(host_only, head), "https://new.example.com/p");
}

TEST(RouteTableRedirect, HostAndPort) {
  config::RedirectAction both;
  both.host_redirect = "new.example.com";
  both.port_redirect = 8443;
  EXPECT_EQ(location(both, request("/x?y", "old.example.com:8080")),
            "http://new.example.com:8443/x?y");

  config::RedirectAction port_only;
  port_only.port_redirect = 9000;
  EXPECT_EQ(location(port_only, request("/p", "example.com:8080")), "http://example.com:9000/p");
  EXPECT_EQ(location(port_only, request("/p", "example.com")), "http://example.com:9000/p");
}

TEST(RouteTableRedirect, PathRedirect) {
  config::RedirectAction redirect;
  redirect.path_redirect = "/new";
  EXPECT_EQ(location(redirect, request("/old?x=1")), "http://example.com/new?x=1");
  EXPECT_EQ(location(redirect, request("/old")), "http://example.com/new");

  redirect.strip_query = true;
  EXPECT_EQ(location(redirect, request("/old?x=1")), "http://example.com/new");

  // A query in path_redirect replaces the request's and survives strip_query.
  redirect.path_redirect = "/new?y=2";
  EXPECT_EQ(location(redirect, request("/old?x=1")), "http://example.com/new?y=2");

  config::RedirectAction relative;
  relative.path_redirect = "new";
  EXPECT_EQ(location(relative, request("/old")), "http://example.com/new");
}

TEST(RouteTableRedirect, PrefixRewrite) {
  config::RedirectAction redirect;
  redirect.prefix_rewrite = "/new/";
  EXPECT_EQ(location(redirect, request("/old/a?x=1"), PathKind::Prefix, "/old/"),
            "http://example.com/new/a?x=1");
  redirect.strip_query = true;
  EXPECT_EQ(location(redirect, request("/old/a?x=1"), PathKind::Prefix, "/old/"),
            "http://example.com/new/a");
}

TEST(RouteTableRedirect, StripQueryAlone) {
  config::RedirectAction redirect;
  redirect.strip_query = true;
  EXPECT_EQ(location(redirect, request("/keep/path?drop=1")), "http://example.com/keep/path");
}

// ---- Header mutations ----

config::HeaderValueOption header(std::string key, std::string value,
                                 AppendAction action = AppendAction::AppendIfExistsOrAdd) {
  return config::HeaderValueOption{std::move(key), std::move(value), action};
}

// A route config whose three levels (route config, virtual host, route) and, when
// weighted, two weighted cluster entries, each append their level name to x-level.
config::RouteConfiguration layeredConfig(AppendAction action, bool weighted) {
  config::Route route = weighted ? weightedRoute({{"blue", 1}, {"green", 1}}) : routeTo("c");
  route.headers.request_headers_to_add = {header("x-level", "route", action)};
  route.headers.response_headers_to_add = {header("x-level", "route", action)};
  for (config::WeightedCluster& cluster : route.route.weighted_clusters) {
    cluster.headers.request_headers_to_add = {header("x-level", cluster.name, action)};
    cluster.headers.response_headers_to_add = {header("x-level", cluster.name, action)};
  }
  config::VirtualHost vh = virtualHost("vh", {"*"}, {route});
  vh.headers.request_headers_to_add = {header("x-level", "vhost", action)};
  vh.headers.response_headers_to_add = {header("x-level", "vhost", action)};
  config::RouteConfiguration config = configWith({vh});
  config.headers.request_headers_to_add = {header("x-level", "route_config", action)};
  config.headers.response_headers_to_add = {header("x-level", "route_config", action)};
  return config;
}

TEST(RouteTableHeaderMutation, LevelsApplyMostSpecificFirst) {
  const auto table = RouteTable::create(layeredConfig(AppendAction::AppendIfExistsOrAdd, true));
  http::RequestHead head = request("/");
  const RouteEntry* route = table->match(head);
  ASSERT_NE(route, nullptr);
  const std::string& cluster = route->pickCluster(1);
  ASSERT_EQ(cluster, "green");

  route->applyRequestHeaderMutations(head, &cluster);
  EXPECT_THAT(values(head.headers, "x-level"),
              ElementsAre("green", "route", "vhost", "route_config"));

  http::ResponseHead response;
  route->applyResponseHeaderMutations(response, nullptr);
  EXPECT_THAT(values(response.headers, "x-level"), ElementsAre("route", "vhost", "route_config"));
}

TEST(RouteTableHeaderMutation, LeastSpecificLevelWinsAnOverwrite) {
  const auto table = RouteTable::create(layeredConfig(AppendAction::OverwriteIfExistsOrAdd, false));
  http::RequestHead head = request("/");
  head.headers.add("x-level", "client");
  const RouteEntry* route = table->match(head);
  route->applyRequestHeaderMutations(head, nullptr);
  EXPECT_THAT(values(head.headers, "x-level"), ElementsAre("route_config"));
}

TEST(RouteTableHeaderMutation, LaterLevelRemovesWhatAnEarlierLevelAdded) {
  config::Route route = routeTo("c");
  route.headers.response_headers_to_add = {header("x-debug", "route")};
  config::VirtualHost vh = virtualHost("vh", {"*"}, {route});
  vh.headers.response_headers_to_remove = {"X-Debug"};
  const auto table = RouteTable::create(configWith({vh}));
  http::ResponseHead response;
  response.headers.add("x-debug", "upstream");
  table->match(request("/"))->applyResponseHeaderMutations(response, nullptr);
  EXPECT_THAT(values(response.headers, "x-debug"), IsEmpty());
}

TEST(RouteTableHeaderMutation, UnsupportedMutationIsAConfigErrorNamingTheLevel) {
  config::VirtualHost vh = virtualHost("vh", {"*"});
  vh.headers.request_headers_to_add = {header("x", "%REQ(y)%")};
  try {
    RouteTable::create(configWith({vh}));
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("virtual host \"vh\""));
    EXPECT_THAT(e.what(), HasSubstr("not supported"));
  }
}

// ---- Other actions ----

TEST(RouteTableActions, DirectResponseAndRedirectAreExposed) {
  config::Route direct = routeTo("", PathKind::Path, "/ping");
  direct.action_kind = config::Route::ActionKind::DirectResponse;
  direct.direct_response = {204, "pong"};
  config::Route redirect = routeTo("", PathKind::Prefix, "/old");
  redirect.action_kind = config::Route::ActionKind::Redirect;
  redirect.redirect.response_code = 308;
  config::Route timed = routeTo("svc");
  timed.route.timeout = std::chrono::milliseconds(2500);
  const auto table = tableWithRoutes({direct, redirect, timed});

  const RouteEntry* ping = table->match(request("/ping"));
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->actionKind(), config::Route::ActionKind::DirectResponse);
  EXPECT_EQ(ping->directResponse().status, 204u);
  EXPECT_EQ(ping->directResponse().body, "pong");

  const RouteEntry* old = table->match(request("/old/x"));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->actionKind(), config::Route::ActionKind::Redirect);
  EXPECT_EQ(old->redirect().response_code, 308u);

  const RouteEntry* svc = table->match(request("/other"));
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->routeAction().timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(&svc->virtualHost(), table->findVirtualHost("anything"));
}

}  // namespace
}  // namespace remora::router
