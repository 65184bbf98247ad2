// Internal to the config loader: one parse function per Envoy v3 message, split by
// area (parse_common.cc, route_config_parser.cc, listener_parser.cc, cluster_parser.cc).
// Each function checks the message's field names, fills the typed struct from
// bootstrap.h and raises ConfigError at the position of the offending value.
#pragma once

#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/bootstrap.h"
#include "config/config_node.h"

namespace remora::config::detail {

struct ParseContext {
  std::shared_ptr<const std::string> file;
  // Filled before any listener is parsed, so that a reference to an undefined cluster
  // is reported at the referencing field.
  std::set<std::string, std::less<>> cluster_names;
};

// Fails on the first key that is not in `known`: "unsupported field 'x'" when it is
// one of `unsupported` (an Envoy field this release does not implement), otherwise
// "unknown field 'x'"; also on a repeated key. Reported at the key's position.
void checkFields(const ConfigNode& node, const ParseContext& ctx,
                 const std::vector<std::string_view>& known,
                 std::initializer_list<std::string_view> unsupported = {});
// `fields` plus request/response_headers_to_add/remove.
std::vector<std::string_view> withHeaderMutationFields(
    std::initializer_list<std::string_view> fields);

bool isIpLiteral(const std::string& address);
// config.core.v3.Address holding a socket_address (TCP only).
SocketAddress parseAddress(const ConfigNode& node, const ParseContext& ctx);
// type.matcher.v3.RegexMatcher; returns the pattern after compiling it with RE2.
std::string parseRegexMatcher(const ConfigNode& node, const ParseContext& ctx);
StringMatcher parseStringMatcher(const ConfigNode& node, const ParseContext& ctx);
// The string field `name` of `node`, or `dflt`; fails if it holds CR, LF or NUL, since
// it is written into an HTTP/1 head (a header value or the request target).
std::string headerTextOr(const ConfigNode& node, std::string_view name, std::string_view dflt);
// Reads the four header mutation fields of `node` (the caller checks field names).
HeaderMutations parseHeaderMutations(const ConfigNode& node, const ParseContext& ctx);
// `name_node` holds a cluster name; fails unless that cluster is defined.
std::string parseClusterReference(const ConfigNode& name_node, const ParseContext& ctx);

// config.core.v3.Http2ProtocolOptions, for the connection manager and clusters.
Http2ProtocolOptions parseHttp2ProtocolOptions(const ConfigNode& node, const ParseContext& ctx);

// A transport_socket; its typed_config is parsed by proxy/network/tls.
TransportSocket parseTransportSocket(const ConfigNode& node, const ParseContext& ctx);

RouteConfiguration parseRouteConfiguration(const ConfigNode& node, const ParseContext& ctx);
Listener parseListener(const ConfigNode& node, const ParseContext& ctx);
Cluster parseCluster(const ConfigNode& node, const ParseContext& ctx);

}  // namespace remora::config::detail
