#include "proxy/router/route_table.h"

#include <algorithm>
#include <array>

namespace remora::router {

namespace {

using PathKind = config::RouteMatch::PathKind;

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  http::toLowerAscii(out);
  return out;
}

// Where a configuration error was found: the YAML position when the route came from a
// file, else its place in the route configuration.
std::string routeContext(const config::Route& route, const config::VirtualHost& virtual_host,
                         size_t index) {
  if (route.source.valid()) return route.source.location() + ": " + route.source.path();
  return "virtual host \"" + virtual_host.name + "\" routes[" + std::to_string(index) + "]";
}

// The value a header matcher sees, or nullopt when the request lacks it. Several
// fields of one name are joined with "," (no space), which is what Envoy matches.
std::optional<std::string_view> headerValueForMatching(const http::RequestHead& request,
                                                       std::string_view name, std::string& joined) {
  if (name == ":authority" || name == "host") {
    if (request.authority.empty()) return std::nullopt;
    return std::string_view(request.authority);
  }
  if (name == ":path") return std::string_view(request.path);
  if (name == ":method") return std::string_view(request.method);
  if (name == ":scheme") return std::string_view(request.scheme);

  const std::string* first = nullptr;
  for (const http::HeaderEntry& entry : request.headers) {
    if (entry.name != name) continue;
    if (first == nullptr) {
      first = &entry.value;
      continue;
    }
    if (joined.empty()) joined = *first;
    joined += ',';
    joined += entry.value;
  }
  if (first == nullptr) return std::nullopt;
  if (joined.empty()) return std::string_view(*first);
  return std::string_view(joined);
}

std::optional<std::string_view> firstQueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t end = query.find('&');
    const std::string_view param = query.substr(0, end);
    const size_t equals = param.find('=');
    if (param.substr(0, equals) == name) {
      return equals == std::string_view::npos ? std::string_view() : param.substr(equals + 1);
    }
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return std::nullopt;
}

// Host of an authority with its ":port" cut off when Envoy would drop it from a
// redirect's Location; IPv6 literals keep their brackets.
std::string_view redirectHost(std::string_view authority, std::string_view new_scheme,
                              std::string_view request_protocol, bool port_redirected) {
  if (authority.empty()) return authority;
  size_t port_start;
  if (authority.front() == '[') {
    port_start = authority.rfind("]:");
    if (port_start != std::string_view::npos) ++port_start;
  } else {
    port_start = authority.rfind(':');
  }
  if (port_start == std::string_view::npos) return authority;

  const std::string_view port = authority.substr(port_start);
  bool drop_port = port_redirected;
  if (new_scheme != request_protocol) {
    drop_port |= (request_protocol == "https" && port == ":443") ||
                 (request_protocol == "http" && port == ":80");
  }
  return drop_port ? authority.substr(0, port_start) : authority;
}

}  // namespace

// ---- HeaderMatcher / QueryParameterMatcher ----

HeaderMatcher::HeaderMatcher(const config::HeaderMatcher& config)
    : name_(lowerCopy(config.name)),
      present_match_(config.present_match),
      invert_match_(config.invert_match),
      treat_missing_header_as_empty_(config.treat_missing_header_as_empty) {
  if (config.string_match) string_match_.emplace(*config.string_match);
}

bool HeaderMatcher::matches(const http::RequestHead& request) const {
  std::string joined;
  std::optional<std::string_view> value = headerValueForMatching(request, name_, joined);
  if (!value && !treat_missing_header_as_empty_) {
    // A missing header satisfies only a presence test that asks for absence:
    // present_match false, or present_match true inverted.
    return !string_match_ && (present_match_ == invert_match_);
  }
  const bool matched = string_match_ ? string_match_->matches(value.value_or("")) : present_match_;
  return matched != invert_match_;
}

QueryParameterMatcher::QueryParameterMatcher(const config::QueryParameterMatcher& config)
    : name_(config.name) {
  if (config.string_match) string_match_.emplace(*config.string_match);
}

bool QueryParameterMatcher::matches(std::string_view query) const {
  const std::optional<std::string_view> value = firstQueryValue(query, name_);
  if (!value) return false;
  return !string_match_ || string_match_->matches(*value);
}

// ---- RouteEntry ----

RouteEntry::RouteEntry(const config::Route& config, const VirtualHostEntry& virtual_host,
                       const HeaderMutations& route_config_headers, stats::Store* store)
    : config_(config),
      virtual_host_(virtual_host),
      stats_(store && !config.stat_prefix.empty()
                 ? &store->routeScope(virtual_host.name(), config.stat_prefix)
                 : nullptr),
      route_config_headers_(route_config_headers),
      headers_(config.headers) {
  const config::RouteMatch& match = config_.match;
  if (match.path_kind == PathKind::SafeRegex) path_regex_ = compileRegex(match.path_value);
  header_matchers_.reserve(match.headers.size());
  for (const config::HeaderMatcher& header : match.headers) header_matchers_.emplace_back(header);
  query_matchers_.reserve(match.query_parameters.size());
  for (const config::QueryParameterMatcher& param : match.query_parameters) {
    query_matchers_.emplace_back(param);
  }

  if (config_.action_kind != config::Route::ActionKind::Route) return;
  const config::RouteAction& action = config_.route;
  if (action.regex_rewrite) {
    if (!action.prefix_rewrite.empty()) {
      throw config::ConfigError("only one of prefix_rewrite and regex_rewrite may be set");
    }
    rewrite_regex_ = compileRegex(action.regex_rewrite->pattern);
  }
  weighted_clusters_.reserve(action.weighted_clusters.size());
  for (const config::WeightedCluster& cluster : action.weighted_clusters) {
    weighted_clusters_.push_back({&cluster, HeaderMutations(cluster.headers)});
    total_weight_ += cluster.weight;
  }
  if (!weighted_clusters_.empty() && total_weight_ == 0) {
    throw config::ConfigError("weighted_clusters: the sum of the weights must be greater than 0");
  }
}

bool RouteEntry::pathMatches(std::string_view path) const {
  const std::string& expected = config_.match.path_value;
  const bool case_sensitive = config_.match.case_sensitive;
  switch (config_.match.path_kind) {
    case PathKind::Prefix: {
      if (path.size() < expected.size()) return false;
      const std::string_view head = path.substr(0, expected.size());
      return case_sensitive ? head == expected : http::equalsIgnoreCase(head, expected);
    }
    case PathKind::Path:
      return case_sensitive ? path == expected : http::equalsIgnoreCase(path, expected);
    case PathKind::SafeRegex:
      return RE2::FullMatch(path, *path_regex_);
  }
  return false;
}

bool RouteEntry::matches(const http::RequestHead& request) const {
  return matches(request, request.pathWithoutQuery());
}

bool RouteEntry::matches(const http::RequestHead& request, std::string_view path) const {
  if (!pathMatches(path)) return false;
  for (const HeaderMatcher& matcher : header_matchers_) {
    if (!matcher.matches(request)) return false;
  }
  if (query_matchers_.empty()) return true;
  const std::string_view query = request.query();
  for (const QueryParameterMatcher& matcher : query_matchers_) {
    if (!matcher.matches(query)) return false;
  }
  return true;
}

const std::string& RouteEntry::pickCluster(uint64_t random_value) const {
  if (weighted_clusters_.empty()) return config_.route.cluster;
  const uint64_t selected = random_value % total_weight_;
  uint64_t end = 0;
  for (const WeightedClusterEntry& entry : weighted_clusters_) {
    end += entry.config->weight;
    if (selected < end) return entry.config->name;
  }
  return weighted_clusters_.back().config->name;  // unreachable: selected < total_weight_
}

size_t RouteEntry::matchedPathLength(const http::RequestHead& request) const {
  if (config_.match.path_kind == PathKind::Prefix) return config_.match.path_value.size();
  return request.pathWithoutQuery().size();
}

void RouteEntry::rewriteRequest(http::RequestHead& request) const {
  const config::RouteAction& action = config_.route;
  if (!action.prefix_rewrite.empty()) {
    request.path.replace(0, matchedPathLength(request), action.prefix_rewrite);
  } else if (rewrite_regex_) {
    const size_t path_length = request.pathWithoutQuery().size();
    std::string path = request.path.substr(0, path_length);
    RE2::GlobalReplace(&path, *rewrite_regex_, action.regex_rewrite->substitution);
    request.path.replace(0, path_length, path);
  }
  if (!action.host_rewrite_literal.empty()) {
    request.authority = action.host_rewrite_literal;
    // The h1 codec keeps the Host field next to the authority; keep the two in step.
    if (request.headers.has("host")) request.headers.set("host", action.host_rewrite_literal);
  }
}

std::string RouteEntry::redirectLocation(const http::RequestHead& request) const {
  const config::RedirectAction& redirect = config_.redirect;
  const std::string_view scheme =
      redirect.scheme_redirect.empty() ? request.scheme : redirect.scheme_redirect;
  const std::string port =
      redirect.port_redirect == 0 ? std::string() : ":" + std::to_string(redirect.port_redirect);

  std::string_view host = redirect.host_redirect;
  if (host.empty()) {
    const std::string* forwarded_proto = request.headers.get("x-forwarded-proto");
    const std::string_view request_protocol =
        forwarded_proto != nullptr ? std::string_view(*forwarded_proto) : request.scheme;
    host = redirectHost(request.authority, scheme, request_protocol, !port.empty());
  }

  std::string path;
  bool query_from_redirect = false;
  if (!redirect.path_redirect.empty()) {
    path = redirect.path_redirect;
    query_from_redirect = path.find('?') != std::string::npos;
    if (!query_from_redirect) {
      const size_t query_start = request.path.find('?');
      if (query_start != std::string::npos) path.append(request.path, query_start);
    }
  } else {
    path = request.path;
    if (!redirect.prefix_rewrite.empty()) {
      path.replace(0, matchedPathLength(request), redirect.prefix_rewrite);
    }
  }
  if (path.empty() || path.front() != '/') path.insert(0, "/");
  if (redirect.strip_query && !query_from_redirect) {
    const size_t query_start = path.find('?');
    if (query_start != std::string::npos) path.resize(query_start);
  }

  std::string location;
  location.reserve(scheme.size() + 3 + host.size() + port.size() + path.size());
  location.append(scheme).append("://").append(host).append(port).append(path);
  return location;
}

const RouteEntry::WeightedClusterEntry* RouteEntry::findWeightedCluster(
    const std::string* name) const {
  if (name == nullptr) return nullptr;
  for (const WeightedClusterEntry& entry : weighted_clusters_) {
    if (entry.config->name == *name) return &entry;
  }
  return nullptr;
}

void RouteEntry::applyRequestHeaderMutations(http::RequestHead& request,
                                             const std::string* weighted_cluster) const {
  if (const WeightedClusterEntry* entry = findWeightedCluster(weighted_cluster)) {
    entry->headers.request.apply(request.headers);
  }
  headers_.request.apply(request.headers);
  virtual_host_.headerMutations().request.apply(request.headers);
  route_config_headers_.request.apply(request.headers);
}

void RouteEntry::applyResponseHeaderMutations(http::ResponseHead& response,
                                              const std::string* weighted_cluster) const {
  if (const WeightedClusterEntry* entry = findWeightedCluster(weighted_cluster)) {
    entry->headers.response.apply(response.headers);
  }
  headers_.response.apply(response.headers);
  virtual_host_.headerMutations().response.apply(response.headers);
  route_config_headers_.response.apply(response.headers);
}

// ---- VirtualHostEntry ----

VirtualHostEntry::VirtualHostEntry(const config::VirtualHost& config,
                                   const HeaderMutations& route_config_headers, stats::Store* store)
    : name_(config.name), domains_(config.domains) {
  try {
    headers_ = HeaderMutations(config.headers);
  } catch (const config::ConfigError& e) {
    throw config::ConfigError("virtual host \"" + name_ + "\": " + e.what());
  }
  routes_.reserve(config.routes.size());
  for (size_t i = 0; i < config.routes.size(); ++i) {
    try {
      routes_.push_back(
          std::make_unique<const RouteEntry>(config.routes[i], *this, route_config_headers, store));
    } catch (const config::ConfigError& e) {
      throw config::ConfigError(routeContext(config.routes[i], config, i) + ": " + e.what());
    }
  }
}

const RouteEntry* VirtualHostEntry::match(const http::RequestHead& request) const {
  // The path is split from its query once, not once per route.
  const std::string_view path = request.pathWithoutQuery();
  for (const std::unique_ptr<const RouteEntry>& route : routes_) {
    if (route->matches(request, path)) return route.get();
  }
  return nullptr;
}

// ---- RouteTable ----

std::shared_ptr<const RouteTable> RouteTable::create(const config::RouteConfiguration& config,
                                                     stats::Store* store) {
  return std::shared_ptr<const RouteTable>(new RouteTable(config, store));
}

RouteTable::RouteTable(const config::RouteConfiguration& config, stats::Store* store)
    : name_(config.name) {
  try {
    headers_ = HeaderMutations(config.headers);
  } catch (const config::ConfigError& e) {
    throw config::ConfigError("route configuration \"" + name_ + "\": " + e.what());
  }
  virtual_hosts_.reserve(config.virtual_hosts.size());
  for (const config::VirtualHost& virtual_host_config : config.virtual_hosts) {
    virtual_hosts_.push_back(
        std::make_unique<const VirtualHostEntry>(virtual_host_config, headers_, store));
    for (const std::string& domain : virtual_host_config.domains) {
      addDomain(domain, *virtual_hosts_.back());
    }
  }
}

void RouteTable::addDomain(const std::string& domain, const VirtualHostEntry& virtual_host) {
  const std::string lower = lowerCopy(domain);
  bool duplicate;
  if (lower == "*") {
    duplicate = default_virtual_host_ != nullptr;
    default_virtual_host_ = &virtual_host;
  } else if (!lower.empty() && lower.front() == '*') {
    duplicate = !suffix_wildcards_[lower.size() - 1].emplace(lower.substr(1), &virtual_host).second;
  } else if (!lower.empty() && lower.back() == '*') {
    duplicate = !prefix_wildcards_[lower.size() - 1]
                     .emplace(lower.substr(0, lower.size() - 1), &virtual_host)
                     .second;
  } else {
    duplicate = !exact_domains_.emplace(lower, &virtual_host).second;
  }
  if (duplicate) {
    throw config::ConfigError("route configuration \"" + name_ + "\": virtual host \"" +
                              virtual_host.name() + "\": domain \"" + domain +
                              "\" is already used; domains must be unique");
  }
}

const VirtualHostEntry* RouteTable::findWildcard(const WildcardMap& wildcards,
                                                 std::string_view host, bool suffix) {
  for (const auto& [length, domains] : wildcards) {
    // ">=": the wildcard must stand for at least one character.
    if (length >= host.size()) continue;
    const std::string_view part =
        suffix ? host.substr(host.size() - length) : host.substr(0, length);
    if (const auto it = domains.find(part); it != domains.end()) return it->second;
  }
  return nullptr;
}

const VirtualHostEntry* RouteTable::findVirtualHost(std::string_view authority) const {
  if (exact_domains_.empty() && suffix_wildcards_.empty() && prefix_wildcards_.empty()) {
    return default_virtual_host_;
  }
  // Lower-cased on the stack: only a Host longer than the buffer costs an allocation.
  std::array<char, 256> buffer;
  std::string long_host;
  std::string_view host;
  if (authority.size() <= buffer.size()) {
    std::transform(authority.begin(), authority.end(), buffer.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    });
    host = std::string_view(buffer.data(), authority.size());
  } else {
    long_host = lowerCopy(authority);
    host = long_host;
  }
  if (const auto it = exact_domains_.find(host); it != exact_domains_.end()) return it->second;
  if (const VirtualHostEntry* found = findWildcard(suffix_wildcards_, host, true)) return found;
  if (const VirtualHostEntry* found = findWildcard(prefix_wildcards_, host, false)) return found;
  return default_virtual_host_;
}

const RouteEntry* RouteTable::match(const http::RequestHead& request) const {
  const VirtualHostEntry* virtual_host = findVirtualHost(request.authority);
  return virtual_host == nullptr ? nullptr : virtual_host->match(request);
}

}  // namespace remora::router
