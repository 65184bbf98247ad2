// config.route.v3.RouteConfiguration and everything inside it.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "config/parsers.h"

namespace remora::config::detail {
namespace {

// Envoy's default for max_direct_response_body_size_bytes.
constexpr std::size_t kMaxDirectResponseBodyBytes = 4096;

bool isHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Envoy's domain forms: "*", an exact host, "*suffix" or "prefix*", each optionally
// followed by ":port"; a bracketed IPv6 literal is an exact host.
bool isValidDomain(std::string_view domain) {
  std::string_view host = domain;
  const std::size_t colon = domain.rfind(':');
  const bool bracketed = !domain.empty() && domain.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || colon > domain.find(']'))) {
    const std::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(std::string(port)) > 65535) {
      return false;
    }
    host = domain.substr(0, colon);
  }
  if (bracketed) {
    if (host.size() < 3 || host.back() != ']') return false;
    const std::string_view inner = host.substr(1, host.size() - 2);
    return std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
  }
  if (host == "*") return true;
  if (!host.empty() && host.front() == '*') {
    host.remove_prefix(1);
  } else if (!host.empty() && host.back() == '*') {
    host.remove_suffix(1);
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), isHostChar);
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

HeaderMatcher parseHeaderMatcher(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(
      node, ctx,
      {"name", "string_match", "present_match", "invert_match", "treat_missing_header_as_empty",
       "exact_match", "prefix_match", "suffix_match", "contains_match", "safe_regex_match"});
  HeaderMatcher matcher;
  const ConfigNode name = node.required("name");
  matcher.name = name.asString();
  if (matcher.name.empty()) name.fail("header name must not be empty");
  const std::string_view kind =
      node.oneOf({"string_match", "present_match", "exact_match", "prefix_match", "suffix_match",
                  "contains_match", "safe_regex_match"},
                 /*allow_none=*/true);
  if (kind == "string_match") {
    matcher.string_match = parseStringMatcher(node.required(kind), ctx);
  } else if (kind == "present_match") {
    matcher.present_match = node.required(kind).asBool();
  } else if (kind == "safe_regex_match") {
    matcher.string_match = StringMatcher{.kind = StringMatcher::Kind::SafeRegex,
                                         .value = parseRegexMatcher(node.required(kind), ctx)};
  } else if (!kind.empty()) {
    // The pre-string_match forms, kept by Envoy as deprecated aliases.
    const ConfigNode value = node.required(kind);
    StringMatcher string_match{.value = value.asString()};
    string_match.kind = kind == "exact_match"    ? StringMatcher::Kind::Exact
                        : kind == "prefix_match" ? StringMatcher::Kind::Prefix
                        : kind == "suffix_match" ? StringMatcher::Kind::Suffix
                                                 : StringMatcher::Kind::Contains;
    if (string_match.value.empty() && kind != "exact_match") value.fail("value must not be empty");
    matcher.string_match = std::move(string_match);
  }
  matcher.invert_match = node.boolOr("invert_match", false);
  matcher.treat_missing_header_as_empty = node.boolOr("treat_missing_header_as_empty", false);
  return matcher;
}

QueryParameterMatcher parseQueryParameterMatcher(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"name", "string_match", "present_match"});
  QueryParameterMatcher matcher;
  const ConfigNode name = node.required("name");
  matcher.name = name.asString();
  if (matcher.name.empty()) name.fail("query parameter name must not be empty");
  const std::string_view kind = node.oneOf({"string_match", "present_match"}, true);
  if (kind == "string_match") matcher.string_match = parseStringMatcher(node.required(kind), ctx);
  if (kind == "present_match") matcher.present_match = node.required(kind).asBool();
  return matcher;
}

RouteMatch parseRouteMatch(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx,
              {"prefix", "path", "safe_regex", "case_sensitive", "headers", "query_parameters"});
  RouteMatch match;
  const std::string_view kind = node.oneOf({"prefix", "path", "safe_regex"});
  if (kind == "safe_regex") {
    match.path_kind = RouteMatch::PathKind::SafeRegex;
    match.path_value = parseRegexMatcher(node.required(kind), ctx);
  } else {
    match.path_kind = kind == "prefix" ? RouteMatch::PathKind::Prefix : RouteMatch::PathKind::Path;
    match.path_value = node.required(kind).asString();
  }
  match.case_sensitive = node.boolOr("case_sensitive", true);
  if (std::optional<ConfigNode> headers = node.field("headers")) {
    for (const ConfigNode& header : headers->elements()) {
      match.headers.push_back(parseHeaderMatcher(header, ctx));
    }
  }
  if (std::optional<ConfigNode> params = node.field("query_parameters")) {
    for (const ConfigNode& param : params->elements()) {
      match.query_parameters.push_back(parseQueryParameterMatcher(param, ctx));
    }
  }
  return match;
}

void parseWeightedClusters(const ConfigNode& node, const ParseContext& ctx, RouteAction& action) {
  checkFields(node, ctx, {"clusters", "runtime_key_prefix"});
  action.runtime_key_prefix = node.stringOr("runtime_key_prefix", "");
  uint64_t total_weight = 0;
  const std::vector<ConfigNode> clusters = node.required("clusters").elements();
  if (clusters.empty()) node.required("clusters").fail("at least one cluster is required");
  for (const ConfigNode& entry : clusters) {
    checkFields(entry, ctx, withHeaderMutationFields({"name", "weight"}),
                {"typed_per_filter_config"});
    WeightedCluster cluster;
    cluster.name = parseClusterReference(entry.required("name"), ctx);
    cluster.weight = entry.uint32Or("weight", 0);
    cluster.headers = parseHeaderMutations(entry, ctx);
    total_weight += cluster.weight;
    action.weighted_clusters.push_back(std::move(cluster));
  }
  if (total_weight == 0) node.fail("the cluster weights sum to 0");
}

RouteAction parseRouteAction(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx,
              {"cluster", "weighted_clusters", "prefix_rewrite", "regex_rewrite",
               "host_rewrite_literal", "auto_host_rewrite", "timeout", "idle_timeout"},
              {"retry_policy"});
  RouteAction action;
  if (node.oneOf({"cluster", "weighted_clusters"}) == "cluster") {
    action.cluster = parseClusterReference(node.required("cluster"), ctx);
  } else {
    parseWeightedClusters(node.required("weighted_clusters"), ctx, action);
  }
  node.oneOf({"prefix_rewrite", "regex_rewrite"}, /*allow_none=*/true);
  action.prefix_rewrite = headerTextOr(node, "prefix_rewrite", "");
  if (std::optional<ConfigNode> rewrite = node.field("regex_rewrite")) {
    checkFields(*rewrite, ctx, {"pattern", "substitution"});
    action.regex_rewrite =
        RegexRewrite{.pattern = parseRegexMatcher(rewrite->required("pattern"), ctx),
                     .substitution = headerTextOr(*rewrite, "substitution", "")};
  }
  node.oneOf({"host_rewrite_literal", "auto_host_rewrite"}, /*allow_none=*/true);
  action.host_rewrite_literal = headerTextOr(node, "host_rewrite_literal", "");
  action.auto_host_rewrite = node.boolOr("auto_host_rewrite", false);
  action.timeout = node.durationOr("timeout", action.timeout);
  if (std::optional<ConfigNode> idle = node.field("idle_timeout")) {
    action.idle_timeout = idle->asDuration();
  }
  return action;
}

std::string readBodyFile(const ConfigNode& filename_node) {
  const std::string filename = filename_node.asString();
  std::ifstream in(filename, std::ios::binary);
  if (!in) filename_node.fail("cannot read file \"" + filename + "\"");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

DirectResponseAction parseDirectResponse(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"status", "body"});
  DirectResponseAction action;
  const ConfigNode status = node.required("status");
  action.status = status.asUint32();
  if (action.status < 100 || action.status > 599) status.fail("status must be in 100..599");
  if (std::optional<ConfigNode> body = node.field("body")) {
    checkFields(*body, ctx, {"inline_string", "filename"});
    const std::string_view source = body->oneOf({"inline_string", "filename"}, true);
    if (source == "inline_string") action.body = body->required(source).asString();
    if (source == "filename") action.body = readBodyFile(body->required(source));
    if (action.body.size() > kMaxDirectResponseBodyBytes) {
      body->fail("response body size is " + std::to_string(action.body.size()) +
                 " bytes; maximum is " + std::to_string(kMaxDirectResponseBodyBytes));
    }
  }
  return action;
}

RedirectAction parseRedirect(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx,
              {"https_redirect", "scheme_redirect", "host_redirect", "port_redirect",
               "path_redirect", "prefix_rewrite", "response_code", "strip_query"});
  RedirectAction redirect;
  if (node.oneOf({"https_redirect", "scheme_redirect"}, true) == "https_redirect") {
    if (node.required("https_redirect").asBool()) redirect.scheme_redirect = "https";
  } else {
    redirect.scheme_redirect = headerTextOr(node, "scheme_redirect", "");
  }
  redirect.host_redirect = headerTextOr(node, "host_redirect", "");
  if (std::optional<ConfigNode> port = node.field("port_redirect")) {
    redirect.port_redirect = port->asUint32();
    if (redirect.port_redirect > 65535) port->fail("port_redirect must be at most 65535");
  }
  node.oneOf({"path_redirect", "prefix_rewrite"}, /*allow_none=*/true);
  redirect.path_redirect = headerTextOr(node, "path_redirect", "");
  redirect.prefix_rewrite = headerTextOr(node, "prefix_rewrite", "");
  if (std::optional<ConfigNode> code = node.field("response_code")) {
    redirect.response_code = code->asEnum<uint32_t>({
        {"MOVED_PERMANENTLY", 301},
        {"FOUND", 302},
        {"SEE_OTHER", 303},
        {"TEMPORARY_REDIRECT", 307},
        {"PERMANENT_REDIRECT", 308},
    });
  }
  redirect.strip_query = node.boolOr("strip_query", false);
  return redirect;
}

Route parseRoute(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx,
              withHeaderMutationFields(
                  {"name", "match", "route", "direct_response", "redirect", "stat_prefix"}),
              {"typed_per_filter_config"});
  Route route;
  route.name = node.stringOr("name", "");
  route.stat_prefix = node.stringOr("stat_prefix", "");
  route.match = parseRouteMatch(node.required("match"), ctx);
  const std::string_view action = node.oneOf({"route", "direct_response", "redirect"});
  if (action == "route") {
    route.action_kind = Route::ActionKind::Route;
    route.route = parseRouteAction(node.required(action), ctx);
  } else if (action == "direct_response") {
    route.action_kind = Route::ActionKind::DirectResponse;
    route.direct_response = parseDirectResponse(node.required(action), ctx);
  } else {
    route.action_kind = Route::ActionKind::Redirect;
    route.redirect = parseRedirect(node.required(action), ctx);
  }
  route.headers = parseHeaderMutations(node, ctx);
  route.source = node;
  return route;
}

VirtualHost parseVirtualHost(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, withHeaderMutationFields({"name", "domains", "routes"}),
              {"retry_policy", "typed_per_filter_config"});
  VirtualHost vhost;
  const ConfigNode name = node.required("name");
  vhost.name = name.asString();
  if (vhost.name.empty()) name.fail("virtual host name must not be empty");
  const ConfigNode domains = node.required("domains");
  for (const ConfigNode& domain : domains.elements()) {
    std::string value = domain.asString();
    if (!isValidDomain(value)) domain.fail("invalid domain \"" + value + "\"");
    vhost.domains.push_back(std::move(value));
  }
  if (vhost.domains.empty()) domains.fail("at least one domain is required");
  if (std::optional<ConfigNode> routes = node.field("routes")) {
    for (const ConfigNode& route : routes->elements()) {
      vhost.routes.push_back(parseRoute(route, ctx));
    }
  }
  vhost.headers = parseHeaderMutations(node, ctx);
  return vhost;
}

}  // namespace

RouteConfiguration parseRouteConfiguration(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, withHeaderMutationFields({"name", "virtual_hosts"}));
  RouteConfiguration config;
  config.name = node.stringOr("name", "");
  // Envoy refuses a repeated virtual host name or domain within one route table.
  std::set<std::string, std::less<>> vhost_names;
  std::map<std::string, std::string, std::less<>> domain_owner;
  if (std::optional<ConfigNode> vhosts = node.field("virtual_hosts")) {
    for (const ConfigNode& element : vhosts->elements()) {
      VirtualHost vhost = parseVirtualHost(element, ctx);
      if (!vhost_names.insert(vhost.name).second) {
        element.required("name").fail("duplicate virtual host name '" + vhost.name + "'");
      }
      const std::vector<ConfigNode> domain_nodes = element.required("domains").elements();
      for (std::size_t i = 0; i < vhost.domains.size(); ++i) {
        const auto [owner, added] = domain_owner.emplace(lowercase(vhost.domains[i]), vhost.name);
        if (!added) {
          domain_nodes[i].fail("duplicate domain '" + vhost.domains[i] +
                               "' (also in virtual host '" + owner->second + "')");
        }
      }
      config.virtual_hosts.push_back(std::move(vhost));
    }
  }
  config.headers = parseHeaderMutations(node, ctx);
  return config;
}

}  // namespace remora::config::detail

namespace remora::config {

HeaderMatcher parseHeaderMatcher(const ConfigNode& node) {
  return detail::parseHeaderMatcher(node, detail::ParseContext{});
}

}  // namespace remora::config
