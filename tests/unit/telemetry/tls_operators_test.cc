// The downstream TLS command operators: %DOWNSTREAM_PEER_URI_SAN%,
// %DOWNSTREAM_PEER_DNS_SAN%, %DOWNSTREAM_PEER_SUBJECT%, %DOWNSTREAM_TLS_VERSION%,
// %DOWNSTREAM_TLS_CIPHER% and %REQUESTED_SERVER_NAME%.
#include <gtest/gtest.h>

#include "telemetry/access_log/substitution_formatter.h"
#include "tests/unit/telemetry/access_log_test_support.h"

namespace remora::telemetry {
namespace {

using testing::SampleStream;
using testing::yamlField;

constexpr std::string_view kTlsFormat =
    "%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_PEER_DNS_SAN% [%DOWNSTREAM_PEER_SUBJECT%] "
    "%DOWNSTREAM_TLS_VERSION% %DOWNSTREAM_TLS_CIPHER% %REQUESTED_SERVER_NAME%";

std::string formatText(std::string_view format, const LogContext& context) {
  std::string out;
  SubstitutionFormatter::createText(format, false, config::ConfigNode())->format(context, out);
  return out;
}

void setMutualTls(stream::StreamInfo& info) {
  info.peer_uri_sans = {"spiffe://cluster.local/ns/default/sa/client"};
  info.peer_dns_sans = {"client.local", "*.client.local"};
  info.peer_subject = "CN=client,O=Remora Test";
  info.tls_version = "TLSv1.3";
  info.tls_cipher = "TLS_AES_128_GCM_SHA256";
  info.requested_server_name = "server.local";
}

TEST(TlsOperatorsTest, MutualTlsStream) {
  SampleStream stream;
  setMutualTls(stream.info);
  EXPECT_EQ(formatText(kTlsFormat, stream.context()),
            "spiffe://cluster.local/ns/default/sa/client client.local,*.client.local "
            "[CN=client,O=Remora Test] TLSv1.3 TLS_AES_128_GCM_SHA256 server.local");
}

TEST(TlsOperatorsTest, SeveralUriSansAreCommaJoined) {
  SampleStream stream;
  stream.info.peer_uri_sans = {"spiffe://a", "spiffe://b", "spiffe://c"};
  EXPECT_EQ(formatText("%DOWNSTREAM_PEER_URI_SAN%", stream.context()),
            "spiffe://a,spiffe://b,spiffe://c");
}

TEST(TlsOperatorsTest, PlaintextStreamGivesDashes) {
  SampleStream stream;
  EXPECT_EQ(formatText(kTlsFormat, stream.context()), "- - [-] - - -");
}

TEST(TlsOperatorsTest, TlsWithoutClientCertificateOrSni) {
  SampleStream stream;
  stream.info.tls_version = "TLSv1.2";
  stream.info.tls_cipher = "ECDHE-ECDSA-AES128-GCM-SHA256";
  EXPECT_EQ(formatText(kTlsFormat, stream.context()),
            "- - [-] TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 -");
}

TEST(TlsOperatorsTest, JsonFormatGivesStringsAndNulls) {
  SampleStream stream;
  setMutualTls(stream.info);
  stream.info.peer_subject.clear();
  const auto formatter = SubstitutionFormatter::createJson(
      yamlField("json_format: {san: '%DOWNSTREAM_PEER_URI_SAN%', dns: '%DOWNSTREAM_PEER_DNS_SAN%', "
                "subject: '%DOWNSTREAM_PEER_SUBJECT%', sni: '%REQUESTED_SERVER_NAME%'}",
                "json_format"),
      false);
  std::string out;
  formatter->format(stream.context(), out);
  EXPECT_EQ(out,
            "{\"san\":\"spiffe://cluster.local/ns/default/sa/client\","
            "\"dns\":\"client.local,*.client.local\",\"subject\":null,\"sni\":\"server.local\"}\n");
}

TEST(TlsOperatorsTest, OperatorsTakeNoArgument) {
  const config::ConfigNode node = yamlField("format: '%DOWNSTREAM_TLS_VERSION(x)%'", "format");
  try {
    SubstitutionFormatter::createText(node.asString(), false, node);
    ADD_FAILURE() << "no error";
  } catch (const config::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("'%DOWNSTREAM_TLS_VERSION(x)%' takes no argument"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace remora::telemetry
