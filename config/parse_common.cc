// Messages shared by several parts of the bootstrap: field checks, addresses,
// matchers, regexes, header mutations and cluster references.
#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "config/parsers.h"

namespace remora::config::detail {
namespace {

bool contains(const auto& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Envoy refuses to add or remove pseudo-headers and Host through header mutations
// (HeaderUtility::isModifiableHeader).
bool isModifiableHeader(std::string_view name) {
  if (name.empty() || name.front() == ':') return false;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower != "host";
}

bool hasForbiddenHeaderChar(std::string_view text) {
  return text.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos;
}

HeaderValueOption parseHeaderValueOption(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"header", "append", "append_action"});
  HeaderValueOption option;
  const ConfigNode header = node.required("header");
  checkFields(header, ctx, {"key", "value"});
  const ConfigNode key = header.required("key");
  option.key = key.asString();
  if (option.key.empty() || hasForbiddenHeaderChar(option.key)) {
    key.fail("invalid header name \"" + option.key + "\"");
  }
  if (!isModifiableHeader(option.key)) key.fail(":-prefixed or host headers may not be modified");
  option.value = header.stringOr("value", "");
  if (hasForbiddenHeaderChar(option.value)) {
    header.required("value").fail("header value must not contain CR, LF or NUL");
  }
  if (node.has("append") && node.has("append_action")) {
    node.fail("'append' and 'append_action' cannot both be set");
  }
  if (std::optional<ConfigNode> append = node.field("append")) {
    option.append_action = append->asBool()
                               ? HeaderValueOption::AppendAction::AppendIfExistsOrAdd
                               : HeaderValueOption::AppendAction::OverwriteIfExistsOrAdd;
  }
  if (std::optional<ConfigNode> action = node.field("append_action")) {
    using Action = HeaderValueOption::AppendAction;
    option.append_action = action->asEnum<Action>({
        {"APPEND_IF_EXISTS_OR_ADD", Action::AppendIfExistsOrAdd},
        {"ADD_IF_ABSENT", Action::AddIfAbsent},
        {"OVERWRITE_IF_EXISTS_OR_ADD", Action::OverwriteIfExistsOrAdd},
        {"OVERWRITE_IF_EXISTS", Action::OverwriteIfExists},
    });
  }
  return option;
}

std::vector<HeaderValueOption> parseHeadersToAdd(const ConfigNode& node, std::string_view name,
                                                 const ParseContext& ctx) {
  std::vector<HeaderValueOption> options;
  if (std::optional<ConfigNode> list = node.field(name)) {
    for (const ConfigNode& element : list->elements()) {
      options.push_back(parseHeaderValueOption(element, ctx));
    }
  }
  return options;
}

std::vector<std::string> parseHeadersToRemove(const ConfigNode& node, std::string_view name) {
  std::vector<std::string> names;
  if (std::optional<ConfigNode> list = node.field(name)) {
    for (const ConfigNode& element : list->elements()) {
      std::string header = element.asString();
      if (!isModifiableHeader(header))
        element.fail(":-prefixed or host headers may not be removed");
      names.push_back(std::move(header));
    }
  }
  return names;
}

}  // namespace

void checkFields(const ConfigNode& node, const ParseContext& ctx,
                 const std::vector<std::string_view>& known,
                 std::initializer_list<std::string_view> unsupported) {
  if (!node.valid()) return;
  if (!node.isMap()) {
    node.fail(std::string("expected a mapping, got ") +
              (node.isSequence() ? "a list" : "a scalar"));
  }
  std::set<std::string, std::less<>> seen;
  for (auto it = node.yaml().begin(); it != node.yaml().end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    const ConfigNode key_node(it->first, node.path().empty() ? key : node.path() + "." + key,
                              ctx.file);
    if (!contains(known, key)) {
      key_node.fail((contains(unsupported, key) ? "unsupported field '" : "unknown field '") + key +
                    "'");
    }
    // yaml-cpp keeps both entries of a repeated key but lookups see only the first.
    if (!seen.insert(key).second) key_node.fail("duplicate field '" + key + "'");
  }
}

std::vector<std::string_view> withHeaderMutationFields(
    std::initializer_list<std::string_view> fields) {
  std::vector<std::string_view> all(fields);
  all.insert(all.end(), {"request_headers_to_add", "request_headers_to_remove",
                         "response_headers_to_add", "response_headers_to_remove"});
  return all;
}

bool isIpLiteral(const std::string& address) {
  in6_addr storage;
  return inet_pton(AF_INET, address.c_str(), &storage) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &storage) == 1;
}

SocketAddress parseAddress(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"socket_address"});
  const ConfigNode socket = node.required("socket_address");
  checkFields(socket, ctx, {"address", "port_value", "protocol"});
  SocketAddress result;
  const ConfigNode address = socket.required("address");
  result.address = address.asString();
  if (result.address.empty()) address.fail("address must not be empty");
  if (std::optional<ConfigNode> port = socket.field("port_value")) {
    result.port_value = port->asUint32();
    if (result.port_value > 65535) port->fail("port_value must be at most 65535");
  }
  if (std::optional<ConfigNode> protocol = socket.field("protocol")) {
    protocol->asEnum<int>({{"TCP", 0}});
  }
  return result;
}

std::string parseRegexMatcher(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"regex", "google_re2"});
  if (std::optional<ConfigNode> engine = node.field("google_re2")) checkFields(*engine, ctx, {});
  const ConfigNode regex = node.required("regex");
  std::string pattern = regex.asString();
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 compiled(pattern, options);
  if (!compiled.ok()) regex.fail("invalid regex \"" + pattern + "\": " + compiled.error());
  return pattern;
}

StringMatcher parseStringMatcher(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"});
  StringMatcher matcher;
  const std::string_view kind = node.oneOf({"exact", "prefix", "suffix", "contains", "safe_regex"});
  const ConfigNode value = node.required(kind);
  if (kind == "safe_regex") {
    matcher.kind = StringMatcher::Kind::SafeRegex;
    matcher.value = parseRegexMatcher(value, ctx);
  } else {
    matcher.kind = kind == "exact"    ? StringMatcher::Kind::Exact
                   : kind == "prefix" ? StringMatcher::Kind::Prefix
                   : kind == "suffix" ? StringMatcher::Kind::Suffix
                                      : StringMatcher::Kind::Contains;
    matcher.value = value.asString();
    if (matcher.value.empty() && kind != "exact") value.fail("value must not be empty");
  }
  matcher.ignore_case = node.boolOr("ignore_case", false);
  return matcher;
}

std::string headerTextOr(const ConfigNode& node, std::string_view name, std::string_view dflt) {
  std::string text = node.stringOr(name, dflt);
  if (hasForbiddenHeaderChar(text)) {
    node.required(name).fail(std::string(name) + " must not contain CR, LF or NUL");
  }
  return text;
}

HeaderMutations parseHeaderMutations(const ConfigNode& node, const ParseContext& ctx) {
  HeaderMutations mutations;
  mutations.request_headers_to_add = parseHeadersToAdd(node, "request_headers_to_add", ctx);
  mutations.request_headers_to_remove = parseHeadersToRemove(node, "request_headers_to_remove");
  mutations.response_headers_to_add = parseHeadersToAdd(node, "response_headers_to_add", ctx);
  mutations.response_headers_to_remove = parseHeadersToRemove(node, "response_headers_to_remove");
  return mutations;
}

std::string parseClusterReference(const ConfigNode& name_node, const ParseContext& ctx) {
  std::string name = name_node.asString();
  if (!ctx.cluster_names.contains(name)) name_node.fail("unknown cluster '" + name + "'");
  return name;
}

Http2ProtocolOptions parseHttp2ProtocolOptions(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(
      node, ctx,
      {"max_concurrent_streams", "initial_stream_window_size", "initial_connection_window_size",
       "hpack_table_size", "max_outbound_frames", "max_outbound_control_frames"});
  Http2ProtocolOptions options;
  options.max_concurrent_streams =
      node.uint32Or("max_concurrent_streams", options.max_concurrent_streams);
  if (options.max_concurrent_streams < 1) {
    node.required("max_concurrent_streams").fail("max_concurrent_streams must be at least 1");
  }
  // RFC 9113: windows are 65535..2^31-1 here (Envoy's own bounds).
  auto window = [&](std::string_view name, uint32_t dflt) {
    const uint32_t value = node.uint32Or(name, dflt);
    if (value < 65535 || value > 2147483647u) {
      node.required(name).fail(std::string(name) + " must be in 65535..2147483647");
    }
    return value;
  };
  options.initial_stream_window_size =
      window("initial_stream_window_size", options.initial_stream_window_size);
  options.initial_connection_window_size =
      window("initial_connection_window_size", options.initial_connection_window_size);
  options.hpack_table_size = node.uint32Or("hpack_table_size", options.hpack_table_size);
  options.max_outbound_frames = node.uint32Or("max_outbound_frames", options.max_outbound_frames);
  options.max_outbound_control_frames =
      node.uint32Or("max_outbound_control_frames", options.max_outbound_control_frames);
  return options;
}

TransportSocket parseTransportSocket(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"name", "typed_config"});
  const ConfigNode name = node.required("name");
  if (name.asString() != "envoy.transport_sockets.tls") {
    name.fail("unsupported transport socket '" + name.asString() +
              "' (supported: envoy.transport_sockets.tls)");
  }
  return TransportSocket{node.required("typed_config")};
}

}  // namespace remora::config::detail
