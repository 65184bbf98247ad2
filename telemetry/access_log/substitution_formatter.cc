#include "telemetry/access_log/substitution_formatter.h"

#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "proxy/common/json.h"
#include "proxy/http/grpc.h"
#include "telemetry/access_log/time_format.h"

namespace remora::telemetry {
namespace {

enum class Operator {
  StartTime,
  RequestHeader,
  ResponseHeader,
  ResponseTrailer,
  ResponseCode,
  ResponseFlags,
  ResponseCodeDetails,
  BytesReceived,
  BytesSent,
  Duration,
  RequestDuration,
  ResponseDuration,
  UpstreamHost,
  UpstreamCluster,
  DownstreamRemoteAddress,
  DownstreamRemoteAddressWithoutPort,
  DownstreamDirectRemoteAddress,
  DownstreamDirectRemoteAddressWithoutPort,
  Protocol,
  RouteName,
  Hostname,
  GrpcStatus,
  GrpcStatusNumber,
  DownstreamPeerUriSan,
  DownstreamPeerDnsSan,
  DownstreamPeerSubject,
  DownstreamTlsVersion,
  DownstreamTlsCipher,
  RequestedServerName,
  ConnectionTerminationDetails,
  DynamicMetadata,
};

// Header: "X?Y" (and a length limit). Metadata: "NAMESPACE:KEY" (and a length limit).
enum class Argument { None, Optional, Header, Metadata };

struct OperatorSpec {
  std::string_view name;
  Operator op;
  Argument argument;
};

constexpr std::array<OperatorSpec, 31> kOperators{{
    {"START_TIME", Operator::StartTime, Argument::Optional},
    {"REQ", Operator::RequestHeader, Argument::Header},
    {"RESP", Operator::ResponseHeader, Argument::Header},
    {"TRAILER", Operator::ResponseTrailer, Argument::Header},
    {"RESPONSE_CODE", Operator::ResponseCode, Argument::None},
    {"RESPONSE_FLAGS", Operator::ResponseFlags, Argument::None},
    {"RESPONSE_CODE_DETAILS", Operator::ResponseCodeDetails, Argument::None},
    {"BYTES_RECEIVED", Operator::BytesReceived, Argument::None},
    {"BYTES_SENT", Operator::BytesSent, Argument::None},
    {"DURATION", Operator::Duration, Argument::None},
    {"REQUEST_DURATION", Operator::RequestDuration, Argument::None},
    {"RESPONSE_DURATION", Operator::ResponseDuration, Argument::None},
    {"UPSTREAM_HOST", Operator::UpstreamHost, Argument::None},
    {"UPSTREAM_CLUSTER", Operator::UpstreamCluster, Argument::None},
    {"DOWNSTREAM_REMOTE_ADDRESS", Operator::DownstreamRemoteAddress, Argument::None},
    {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Operator::DownstreamRemoteAddressWithoutPort,
     Argument::None},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", Operator::DownstreamDirectRemoteAddress, Argument::None},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
     Operator::DownstreamDirectRemoteAddressWithoutPort, Argument::None},
    {"PROTOCOL", Operator::Protocol, Argument::None},
    {"ROUTE_NAME", Operator::RouteName, Argument::None},
    {"HOSTNAME", Operator::Hostname, Argument::None},
    {"GRPC_STATUS", Operator::GrpcStatus, Argument::None},
    {"GRPC_STATUS_NUMBER", Operator::GrpcStatusNumber, Argument::None},
    {"DOWNSTREAM_PEER_URI_SAN", Operator::DownstreamPeerUriSan, Argument::None},
    {"DOWNSTREAM_PEER_DNS_SAN", Operator::DownstreamPeerDnsSan, Argument::None},
    {"DOWNSTREAM_PEER_SUBJECT", Operator::DownstreamPeerSubject, Argument::None},
    {"DOWNSTREAM_TLS_VERSION", Operator::DownstreamTlsVersion, Argument::None},
    {"DOWNSTREAM_TLS_CIPHER", Operator::DownstreamTlsCipher, Argument::None},
    {"REQUESTED_SERVER_NAME", Operator::RequestedServerName, Argument::None},
    {"CONNECTION_TERMINATION_DETAILS", Operator::ConnectionTerminationDetails, Argument::None},
    {"DYNAMIC_METADATA", Operator::DynamicMetadata, Argument::Metadata},
}};

struct Command {
  Operator op;
  std::string main_header;         // lower-case
  std::string alternative_header;  // lower-case, empty if none
  std::optional<std::size_t> max_length;
  TimeFormat time_format;  // START_TIME
  std::string hostname;    // HOSTNAME, read once at configuration time
  // DYNAMIC_METADATA: only the RBAC filters write metadata, so any other namespace or
  // key renders as missing.
  std::string metadata_namespace;
  std::string metadata_key;
};

using Piece = std::variant<std::string, Command>;

// The text that operators build (a start time, a joined SAN list) goes into one buffer
// per thread, which keeps its storage: formatting a line allocates nothing once it has
// grown. Each value is written out before the next is evaluated, so one buffer does.
std::string& clearedScratch() {
  thread_local std::string scratch;
  scratch.clear();
  return scratch;
}

// One operator's result. `text` may point into the context or into `storage`, so a
// Value is filled in place and never copied.
struct Value {
  enum class Kind { Missing, String, Number };
  Kind kind = Kind::Missing;
  std::string_view text;
  uint64_t number = 0;
  std::string& storage = clearedScratch();

  void setString(std::string_view s) {
    kind = Kind::String;
    text = s;
  }
  // Takes what was built in `storage`.
  void setStored() { setString(storage); }
  // An empty StreamInfo string means "not set".
  void setUnlessEmpty(std::string_view s) {
    if (!s.empty()) setString(s);
  }
  void setNumber(uint64_t n) {
    kind = Kind::Number;
    number = n;
  }
};

const std::string* pseudoHeader(const http::RequestHead& head, std::string_view name) {
  if (name == ":method") return &head.method;
  if (name == ":path") return &head.path;
  if (name == ":authority") return &head.authority;
  if (name == ":scheme") return &head.scheme;
  return nullptr;
}

// The request header (or pseudo-header) `name`, nullopt when absent.
std::optional<std::string_view> requestHeader(const http::RequestHead& head,
                                              std::string_view name) {
  if (!name.empty() && name.front() == ':') {
    const std::string* value = pseudoHeader(head, name);
    if (value == nullptr || value->empty()) return std::nullopt;
    return *value;
  }
  const std::string* value = head.headers.get(name);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::optional<std::string_view> mapHeader(const http::HeaderMap* headers, std::string_view name) {
  const std::string* value = headers ? headers->get(name) : nullptr;
  if (value == nullptr) return std::nullopt;
  return *value;
}

void evaluateHeader(const Command& command, const LogContext& context, Value& value) {
  auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    switch (command.op) {
      case Operator::RequestHeader:
        if (context.request == nullptr) return std::nullopt;
        return requestHeader(*context.request, name);
      case Operator::ResponseHeader:
        if (context.response == nullptr) return std::nullopt;
        if (name == ":status") {
          value.storage = std::to_string(context.response->status);
          return value.storage;
        }
        return mapHeader(&context.response->headers, name);
      default:
        return mapHeader(context.response_trailers, name);
    }
  };
  std::optional<std::string_view> found = lookup(command.main_header);
  if (!found && !command.alternative_header.empty()) found = lookup(command.alternative_header);
  if (!found) return;
  std::string_view text = *found;
  if (command.max_length) text = text.substr(0, *command.max_length);
  value.setString(text);
}

std::optional<uint64_t> millisBetween(
    stream::StreamInfo::Clock::time_point from,
    const std::optional<stream::StreamInfo::Clock::time_point>& to) {
  if (!to) return std::nullopt;
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*to - from).count());
}

// "[::1]:80" -> "::1", "10.0.0.1:80" -> "10.0.0.1".
std::string_view withoutPort(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    const std::size_t close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(1, close - 1);
  }
  const std::size_t colon = address.find(':');
  if (colon == std::string_view::npos || address.find(':', colon + 1) != std::string_view::npos) {
    return address;  // no port, or an unbracketed IPv6 address
  }
  return address.substr(0, colon);
}

// Envoy lists a certificate's SANs of one type comma-separated. One SAN (the usual
// SPIFFE identity) is returned in place, without copying.
std::string_view joinWithCommas(const std::vector<std::string>& items, std::string& storage) {
  if (items.size() == 1) return items.front();
  for (const std::string& item : items) {
    if (!storage.empty()) storage += ',';
    storage += item;
  }
  return storage;
}

void evaluate(const Command& command, const LogContext& context, Value& value) {
  const stream::StreamInfo& info = context.info;
  auto setOptionalNumber = [&](std::optional<uint64_t> n) {
    if (n) value.setNumber(*n);
  };
  switch (command.op) {
    case Operator::StartTime: {
      command.time_format.format(info.start_wall, value.storage);
      value.setStored();
      return;
    }
    case Operator::RequestHeader:
    case Operator::ResponseHeader:
    case Operator::ResponseTrailer:
      evaluateHeader(command, context, value);
      return;
    case Operator::ResponseCode:
      value.setNumber(static_cast<uint64_t>(info.response_code));
      return;
    case Operator::ResponseFlags:
      value.storage = stream::responseFlagsString(info.response_flags);
      value.setStored();
      return;
    case Operator::ResponseCodeDetails:
      value.setUnlessEmpty(info.response_code_details);
      return;
    case Operator::GrpcStatus:
      if (info.grpc_status) value.setString(http::grpc::statusName(*info.grpc_status));
      return;
    case Operator::GrpcStatusNumber:
      if (info.grpc_status) value.setNumber(static_cast<uint64_t>(*info.grpc_status));
      return;
    case Operator::BytesReceived:
      value.setNumber(info.bytes_received);
      return;
    case Operator::BytesSent:
      value.setNumber(info.bytes_sent);
      return;
    case Operator::Duration:
      setOptionalNumber(millisBetween(info.start, info.end));
      return;
    case Operator::RequestDuration:
      // StreamInfo does not record when the last request byte arrived yet.
      return;
    case Operator::ResponseDuration:
      setOptionalNumber(millisBetween(info.start, info.first_upstream_byte));
      return;
    case Operator::UpstreamHost:
      value.setUnlessEmpty(info.upstream_host);
      return;
    case Operator::UpstreamCluster:
      value.setUnlessEmpty(info.cluster_name);
      return;
    case Operator::DownstreamRemoteAddress:
      // Envoy's address for a client read from x-forwarded-for has port 0.
      if (const std::string& client = info.downstream_trusted_client_ip; !client.empty()) {
        const bool v6 = client.find(':') != std::string::npos;
        if (v6) value.storage += '[';
        value.storage += client;
        value.storage += v6 ? "]:0" : ":0";
        value.setStored();
        return;
      }
      value.setUnlessEmpty(info.downstream_remote_address);
      return;
    case Operator::DownstreamRemoteAddressWithoutPort:
      if (!info.downstream_trusted_client_ip.empty()) {
        value.setString(info.downstream_trusted_client_ip);
        return;
      }
      value.setUnlessEmpty(withoutPort(info.downstream_remote_address));
      return;
    case Operator::DownstreamDirectRemoteAddress:
      value.setUnlessEmpty(info.downstream_remote_address);
      return;
    case Operator::DownstreamDirectRemoteAddressWithoutPort:
      value.setUnlessEmpty(withoutPort(info.downstream_remote_address));
      return;
    case Operator::Protocol:
      // A TCP session has neither head; an HTTP stream has at least one of them.
      if (context.request != nullptr || context.response != nullptr) {
        value.setString(http::protocolString(info.protocol));
      }
      return;
    case Operator::RouteName:
      value.setUnlessEmpty(info.route_name);
      return;
    case Operator::Hostname:
      value.setUnlessEmpty(command.hostname);
      return;
    case Operator::DownstreamPeerUriSan:
      value.setUnlessEmpty(joinWithCommas(info.peer_uri_sans, value.storage));
      return;
    case Operator::DownstreamPeerDnsSan:
      value.setUnlessEmpty(joinWithCommas(info.peer_dns_sans, value.storage));
      return;
    case Operator::DownstreamPeerSubject:
      value.setUnlessEmpty(info.peer_subject);
      return;
    case Operator::DownstreamTlsVersion:
      value.setUnlessEmpty(info.tls_version);
      return;
    case Operator::DownstreamTlsCipher:
      value.setUnlessEmpty(info.tls_cipher);
      return;
    case Operator::RequestedServerName:
      value.setUnlessEmpty(info.requested_server_name);
      return;
    case Operator::ConnectionTerminationDetails:
      value.setUnlessEmpty(info.connection_termination_details);
      return;
    case Operator::DynamicMetadata:
      if (std::optional<std::string_view> found =
              info.rbac.lookup(command.metadata_namespace, command.metadata_key)) {
        value.setString(command.max_length ? found->substr(0, *command.max_length) : *found);
      }
      return;
  }
}

void appendNumber(uint64_t n, std::string& out) {
  std::array<char, 24> digits;
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  out.append(digits.data(), result.ptr);
}

void appendText(const Value& value, bool omit_empty_values, std::string& out) {
  switch (value.kind) {
    case Value::Kind::Missing:
      if (!omit_empty_values) out += '-';
      return;
    case Value::Kind::String:
      out += value.text;
      return;
    case Value::Kind::Number:
      appendNumber(value.number, out);
      return;
  }
}

void appendPieces(const std::vector<Piece>& pieces, const LogContext& context,
                  bool omit_empty_values, std::string& out) {
  for (const Piece& piece : pieces) {
    if (const std::string* literal = std::get_if<std::string>(&piece)) {
      out += *literal;
      continue;
    }
    Value value;
    evaluate(std::get<Command>(piece), context, value);
    appendText(value, omit_empty_values, out);
  }
}

std::string localHostname() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return {};
  return name.data();
}

std::string toLower(std::string_view text) {
  std::string lower(text);
  http::toLowerAscii(lower);
  return lower;
}

// Parses one operator's text (between the '%'s, e.g. "REQ(X?Y):10") into `command`;
// returns an error message or an empty string.
std::string parseCommand(std::string_view token, Command& command) {
  const std::string quoted = "'%" + std::string(token) + "%'";
  std::size_t name_end = 0;
  while (name_end < token.size() &&
         ((token[name_end] >= 'A' && token[name_end] <= 'Z') ||
          (token[name_end] >= '0' && token[name_end] <= '9') || token[name_end] == '_')) {
    ++name_end;
  }
  const std::string_view name = token.substr(0, name_end);
  const OperatorSpec* spec = nullptr;
  for (const OperatorSpec& candidate : kOperators) {
    if (candidate.name == name) spec = &candidate;
  }
  if (spec == nullptr) return "unknown command operator " + quoted;
  command.op = spec->op;

  std::string_view rest = token.substr(name_end);
  std::optional<std::string_view> argument;
  if (!rest.empty() && rest.front() == '(') {
    const std::size_t close = rest.find(')');
    argument = rest.substr(1, close - 1);  // the tokenizer guarantees the ')'
    rest.remove_prefix(close + 1);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return "unknown command operator " + quoted;
    if (spec->argument != Argument::Header && spec->argument != Argument::Metadata) {
      return quoted + " does not take a length limit";
    }
    std::size_t limit = 0;
    const auto result = std::from_chars(rest.data() + 1, rest.data() + rest.size(), limit);
    if (result.ec != std::errc() || result.ptr != rest.data() + rest.size()) {
      return "invalid length limit in " + quoted;
    }
    command.max_length = limit;
  }

  switch (spec->argument) {
    case Argument::None:
      if (argument) return quoted + " takes no argument";
      break;
    case Argument::Optional:
      command.time_format =
          TimeFormat(argument && !argument->empty() ? *argument : "%Y-%m-%dT%H:%M:%E3SZ");
      break;
    case Argument::Header: {
      if (!argument || argument->empty()) {
        return quoted + " needs a header name, e.g. %" + std::string(name) + "(x-request-id)%";
      }
      const std::size_t question = argument->find('?');
      command.main_header = toLower(argument->substr(0, question));
      if (question != std::string_view::npos) {
        command.alternative_header = toLower(argument->substr(question + 1));
        if (command.alternative_header.find('?') != std::string::npos) {
          return quoted + " may name at most one alternative header (X?Y)";
        }
      }
      if (command.main_header.empty() ||
          (question != std::string_view::npos && command.alternative_header.empty())) {
        return quoted + " has an empty header name";
      }
      break;
    }
    case Argument::Metadata: {
      const std::size_t colon = argument ? argument->find(':') : std::string_view::npos;
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == argument->size()) {
        return quoted +
               " needs a namespace and a key, e.g. "
               "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)%";
      }
      command.metadata_namespace = std::string(argument->substr(0, colon));
      command.metadata_key = std::string(argument->substr(colon + 1));
      break;
    }
  }
  if (spec->op == Operator::Hostname) command.hostname = localHostname();
  return {};
}

// Splits a template into literal text and commands; raises errors at `node`.
std::vector<Piece> parseTemplate(std::string_view format, const config::ConfigNode& node) {
  std::vector<Piece> pieces;
  std::string literal;
  std::size_t i = 0;
  while (i < format.size()) {
    if (format[i] != '%') {
      literal += format[i++];
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal += '%';
      i += 2;
      continue;
    }
    // NAME, then an optional "(argument)" that may itself hold '%' (START_TIME's
    // strftime format), then an optional ":length", then the closing '%'.
    std::size_t end = i + 1;
    while (end < format.size() && format[end] != '%' && format[end] != '(') ++end;
    if (end < format.size() && format[end] == '(') {
      end = format.find(')', end);
      if (end != std::string_view::npos) end = format.find('%', end);
    }
    if (end >= format.size() || end == i + 1) {
      node.fail("no command operator at offset " + std::to_string(i) +
                " of the format (write '%%' for a literal '%')");
    }
    Command command;
    const std::string error = parseCommand(format.substr(i + 1, end - i - 1), command);
    if (!error.empty()) node.fail(error);
    if (!literal.empty()) pieces.emplace_back(std::move(literal));
    literal.clear();
    pieces.emplace_back(std::move(command));
    i = end + 1;
  }
  if (!literal.empty()) pieces.emplace_back(std::move(literal));
  return pieces;
}

class TextFormatter : public SubstitutionFormatter {
 public:
  TextFormatter(std::vector<Piece> pieces, bool omit_empty_values)
      : pieces_(std::move(pieces)), omit_empty_values_(omit_empty_values) {}

  void format(const LogContext& context, std::string& out) const override {
    appendPieces(pieces_, context, omit_empty_values_, out);
  }

 private:
  std::vector<Piece> pieces_;
  bool omit_empty_values_;
};

struct JsonField {
  std::string key;
  std::vector<Piece> pieces;      // a value template, or
  std::vector<JsonField> nested;  // a nested object
  bool is_object = false;
};

std::vector<JsonField> parseJsonObject(const config::ConfigNode& node) {
  if (!node.isMap()) node.fail("expected a mapping of keys to format strings");
  std::vector<JsonField> fields;
  std::set<std::string, std::less<>> keys;
  for (auto it = node.yaml().begin(); it != node.yaml().end(); ++it) {
    JsonField field;
    field.key = it->first.Scalar();
    if (!keys.insert(field.key).second) node.fail("duplicate key '" + field.key + "'");
    const std::optional<config::ConfigNode> value = node.field(field.key);
    if (!value) node.fail("the value of '" + field.key + "' must be a format string or a mapping");
    if (value->isMap()) {
      field.is_object = true;
      field.nested = parseJsonObject(*value);
    } else if (value->isScalar()) {
      field.pieces = parseTemplate(value->asString(), *value);
    } else {
      value->fail("expected a format string or a mapping");
    }
    fields.push_back(std::move(field));
  }
  return fields;
}

class JsonFormatter : public SubstitutionFormatter {
 public:
  JsonFormatter(std::vector<JsonField> fields, bool omit_empty_values)
      : fields_(std::move(fields)), omit_empty_values_(omit_empty_values) {}

  void format(const LogContext& context, std::string& out) const override {
    appendObject(fields_, context, out);
    out += '\n';
  }

 private:
  void appendObject(const std::vector<JsonField>& fields, const LogContext& context,
                    std::string& out) const {
    out += '{';
    bool first = true;
    auto appendKey = [&](const std::string& key) {
      if (!first) out += ',';
      first = false;
      appendJsonString(key, out);
      out += ':';
    };
    for (const JsonField& field : fields) {
      if (field.is_object) {
        appendKey(field.key);
        appendObject(field.nested, context, out);
      } else if (field.pieces.size() == 1 && std::holds_alternative<Command>(field.pieces[0])) {
        Value value;
        evaluate(std::get<Command>(field.pieces[0]), context, value);
        if (value.kind == Value::Kind::Missing && omit_empty_values_) continue;
        appendKey(field.key);
        appendTyped(value, out);
      } else {
        appendKey(field.key);
        // A buffer of its own per thread (values use clearedScratch()): no allocation.
        thread_local std::string text;
        text.clear();
        appendPieces(field.pieces, context, omit_empty_values_, text);
        appendJsonString(text, out);
      }
    }
    out += '}';
  }

  static void appendTyped(const Value& value, std::string& out) {
    switch (value.kind) {
      case Value::Kind::Missing:
        out += "null";
        return;
      case Value::Kind::String:
        appendJsonString(value.text, out);
        return;
      case Value::Kind::Number:
        appendNumber(value.number, out);
        return;
    }
  }

  std::vector<JsonField> fields_;
  bool omit_empty_values_;
};

}  // namespace

std::unique_ptr<const SubstitutionFormatter> SubstitutionFormatter::createText(
    std::string_view format, bool omit_empty_values, const config::ConfigNode& node) {
  return std::make_unique<TextFormatter>(parseTemplate(format, node), omit_empty_values);
}

std::unique_ptr<const SubstitutionFormatter> SubstitutionFormatter::createJson(
    const config::ConfigNode& json_format, bool omit_empty_values) {
  return std::make_unique<JsonFormatter>(parseJsonObject(json_format), omit_empty_values);
}

}  // namespace remora::telemetry
