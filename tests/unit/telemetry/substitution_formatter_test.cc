#include "telemetry/access_log/substitution_formatter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>

#include "tests/unit/telemetry/access_log_test_support.h"

namespace remora::telemetry {
namespace {

using testing::SampleStream;
using testing::yamlField;

std::string formatText(std::string_view format, const LogContext& context,
                       bool omit_empty_values = false) {
  const std::unique_ptr<const SubstitutionFormatter> formatter =
      SubstitutionFormatter::createText(format, omit_empty_values, config::ConfigNode());
  std::string out;
  formatter->format(context, out);
  return out;
}

// The error raised for `format` given as the YAML value of `format:`.
std::string formatError(std::string_view format) {
  const config::ConfigNode node = yamlField("format: '" + std::string(format) + "'", "format");
  try {
    SubstitutionFormatter::createText(node.asString(), false, node);
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

std::string formatJson(std::string_view yaml, const LogContext& context,
                       bool omit_empty_values = false) {
  const std::unique_ptr<const SubstitutionFormatter> formatter =
      SubstitutionFormatter::createJson(yamlField(yaml, "json_format"), omit_empty_values);
  std::string out;
  formatter->format(context, out);
  return out;
}

std::string hostname() {
  std::array<char, 256> name{};
  gethostname(name.data(), name.size() - 1);
  return name.data();
}

TEST(SubstitutionFormatterTest, DefaultFormat) {
  SampleStream stream;
  EXPECT_EQ(formatText(kDefaultAccessLogFormat, stream.context()),
            "[2026-11-26T10:00:00.123Z] \"GET /api/v1/items?x=1 HTTP/1.1\" 200 - 5 42 12 7 "
            "\"10.0.0.1\" \"curl/8.0\" \"abc-123\" \"example.com\" \"10.1.0.5:8080\"\n");
}

TEST(SubstitutionFormatterTest, DefaultFormatPrefersOriginalPathAndShowsFlags) {
  SampleStream stream;
  stream.request.headers.add("x-envoy-original-path", "/original");
  stream.info.setFlag(stream::ResponseFlag::UpstreamConnectionFailure);
  stream.info.setFlag(stream::ResponseFlag::NoHealthyUpstream);
  stream.info.response_code = 503;
  EXPECT_EQ(formatText(kDefaultAccessLogFormat, stream.context()),
            "[2026-11-26T10:00:00.123Z] \"GET /original HTTP/1.1\" 503 UH,UF 5 42 12 7 "
            "\"10.0.0.1\" \"curl/8.0\" \"abc-123\" \"example.com\" \"10.1.0.5:8080\"\n");
}

TEST(SubstitutionFormatterTest, DefaultFormatForTcpSession) {
  stream::StreamInfo info;
  info.start_wall = testing::fixedStartTime();
  info.end = info.start + std::chrono::milliseconds(1500);
  info.bytes_received = 10;
  info.bytes_sent = 20;
  info.upstream_host = "10.1.0.9:6379";
  EXPECT_EQ(formatText(kDefaultAccessLogFormat, LogContext{.info = info}),
            "[2026-11-26T10:00:00.123Z] \"- - -\" 0 - 10 20 1500 - \"-\" \"-\" \"-\" \"-\" "
            "\"10.1.0.9:6379\"\n");
}

TEST(SubstitutionFormatterTest, StartTimeFormats) {
  SampleStream stream;
  EXPECT_EQ(formatText("%START_TIME(%s.%3f)%|%START_TIME(%Y/%m/%d %H:%M:%S.%6f)%|"
                       "%START_TIME(%E6S %f %1f)%|%START_TIME(%%Y)%",
                       stream.context()),
            "1795687200.123|2026/11/26 10:00:00.123456|00.123456 123456789 1|%Y");
  EXPECT_EQ(formatText("%START_TIME()%", stream.context()), "2026-11-26T10:00:00.123Z");
}

TEST(SubstitutionFormatterTest, Headers) {
  SampleStream stream;
  stream.request.headers.add("x-empty", "");
  EXPECT_EQ(formatText("%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %REQ(:SCHEME)% "
                       "%REQ(User-Agent)% %REQ(USER-AGENT):4% %REQ(X-MISSING?USER-AGENT)% "
                       "%REQ(X-MISSING?X-ALSO-MISSING)% [%REQ(X-EMPTY)%] %REQ(:PATH):4%",
                       stream.context()),
            "GET /api/v1/items?x=1 example.com http curl/8.0 curl curl/8.0 - [] /api");
  EXPECT_EQ(formatText("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESP(:STATUS)% %RESP(X-MISSING)% "
                       "%TRAILER(GRPC-STATUS)% %TRAILER(X-MISSING?GRPC-STATUS)% %TRAILER(X)%",
                       stream.context()),
            "7 200 - 0 0 -");
}

TEST(SubstitutionFormatterTest, HeadersOfAnAbsentHeadAreMissing) {
  SampleStream stream;
  const LogContext no_response{&stream.request, nullptr, nullptr, stream.info};
  EXPECT_EQ(formatText("%RESP(:STATUS)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
                       "%TRAILER(GRPC-STATUS)% %PROTOCOL%",
                       no_response),
            "- - - HTTP/1.1");
}

TEST(SubstitutionFormatterTest, StreamInfoOperators) {
  SampleStream stream;
  stream.info.setFlag(stream::ResponseFlag::UpstreamRequestTimeout);
  stream.info.protocol = http::Protocol::Http10;
  EXPECT_EQ(formatText("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% "
                       "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %REQUEST_DURATION% "
                       "%RESPONSE_DURATION% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% "
                       "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                       "%PROTOCOL% %ROUTE_NAME% %HOSTNAME% 100%%",
                       stream.context()),
            "200 UT via_upstream 5 42 12 - 9 10.1.0.5:8080 app 192.168.1.7:54321 192.168.1.7 "
            "HTTP/1.0 default " +
                hostname() + " 100%");
}

TEST(SubstitutionFormatterTest, UnsetValuesPrintDash) {
  stream::StreamInfo info;
  info.start_wall = testing::fixedStartTime();
  EXPECT_EQ(formatText("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %DURATION% "
                       "%RESPONSE_DURATION% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% "
                       "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                       "%PROTOCOL% %ROUTE_NAME% %REQ(:METHOD)%",
                       LogContext{.info = info}),
            "0 - - - - - - - - - - -");
}

TEST(SubstitutionFormatterTest, OmitEmptyValuesPrintsNothingForMissingValues) {
  SampleStream stream;
  stream.info.route_name.clear();
  EXPECT_EQ(formatText("[%ROUTE_NAME%][%REQ(X-MISSING)%][%RESPONSE_CODE%]", stream.context(), true),
            "[][][200]");
}

TEST(SubstitutionFormatterTest, Ipv6RemoteAddressWithoutPort) {
  SampleStream stream;
  stream.info.downstream_remote_address = "[2001:db8::1]:443";
  EXPECT_EQ(formatText("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
                       stream.context()),
            "[2001:db8::1]:443 2001:db8::1");
}

constexpr std::string_view kDownstreamAddresses =
    "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
    "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%";

TEST(SubstitutionFormatterTest, WithoutAForwardedClientTheRemoteAddressIsThePeer) {
  SampleStream stream;
  EXPECT_EQ(formatText(kDownstreamAddresses, stream.context()),
            "192.168.1.7:54321 192.168.1.7 192.168.1.7:54321 192.168.1.7");
  stream::StreamInfo unset;
  EXPECT_EQ(formatText(kDownstreamAddresses, LogContext{.info = unset}), "- - - -");
}

// Envoy's remote address is the client x-forwarded-for named, with port 0; the direct
// remote address stays the socket peer.
TEST(SubstitutionFormatterTest, AForwardedClientIsTheRemoteAddressWithPortZero) {
  SampleStream stream;
  stream.info.downstream_trusted_client_ip = "203.0.113.7";
  EXPECT_EQ(formatText(kDownstreamAddresses, stream.context()),
            "203.0.113.7:0 203.0.113.7 192.168.1.7:54321 192.168.1.7");
  stream.info.downstream_trusted_client_ip = "2001:db8::7";
  stream.info.downstream_remote_address = "[::1]:8080";
  EXPECT_EQ(formatText(kDownstreamAddresses, stream.context()),
            "[2001:db8::7]:0 2001:db8::7 [::1]:8080 ::1");
}

TEST(SubstitutionFormatterTest, JsonFormatKeepsTypesAndConfiguredOrder) {
  SampleStream stream;
  constexpr std::string_view kYaml = R"(json_format:
  start: "%START_TIME%"
  method: "%REQ(:METHOD)%"
  code: "%RESPONSE_CODE%"
  duration: "%DURATION%"
  missing: "%REQ(X-MISSING)%"
  mixed: "%DURATION%ms %REQ(X-MISSING)%"
  upstream:
    host: "%UPSTREAM_HOST%"
    cluster: "%UPSTREAM_CLUSTER%"
  bytes: "%BYTES_SENT%"
  literal: 'a "quoted" \ value'
)";
  EXPECT_EQ(formatJson(kYaml, stream.context()),
            "{\"start\":\"2026-11-26T10:00:00.123Z\",\"method\":\"GET\",\"code\":200,"
            "\"duration\":12,\"missing\":null,\"mixed\":\"12ms -\",\"upstream\":{\"host\":"
            "\"10.1.0.5:8080\",\"cluster\":\"app\"},\"bytes\":42,\"literal\":"
            "\"a \\\"quoted\\\" \\\\ value\"}\n");
  EXPECT_EQ(formatJson(kYaml, stream.context(), true),
            "{\"start\":\"2026-11-26T10:00:00.123Z\",\"method\":\"GET\",\"code\":200,"
            "\"duration\":12,\"mixed\":\"12ms \",\"upstream\":{\"host\":"
            "\"10.1.0.5:8080\",\"cluster\":\"app\"},\"bytes\":42,\"literal\":"
            "\"a \\\"quoted\\\" \\\\ value\"}\n");
}

TEST(SubstitutionFormatterTest, JsonEscapesControlCharacters) {
  SampleStream stream;
  stream.request.headers.set("user-agent", std::string("a\tb\x01\n", 5));
  EXPECT_EQ(formatJson("json_format: {ua: '%REQ(USER-AGENT)%'}", stream.context()),
            "{\"ua\":\"a\\tb\\u0001\\n\"}\n");
}

TEST(SubstitutionFormatterTest, RbacFlagFollowsEnvoysFlags) {
  stream::StreamInfo info;
  info.setFlag(stream::ResponseFlag::RbacAccessDenied);
  info.setFlag(stream::ResponseFlag::NoClusterFound);
  EXPECT_EQ(formatText("%RESPONSE_FLAGS%", LogContext{.info = info}), "NC,RBAC");
}

TEST(SubstitutionFormatterTest, ConnectionTerminationDetails) {
  stream::StreamInfo info;
  EXPECT_EQ(formatText("%CONNECTION_TERMINATION_DETAILS%", LogContext{.info = info}), "-");
  info.connection_termination_details = "rbac_access_denied_matched_policy[none]";
  EXPECT_EQ(formatText("%CONNECTION_TERMINATION_DETAILS%", LogContext{.info = info}),
            "rbac_access_denied_matched_policy[none]");
}

// The RBAC filters' verdicts, under their filter's namespace; anything else is missing.
TEST(SubstitutionFormatterTest, DynamicMetadataReadsTheRbacVerdicts) {
  const std::string format =
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_effective_policy_id)% "
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)% "
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:enforced_effective_policy_id)% "
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:enforced_engine_result)% "
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:enforced_engine_result):3% "
      "%DYNAMIC_METADATA(envoy.filters.network.rbac:shadow_engine_result)% "
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:other)% "
      "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result:deeper)% "
      "%DYNAMIC_METADATA(envoy.lb:canary)%";
  stream::StreamInfo info;
  EXPECT_EQ(formatText(format, LogContext{.info = info}), "- - - - - - - - -");

  info.rbac.filter = stream::RbacMetadata::Filter::Http;
  info.rbac.shadow = stream::RbacMetadata::Result::Denied;
  info.rbac.shadow_policy = "canary";
  info.rbac.enforced = stream::RbacMetadata::Result::Allowed;
  EXPECT_EQ(formatText(format, LogContext{.info = info}), "canary denied - allowed all - - - -");

  info.rbac.filter = stream::RbacMetadata::Filter::Network;
  EXPECT_EQ(formatText("%DYNAMIC_METADATA(envoy.filters.network.rbac:shadow_effective_policy_id)% "
                       "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)%",
                       LogContext{.info = info}),
            "canary -");
  EXPECT_EQ(formatJson("json_format: {r: '%DYNAMIC_METADATA(envoy.filters.network.rbac:"
                       "enforced_engine_result)%', p: '%DYNAMIC_METADATA(envoy.filters.network."
                       "rbac:enforced_effective_policy_id)%'}\n",
                       LogContext{.info = info}),
            "{\"r\":\"allowed\",\"p\":null}\n");
}

TEST(SubstitutionFormatterTest, TextFormatErrors) {
  EXPECT_EQ(formatError("%FOO%"), "t.yaml:1:9: format: unknown command operator '%FOO%'");
  EXPECT_EQ(formatError("%DURATION %"),
            "t.yaml:1:9: format: unknown command operator '%DURATION %'");
  EXPECT_EQ(formatError("100% done"),
            "t.yaml:1:9: format: no command operator at offset 3 of the format (write '%%' for a "
            "literal '%')");
  EXPECT_EQ(formatError("%REQ(x)"),
            "t.yaml:1:9: format: no command operator at offset 0 of the format (write '%%' for a "
            "literal '%')");
  EXPECT_EQ(formatError("%DURATION(x)%"), "t.yaml:1:9: format: '%DURATION(x)%' takes no argument");
  EXPECT_EQ(formatError("%DURATION:5%"),
            "t.yaml:1:9: format: '%DURATION:5%' does not take a length limit");
  EXPECT_EQ(formatError("%REQ%"),
            "t.yaml:1:9: format: '%REQ%' needs a header name, e.g. %REQ(x-request-id)%");
  EXPECT_EQ(formatError("%RESP(a?)%"), "t.yaml:1:9: format: '%RESP(a?)%' has an empty header name");
  EXPECT_EQ(formatError("%REQ(a?b?c)%"),
            "t.yaml:1:9: format: '%REQ(a?b?c)%' may name at most one alternative header (X?Y)");
  EXPECT_EQ(formatError("%REQ(a):x%"), "t.yaml:1:9: format: invalid length limit in '%REQ(a):x%'");
  EXPECT_EQ(formatError("%DYNAMIC_METADATA(envoy.filters.http.rbac)%"),
            "t.yaml:1:9: format: '%DYNAMIC_METADATA(envoy.filters.http.rbac)%' needs a namespace "
            "and a key, e.g. %DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)%");
}

TEST(SubstitutionFormatterTest, JsonFormatErrors) {
  auto jsonError = [](std::string_view yaml) -> std::string {
    try {
      SubstitutionFormatter::createJson(yamlField(yaml, "json_format"), false);
    } catch (const config::ConfigError& error) {
      return error.what();
    }
    return "no error";
  };
  EXPECT_EQ(jsonError("json_format:\n  a: '%BAD%'\n"),
            "t.yaml:2:6: json_format.a: unknown command operator '%BAD%'");
  EXPECT_EQ(jsonError("json_format:\n  a: [1]\n"),
            "t.yaml:2:6: json_format.a: expected a format string or a mapping");
  EXPECT_EQ(jsonError("json_format: '%DURATION%'\n"),
            "t.yaml:1:14: json_format: expected a mapping of keys to format strings");
  EXPECT_EQ(jsonError("json_format:\n  a: x\n  a: y\n"),
            "t.yaml:2:3: json_format: duplicate key 'a'");
}

}  // namespace
}  // namespace remora::telemetry
