// The compiled route table: config::RouteConfiguration turned once, on the main
// thread, into an immutable structure that every worker reads concurrently without
// locks (std::shared_ptr<const RouteTable>; a stream keeps the table it started with).
//
// Matching follows Envoy:
// - Virtual host by authority, case-insensitive: exact domain, then the longest
//   suffix wildcard ("*.foo.com", "*-bar.foo.com"), then the longest prefix wildcard
//   ("foo.*"), then "*". A wildcard never matches an empty part. The port is part of
//   the authority that is matched: "example.com" does not match "example.com:8080".
//   That is Envoy's default (RouteConfiguration.ignore_port_in_host_matching and the
//   HCM's strip_matching_host_port / strip_any_host_port all default to false); list
//   "example.com" together with "example.com:8080" (or "example.com:*") to accept both.
// - Routes in config order, first match wins: the path condition (prefix, exact path
//   or full-match RE2, all on the path without the query), then every header matcher,
//   then every query parameter matcher.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/bootstrap.h"
#include "proxy/http/message.h"
#include "proxy/router/header_mutation.h"
#include "proxy/router/string_matcher.h"
#include "telemetry/stats/stats_store.h"

namespace remora::router {

// config.route.v3.HeaderMatcher. The pseudo-headers ":method", ":path" (with the
// query), ":scheme" and ":authority" (also reachable as "host", as in Envoy) read the
// request head; any other name reads every field of that name joined with ",".
class HeaderMatcher {
 public:
  explicit HeaderMatcher(const config::HeaderMatcher& config);
  bool matches(const http::RequestHead& request) const;

 private:
  std::string name_;  // lower-case
  std::optional<StringMatcher> string_match_;
  bool present_match_;
  bool invert_match_;
  bool treat_missing_header_as_empty_;
};

// config.route.v3.QueryParameterMatcher. Parameters are split on '&' and the first
// '=' without percent-decoding, and the first occurrence of a name is the one
// matched, as Envoy's route matching does.
class QueryParameterMatcher {
 public:
  explicit QueryParameterMatcher(const config::QueryParameterMatcher& config);
  bool matches(std::string_view query) const;

 private:
  std::string name_;
  std::optional<StringMatcher> string_match_;  // absent: the parameter must be present
};

class VirtualHostEntry;

class RouteEntry {
 public:
  // Throws config::ConfigError (bad regex, zero total weight, conflicting rewrites,
  // unsupported header mutation).
  RouteEntry(const config::Route& config, const VirtualHostEntry& virtual_host,
             const HeaderMutations& route_config_headers, stats::Store* store);
  RouteEntry(const RouteEntry&) = delete;
  RouteEntry& operator=(const RouteEntry&) = delete;

  const config::Route& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  config::Route::ActionKind actionKind() const { return config_.action_kind; }
  const config::RouteAction& routeAction() const { return config_.route; }
  const config::RedirectAction& redirect() const { return config_.redirect; }
  const config::DirectResponseAction& directResponse() const { return config_.direct_response; }
  const VirtualHostEntry& virtualHost() const { return virtual_host_; }
  // Per-route stats, only when the route sets stat_prefix.
  stats::Scope<stats::RouteStats>* stats() const { return stats_; }

  bool matches(const http::RequestHead& request) const;
  // Same, with the request's path already split from its query.
  bool matches(const http::RequestHead& request, std::string_view path_without_query) const;

  // The upstream cluster: route.cluster, or for weighted clusters the entry that
  // random_value % total_weight falls into when the weights are laid end to end in
  // config order. Deterministic in random_value so tests and hashing can pin it.
  const std::string& pickCluster(uint64_t random_value) const;

  // Applies prefix_rewrite (the matched prefix, or the whole path for exact and regex
  // routes, is replaced), else regex_rewrite (RE2::GlobalReplace on the path without
  // the query; the query is kept), then host_rewrite_literal (the authority, and the
  // Host field when the request carries one).
  // The caller records x-envoy-original-path if it wants it.
  void rewriteRequest(http::RequestHead& request) const;

  // The Location of a redirect route, built as Envoy does: scheme_redirect or the
  // request's scheme; host_redirect, or the request authority with its port dropped
  // when port_redirect is set or the port is the default one of the request's
  // protocol (x-forwarded-proto, else the head's scheme) and the scheme changes;
  // ":port_redirect"; path_redirect (keeping the request query unless path_redirect
  // has its own) or the request path after the redirect's prefix_rewrite; strip_query
  // then drops the query unless it came from path_redirect.
  std::string redirectLocation(const http::RequestHead& request) const;

  // Header mutations, applied like Envoy with most_specific_header_mutations_wins
  // false: the chosen weighted cluster entry's (when weighted_cluster names one), then
  // the route's, then the virtual host's, then the route configuration's, so the
  // least specific level is applied last and wins an overwrite.
  void applyRequestHeaderMutations(http::RequestHead& request,
                                   const std::string* weighted_cluster) const;
  void applyResponseHeaderMutations(http::ResponseHead& response,
                                    const std::string* weighted_cluster) const;

 private:
  struct WeightedClusterEntry {
    const config::WeightedCluster* config;
    HeaderMutations headers;
  };

  bool pathMatches(std::string_view path) const;
  // Length of the part of the request path that prefix_rewrite replaces.
  size_t matchedPathLength(const http::RequestHead& request) const;
  const WeightedClusterEntry* findWeightedCluster(const std::string* name) const;

  const config::Route config_;
  const VirtualHostEntry& virtual_host_;
  stats::Scope<stats::RouteStats>* stats_ = nullptr;
  const HeaderMutations& route_config_headers_;
  std::unique_ptr<const RE2> path_regex_;
  std::vector<HeaderMatcher> header_matchers_;
  std::vector<QueryParameterMatcher> query_matchers_;
  std::unique_ptr<const RE2> rewrite_regex_;
  std::vector<WeightedClusterEntry> weighted_clusters_;
  uint64_t total_weight_ = 0;
  HeaderMutations headers_;
};

class VirtualHostEntry {
 public:
  VirtualHostEntry(const config::VirtualHost& config, const HeaderMutations& route_config_headers,
                   stats::Store* store);
  VirtualHostEntry(const VirtualHostEntry&) = delete;
  VirtualHostEntry& operator=(const VirtualHostEntry&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& domains() const { return domains_; }
  const std::vector<std::unique_ptr<const RouteEntry>>& routes() const { return routes_; }
  const HeaderMutations& headerMutations() const { return headers_; }

  // First route that matches, or nullptr.
  const RouteEntry* match(const http::RequestHead& request) const;

 private:
  std::string name_;
  std::vector<std::string> domains_;
  HeaderMutations headers_;
  std::vector<std::unique_ptr<const RouteEntry>> routes_;
};

class RouteTable {
 public:
  // Compiles every matcher and regex once. Throws config::ConfigError (duplicate
  // domain, more than one "*", and the RouteEntry errors, prefixed with where).
  // With a store, routes that set stat_prefix get their stats scope there.
  static std::shared_ptr<const RouteTable> create(const config::RouteConfiguration& config,
                                                  stats::Store* store = nullptr);
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // The route for the request's authority and path, or nullptr (Envoy's 404 with
  // response flag NR).
  const RouteEntry* match(const http::RequestHead& request) const;
  // nullptr when no domain and no "*" matches.
  const VirtualHostEntry* findVirtualHost(std::string_view authority) const;

  const std::string& name() const { return name_; }
  const std::vector<std::unique_ptr<const VirtualHostEntry>>& virtualHosts() const {
    return virtual_hosts_;
  }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using DomainMap =
      std::unordered_map<std::string, const VirtualHostEntry*, StringHash, std::equal_to<>>;
  // Keyed by the length of the literal part, longest first.
  using WildcardMap = std::map<size_t, DomainMap, std::greater<>>;

  RouteTable(const config::RouteConfiguration& config, stats::Store* store);
  void addDomain(const std::string& domain, const VirtualHostEntry& virtual_host);
  static const VirtualHostEntry* findWildcard(const WildcardMap& wildcards, std::string_view host,
                                              bool suffix);

  std::string name_;
  HeaderMutations headers_;
  std::vector<std::unique_ptr<const VirtualHostEntry>> virtual_hosts_;
  DomainMap exact_domains_;
  WildcardMap suffix_wildcards_;  // "*.foo.com" stored as ".foo.com"
  WildcardMap prefix_wildcards_;  // "foo.*" stored as "foo."
  const VirtualHostEntry* default_virtual_host_ = nullptr;
};

}  // namespace remora::router
