#include "proxy/network/tls/tls_config.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "proxy/network/tls/tls_context.h"
#include "tests/unit/proxy/network/tls/tls_test_support.h"

namespace remora::network::tls {
namespace {

using testing::certPath;
using testing::parseYaml;

const std::string kDownstream = "'@type': " + std::string(kDownstreamTlsContextType) + "\n";
const std::string kUpstream = "'@type': " + std::string(kUpstreamTlsContextType) + "\n";

// The message of the ConfigError `action` throws, or "no error".
template <typename Action>
std::string errorOf(Action action) {
  try {
    action();
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

std::string downstreamError(const std::string& yaml) {
  return errorOf([&] { parseDownstreamTlsContext(parseYaml(yaml)); });
}

// A common_tls_context with the server certificate, followed by `extra` lines
// indented under common_tls_context.
std::string withServerCert(const std::string& extra = "") {
  return kDownstream +
         "common_tls_context:\n"
         "  tls_certificates:\n"
         "  - certificate_chain: {filename: " +
         certPath("server.crt") + "}\n" + "    private_key: {filename: " + certPath("server.key") +
         "}\n" + extra;
}

std::string readFile(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

TEST(TlsConfigTest, ParsesAFullDownstreamContext) {
  const ServerTlsConfig config = parseDownstreamTlsContext(parseYaml(withServerCert(
      "  alpn_protocols: [h2, http/1.1]\n"
      "  tls_params:\n"
      "    tls_minimum_protocol_version: TLSv1_2\n"
      "    tls_maximum_protocol_version: TLSv1_3\n"
      "    cipher_suites: ['[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]',"
      " ECDHE-ECDSA-AES256-GCM-SHA384]\n"
      "  validation_context:\n"
      "    trusted_ca: {filename: " +
      certPath("ca.crt") + "}\n" +
      "    match_typed_subject_alt_names:\n"
      "    - san_type: URI\n"
      "      matcher: {prefix: 'spiffe://cluster.local/', ignore_case: true}\n"
      "    - san_type: IP_ADDRESS\n"
      "      matcher: {safe_regex: {regex: '10\\..*'}}\n"
      "require_client_certificate: true\n")));
  const CommonTlsConfig& common = config.common;
  ASSERT_EQ(common.certificates.size(), 1u);
  EXPECT_EQ(common.certificates[0].certificate_chain.origin, certPath("server.crt"));
  EXPECT_EQ(common.certificates[0].certificate_chain.contents, readFile(certPath("server.crt")));
  EXPECT_EQ(common.certificates[0].private_key.origin, certPath("server.key"));
  EXPECT_EQ(common.alpn_protocols, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(common.min_version, TlsVersion::TLSv1_2);
  EXPECT_EQ(common.max_version, TlsVersion::TLSv1_3);
  EXPECT_EQ(common.cipher_suites, (std::vector<std::string>{"ECDHE-ECDSA-AES128-GCM-SHA256",
                                                            "ECDHE-ECDSA-CHACHA20-POLY1305",
                                                            "ECDHE-ECDSA-AES256-GCM-SHA384"}));
  ASSERT_TRUE(common.has_validation);
  EXPECT_EQ(common.validation.trusted_ca.origin, certPath("ca.crt"));
  ASSERT_EQ(common.validation.san_matchers.size(), 2u);
  EXPECT_EQ(common.validation.san_matchers[0].type, SanMatcherConfig::Type::Uri);
  EXPECT_EQ(common.validation.san_matchers[0].matcher.kind, config::StringMatcher::Kind::Prefix);
  EXPECT_EQ(common.validation.san_matchers[0].matcher.value, "spiffe://cluster.local/");
  EXPECT_TRUE(common.validation.san_matchers[0].matcher.ignore_case);
  EXPECT_EQ(common.validation.san_matchers[1].type, SanMatcherConfig::Type::IpAddress);
  EXPECT_EQ(common.validation.san_matchers[1].matcher.kind, config::StringMatcher::Kind::SafeRegex);
  EXPECT_EQ(common.validation.san_matchers[1].matcher.value, "10\\..*");
  EXPECT_TRUE(config.require_client_certificate);
  EXPECT_NE(TlsContext::create(config), nullptr);
}

TEST(TlsConfigTest, ParsesAnUpstreamContextWithInlineMaterial) {
  std::string yaml = kUpstream +
                     "sni: server.local\n"
                     "common_tls_context:\n"
                     "  tls_certificates:\n"
                     "  - certificate_chain:\n"
                     "      inline_string: |\n";
  std::istringstream pem(readFile(certPath("client.crt")));
  for (std::string line; std::getline(pem, line);) yaml += "        " + line + "\n";
  yaml += "    private_key:\n      inline_string: |\n";
  std::istringstream key(readFile(certPath("client.key")));
  for (std::string line; std::getline(key, line);) yaml += "        " + line + "\n";

  const ClientTlsConfig config = parseUpstreamTlsContext(parseYaml(yaml));
  EXPECT_EQ(config.sni, "server.local");
  ASSERT_EQ(config.common.certificates.size(), 1u);
  EXPECT_EQ(config.common.certificates[0].certificate_chain.origin, "<inline>");
  EXPECT_EQ(config.common.certificates[0].certificate_chain.contents,
            readFile(certPath("client.crt")));
  EXPECT_FALSE(config.common.has_validation);
  EXPECT_EQ(config.common.min_version, TlsVersion::Auto);
}

TEST(TlsConfigTest, UpstreamNeedsNothingButTheType) {
  const ClientTlsConfig config = parseUpstreamTlsContext(parseYaml(kUpstream));
  EXPECT_TRUE(config.common.certificates.empty());
  EXPECT_EQ(config.sni, "");
}

TEST(TlsConfigTest, MissingFileNamesThePath) {
  EXPECT_EQ(
      downstreamError(kDownstream + "common_tls_context:\n"
                                    "  tls_certificates:\n"
                                    "  - certificate_chain: {filename: /nonexistent/server.crt}\n"
                                    "    private_key: {filename: /nonexistent/server.key}\n"),
      "tls.yaml:4:35: common_tls_context.tls_certificates[0].certificate_chain.filename: "
      "cannot read file \"/nonexistent/server.crt\": No such file or directory");
}

TEST(TlsConfigTest, DirectoryIsNotACertificateFile) {
  EXPECT_EQ(downstreamError(kDownstream + "common_tls_context:\n"
                                          "  tls_certificates:\n"
                                          "  - certificate_chain: {filename: /tmp}\n"
                                          "    private_key: {filename: /tmp}\n"),
            "tls.yaml:4:35: common_tls_context.tls_certificates[0].certificate_chain.filename: "
            "cannot read file \"/tmp\": not a regular file");
}

TEST(TlsConfigTest, KeyMustMatchCertificate) {
  EXPECT_EQ(downstreamError(kDownstream +
                            "common_tls_context:\n"
                            "  tls_certificates:\n"
                            "  - certificate_chain: {filename: " +
                            certPath("server.crt") + "}\n" +
                            "    private_key: {filename: " + certPath("client.key") + "}\n"),
            "tls.yaml:4:5: common_tls_context.tls_certificates[0]: private key " +
                certPath("client.key") + " does not match certificate " + certPath("server.crt"));
}

TEST(TlsConfigTest, CertificateFileWithoutPem) {
  EXPECT_EQ(downstreamError(kDownstream +
                            "common_tls_context:\n"
                            "  tls_certificates:\n"
                            "  - certificate_chain: {inline_string: garbage}\n"
                            "    private_key: {filename: " +
                            certPath("server.key") + "}\n"),
            "tls.yaml:4:24: common_tls_context.tls_certificates[0].certificate_chain: "
            "no PEM certificate in <inline>");
  EXPECT_EQ(downstreamError(kDownstream +
                            "common_tls_context:\n"
                            "  tls_certificates:\n"
                            "  - certificate_chain: {filename: " +
                            certPath("server.crt") + "}\n" +
                            "    private_key: {filename: " + certPath("server.crt") + "}\n"),
            "tls.yaml:5:18: common_tls_context.tls_certificates[0].private_key: "
            "no PEM private key in " +
                certPath("server.crt"));
}

TEST(TlsConfigTest, EncryptedKeyIsRefused) {
  const std::string plain_key = readFile(certPath("server.key"));
  BIO* in = BIO_new_mem_buf(plain_key.data(), static_cast<int>(plain_key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  ASSERT_NE(key, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  char password[] = "secret";
  ASSERT_EQ(
      PEM_write_bio_PKCS8PrivateKey(out, key, EVP_aes_256_cbc(), password, 6, nullptr, nullptr), 1);
  EVP_PKEY_free(key);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out, &data);
  std::string encrypted(data, static_cast<std::size_t>(length));
  BIO_free(out);
  std::string indented;
  std::istringstream lines(encrypted);
  for (std::string line; std::getline(lines, line);) indented += "        " + line + "\n";

  EXPECT_EQ(downstreamError(kDownstream +
                            "common_tls_context:\n"
                            "  tls_certificates:\n"
                            "  - certificate_chain: {filename: " +
                            certPath("server.crt") + "}\n" +
                            "    private_key:\n"
                            "      inline_string: |\n" +
                            indented),
            "tls.yaml:6:7: common_tls_context.tls_certificates[0].private_key: "
            "no PEM private key in <inline>");
}

TEST(TlsConfigTest, OneCertificatePerKeyType) {
  EXPECT_EQ(downstreamError(withServerCert(
                "  - certificate_chain: {filename: " + certPath("client.crt") + "}\n" +
                "    private_key: {filename: " + certPath("client.key") + "}\n")),
            "tls.yaml:6:5: common_tls_context.tls_certificates[1]: another EC certificate is "
            "already configured; only one per key type is supported");
}

TEST(TlsConfigTest, UnknownFieldsAreRefusedWithTheirPosition) {
  EXPECT_EQ(downstreamError(withServerCert() + "session_ticket_keys: {}\n"),
            "tls.yaml:6:1: session_ticket_keys: unknown field 'session_ticket_keys'");
  EXPECT_EQ(downstreamError(withServerCert("  tls_params: {ecdh_curves: [X25519]}\n")),
            "tls.yaml:6:16: common_tls_context.tls_params.ecdh_curves: "
            "unknown field 'ecdh_curves'");
  EXPECT_EQ(downstreamError(withServerCert("  validation_context: {trusted_ca: {filename: " +
                                           certPath("ca.crt") + "}, crl: {}}\n")),
            "tls.yaml:6:" + std::to_string(50 + certPath("ca.crt").size()) +
                ": common_tls_context.validation_context.crl: unknown field 'crl'");
}

TEST(TlsConfigTest, OldTlsVersionsAreUnsupported) {
  EXPECT_EQ(
      downstreamError(withServerCert("  tls_params: {tls_minimum_protocol_version: TLSv1_1}\n")),
      "tls.yaml:6:46: common_tls_context.tls_params.tls_minimum_protocol_version: "
      "unsupported TLS version TLSv1_1 (supported: TLS_AUTO, TLSv1_2, TLSv1_3)");
  EXPECT_EQ(
      downstreamError(withServerCert("  tls_params: {tls_maximum_protocol_version: TLSv1_0}\n")),
      "tls.yaml:6:46: common_tls_context.tls_params.tls_maximum_protocol_version: "
      "unsupported TLS version TLSv1_0 (supported: TLS_AUTO, TLSv1_2, TLSv1_3)");
  EXPECT_EQ(
      downstreamError(withServerCert("  tls_params: {tls_maximum_protocol_version: TLSv9}\n")),
      "tls.yaml:6:46: common_tls_context.tls_params.tls_maximum_protocol_version: "
      "invalid value \"TLSv9\" (expected one of: TLS_AUTO, TLSv1_2, TLSv1_3)");
}

TEST(TlsConfigTest, MinimumAboveMaximum) {
  EXPECT_EQ(downstreamError(withServerCert("  tls_params:\n"
                                           "    tls_minimum_protocol_version: TLSv1_3\n"
                                           "    tls_maximum_protocol_version: TLSv1_2\n")),
            "tls.yaml:7:5: common_tls_context.tls_params: tls_minimum_protocol_version TLSv1_3 "
            "is above tls_maximum_protocol_version TLSv1_2");
}

TEST(TlsConfigTest, UnknownCipherSuite) {
  EXPECT_EQ(
      downstreamError(withServerCert("  tls_params: {cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256, "
                                     "NOT-A-CIPHER]}\n")),
      "tls.yaml:6:61: common_tls_context.tls_params.cipher_suites[1]: "
      "unknown cipher suite \"NOT-A-CIPHER\"");
}

TEST(TlsConfigTest, WrongType) {
  EXPECT_EQ(errorOf([] { parseUpstreamTlsContext(parseYaml(kDownstream)); }),
            "tls.yaml:1:10: @type: @type must be " + std::string(kUpstreamTlsContextType) +
                ", got " + std::string(kDownstreamTlsContextType));
  EXPECT_EQ(errorOf([] { parseUpstreamTlsContext(parseYaml("sni: x\n")); }),
            "tls.yaml:1:1: @type: missing required field '@type'");
}

TEST(TlsConfigTest, ServerNeedsACertificate) {
  EXPECT_EQ(downstreamError(kDownstream + "common_tls_context: {alpn_protocols: [h2]}\n"),
            "tls.yaml:2:21: common_tls_context: a server needs at least one entry in "
            "tls_certificates");
}

TEST(TlsConfigTest, RequiredClientCertificateNeedsValidation) {
  EXPECT_EQ(downstreamError(withServerCert() + "require_client_certificate: true\n"),
            "tls.yaml:6:29: require_client_certificate: require_client_certificate needs "
            "common_tls_context.validation_context");
}

TEST(TlsConfigTest, ValidationNeedsTrustedCa) {
  EXPECT_EQ(downstreamError(withServerCert(
                "  validation_context:\n"
                "    match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]\n")),
            "tls.yaml:7:5: common_tls_context.validation_context: trusted_ca is required: peer "
            "verification without a trusted CA is insecure");
}

TEST(TlsConfigTest, SanMatcherErrors) {
  const std::string prefix =
      "  validation_context:\n"
      "    trusted_ca: {filename: " +
      certPath("ca.crt") + "}\n" + "    match_typed_subject_alt_names:\n";
  EXPECT_EQ(downstreamError(withServerCert(prefix + "    - san_type: OTHER_NAME\n"
                                                    "      matcher: {exact: a}\n")),
            "tls.yaml:9:17: common_tls_context.validation_context.match_typed_subject_alt_names[0]"
            ".san_type: invalid value \"OTHER_NAME\" (expected one of: DNS, URI, EMAIL, "
            "IP_ADDRESS)");
  EXPECT_EQ(downstreamError(withServerCert(prefix + "    - san_type: DNS\n"
                                                    "      matcher: {safe_regex: {regex: '('}}\n")),
            "tls.yaml:10:29: common_tls_context.validation_context.match_typed_subject_alt_names[0]"
            ".matcher.safe_regex: invalid regex \"(\": missing ): (");
}

TEST(TlsConfigTest, CertificateDetailsForCerts) {
  const auto context = testing::serverContext({.trusted_ca = "ca.crt"});
  // An hour on, so the leaf (issued for 825 days a moment ago) has 824 whole days left.
  const std::time_t now = std::time(nullptr) + 3600;
  const std::vector<CertificateDetails> certificates = context->certificateDetails(now);
  ASSERT_EQ(certificates.size(), 1u);
  const CertificateDetails& server = certificates[0];
  EXPECT_EQ(server.path, certPath("server.crt"));
  EXPECT_EQ(server.subject, "CN=server.local,O=Remora Test");
  EXPECT_EQ(server.dns_sans, std::vector<std::string>{"server.local"});
  EXPECT_EQ(server.uri_sans, std::vector<std::string>{std::string(testing::kServerSpiffe)});
  EXPECT_EQ(server.days_until_expiration, 824u);
  EXPECT_EQ(server.serial_number.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_FALSE(server.serial_number.empty());
  EXPECT_EQ(server.valid_from.size(), 20u);  // 2026-11-26T11:19:42Z
  EXPECT_EQ(context->certificateDetails(now + 826 * 86400)[0].days_until_expiration, 0u);

  const std::vector<CertificateDetails> cas = context->caCertificateDetails(now);
  ASSERT_EQ(cas.size(), 1u);
  EXPECT_EQ(cas[0].path, certPath("ca.crt"));
  EXPECT_EQ(cas[0].subject, "CN=Remora Test CA,O=Remora Test");
}

TEST(TlsConfigTest, ExpiredCertificateDetails) {
  const auto context = testing::clientContext({.cert = "expired_client"});
  const CertificateDetails details = context->certificateDetails(std::time(nullptr)).at(0);
  EXPECT_EQ(details.days_until_expiration, 0u);
  EXPECT_EQ(details.valid_from, "2020-01-01T00:00:00Z");
  EXPECT_EQ(details.expiration_time, "2020-01-02T00:00:00Z");
}

TEST(TlsConfigTest, CreateIsRepeatable) {
  const ServerTlsConfig config =
      parseDownstreamTlsContext(parseYaml(testing::downstreamYaml({.alpn = "[h2]"})));
  const auto first = TlsContext::create(config);
  const auto second = TlsContext::create(config);
  EXPECT_NE(first->sslCtx(), second->sslCtx());
  EXPECT_EQ(first->alpnProtocols(), second->alpnProtocols());
  EXPECT_EQ(first->certificateDetails(0)[0].serial_number,
            second->certificateDetails(0)[0].serial_number);
}

}  // namespace
}  // namespace remora::network::tls
