#include "proxy/network/tls/tls_config.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "proxy/network/tls/openssl_util.h"
#include "proxy/router/string_matcher.h"

namespace remora::network::tls {
namespace {

constexpr std::string_view kInlineOrigin = "<inline>";

// Returns the reason on failure. A directory or a device is refused rather than read
// as empty or forever.
std::optional<std::string> readWholeFile(const std::string& path, std::string& contents) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string(std::strerror(errno));
  struct stat info {};
  std::optional<std::string> error;
  if (::fstat(fd, &info) != 0) {
    error = std::strerror(errno);
  } else if (!S_ISREG(info.st_mode)) {
    error = "not a regular file";
  } else {
    char buffer[16 * 1024];
    for (;;) {
      const ssize_t got = ::read(fd, buffer, sizeof(buffer));
      if (got > 0) {
        contents.append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0) {
        break;
      } else if (errno != EINTR) {
        error = std::strerror(errno);
        break;
      }
    }
  }
  ::close(fd);
  return error;
}

// config.core.v3.DataSource: filename or inline_string, read now.
LoadedDataSource loadDataSource(const config::ConfigNode& node) {
  node.expectFields({"filename", "inline_string"});
  const std::string_view kind = node.oneOf({"filename", "inline_string"});
  const config::ConfigNode value = node.required(kind);
  if (kind == "inline_string") {
    return {std::string(kInlineOrigin), value.asString()};
  }
  std::string path = value.asString();
  std::string contents;
  if (const std::optional<std::string> error = readWholeFile(path, contents)) {
    value.fail("cannot read file \"" + path + "\": " + *error);
  }
  return {std::move(path), std::move(contents)};
}

// `key_types` collects the key type of each certificate: OpenSSL holds one certificate
// per key type (and we do not pick certificates by SNI), so a second one of a type
// would silently replace the first.
TlsCertificateConfig parseTlsCertificate(const config::ConfigNode& node,
                                         std::vector<int>& key_types) {
  node.expectFields({"certificate_chain", "private_key"});
  TlsCertificateConfig certificate;
  const config::ConfigNode chain_node = node.required("certificate_chain");
  const config::ConfigNode key_node = node.required("private_key");
  certificate.certificate_chain = loadDataSource(chain_node);
  certificate.private_key = loadDataSource(key_node);

  std::vector<X509Ptr> chain = parseCertificates(certificate.certificate_chain.contents);
  if (chain.empty()) {
    chain_node.fail("no PEM certificate in " + certificate.certificate_chain.origin);
  }
  const EvpPkeyPtr key = parsePrivateKey(certificate.private_key.contents);
  if (!key) key_node.fail("no PEM private key in " + certificate.private_key.origin);
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    node.fail("private key " + certificate.private_key.origin + " does not match certificate " +
              certificate.certificate_chain.origin);
  }
  const int key_type = EVP_PKEY_get_base_id(key.get());
  if (std::find(key_types.begin(), key_types.end(), key_type) != key_types.end()) {
    node.fail(std::string("another ") + EVP_PKEY_get0_type_name(key.get()) +
              " certificate is already configured; only one per key type is supported");
  }
  key_types.push_back(key_type);
  return certificate;
}

TlsVersion parseTlsVersion(const config::ConfigNode& node) {
  const std::string name = node.asString();
  if (name == "TLSv1_0" || name == "TLSv1_1") {
    node.fail("unsupported TLS version " + name + " (supported: TLS_AUTO, TLSv1_2, TLSv1_3)");
  }
  return node.asEnum<TlsVersion>({{"TLS_AUTO", TlsVersion::Auto},
                                  {"TLSv1_2", TlsVersion::TLSv1_2},
                                  {"TLSv1_3", TlsVersion::TLSv1_3}});
}

// Envoy (BoringSSL) writes equal-preference groups as "[A|B]"; OpenSSL has no such
// groups, so each member becomes a suite of its own, in order.
std::vector<std::string> expandCipherSuite(const std::string& entry) {
  std::string body = entry;
  if (body.size() >= 2 && body.front() == '[' && body.back() == ']') {
    body = body.substr(1, body.size() - 2);
  }
  std::vector<std::string> suites;
  std::size_t start = 0;
  while (start <= body.size()) {
    const std::size_t bar = std::min(body.find('|', start), body.size());
    suites.push_back(body.substr(start, bar - start));
    start = bar + 1;
  }
  return suites;
}

void parseTlsParams(const config::ConfigNode& node, CommonTlsConfig& common) {
  node.expectFields(
      {"tls_minimum_protocol_version", "tls_maximum_protocol_version", "cipher_suites"});
  if (std::optional<config::ConfigNode> min = node.field("tls_minimum_protocol_version")) {
    common.min_version = parseTlsVersion(*min);
  }
  if (std::optional<config::ConfigNode> max = node.field("tls_maximum_protocol_version")) {
    common.max_version = parseTlsVersion(*max);
  }
  if (common.min_version == TlsVersion::TLSv1_3 && common.max_version == TlsVersion::TLSv1_2) {
    node.fail("tls_minimum_protocol_version TLSv1_3 is above tls_maximum_protocol_version TLSv1_2");
  }
  if (std::optional<config::ConfigNode> suites = node.field("cipher_suites")) {
    const SslCtxPtr probe(SSL_CTX_new(TLS_method()));
    if (!probe) node.fail("cannot create SSL_CTX to check cipher_suites");
    for (const config::ConfigNode& element : suites->elements()) {
      for (std::string& suite : expandCipherSuite(element.asString())) {
        // set_cipher_list accepts a list with any known member, so check one at a time.
        if (suite.empty() || SSL_CTX_set_cipher_list(probe.get(), suite.c_str()) != 1) {
          ERR_clear_error();
          element.fail("unknown cipher suite \"" + suite + "\"");
        }
        common.cipher_suites.push_back(std::move(suite));
      }
    }
  }
}

SanMatcherConfig parseSanMatcher(const config::ConfigNode& node) {
  node.expectFields({"san_type", "matcher"});
  SanMatcherConfig san;
  using Type = SanMatcherConfig::Type;
  san.type = node.required("san_type")
                 .asEnum<Type>({{"DNS", Type::Dns},
                                {"URI", Type::Uri},
                                {"EMAIL", Type::Email},
                                {"IP_ADDRESS", Type::IpAddress}});
  const config::ConfigNode matcher = node.required("matcher");
  matcher.expectFields({"exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"});
  const std::string_view kind =
      matcher.oneOf({"exact", "prefix", "suffix", "contains", "safe_regex"});
  const config::ConfigNode value = matcher.required(kind);
  using Kind = config::StringMatcher::Kind;
  if (kind == "safe_regex") {
    value.expectFields({"regex", "google_re2"});
    san.matcher.kind = Kind::SafeRegex;
    san.matcher.value = value.required("regex").asString();
  } else {
    san.matcher.kind = kind == "exact"    ? Kind::Exact
                       : kind == "prefix" ? Kind::Prefix
                       : kind == "suffix" ? Kind::Suffix
                                          : Kind::Contains;
    san.matcher.value = value.asString();
    if (san.matcher.value.empty() && kind != "exact") value.fail("value must not be empty");
  }
  san.matcher.ignore_case = matcher.boolOr("ignore_case", false);
  try {
    router::StringMatcher compiled(san.matcher);
  } catch (const config::ConfigError& error) {
    value.fail(error.what());
  }
  return san;
}

void parseValidationContext(const config::ConfigNode& node, CommonTlsConfig& common) {
  node.expectFields({"trusted_ca", "match_typed_subject_alt_names"});
  common.has_validation = true;
  ValidationConfig& validation = common.validation;
  if (std::optional<config::ConfigNode> matchers = node.field("match_typed_subject_alt_names")) {
    for (const config::ConfigNode& element : matchers->elements()) {
      validation.san_matchers.push_back(parseSanMatcher(element));
    }
  }
  std::optional<config::ConfigNode> trusted_ca = node.field("trusted_ca");
  if (!trusted_ca) {
    // Envoy refuses SAN checks without a chain check: a self-signed certificate could
    // claim any SAN.
    node.fail("trusted_ca is required: peer verification without a trusted CA is insecure");
  }
  validation.trusted_ca = loadDataSource(*trusted_ca);
  if (parseCertificates(validation.trusted_ca.contents).empty()) {
    trusted_ca->fail("no PEM certificate in " + validation.trusted_ca.origin);
  }
}

CommonTlsConfig parseCommonTlsContext(const config::ConfigNode& node) {
  node.expectFields({"tls_certificates", "alpn_protocols", "tls_params", "validation_context"});
  CommonTlsConfig common;
  if (std::optional<config::ConfigNode> certificates = node.field("tls_certificates")) {
    std::vector<int> key_types;
    for (const config::ConfigNode& element : certificates->elements()) {
      common.certificates.push_back(parseTlsCertificate(element, key_types));
    }
  }
  if (std::optional<config::ConfigNode> alpn = node.field("alpn_protocols")) {
    for (const config::ConfigNode& element : alpn->elements()) {
      std::string protocol = element.asString();
      if (protocol.empty() || protocol.size() > 255) {
        element.fail("ALPN protocol must be 1 to 255 bytes long");
      }
      common.alpn_protocols.push_back(std::move(protocol));
    }
  }
  if (std::optional<config::ConfigNode> params = node.field("tls_params")) {
    parseTlsParams(*params, common);
  }
  if (std::optional<config::ConfigNode> validation = node.field("validation_context")) {
    parseValidationContext(*validation, common);
  }
  return common;
}

void checkType(const config::ConfigNode& typed_config, std::string_view expected) {
  const config::ConfigNode type = typed_config.required("@type");
  if (type.asString() != expected) {
    type.fail("@type must be " + std::string(expected) + ", got " + type.asString());
  }
}

}  // namespace

ServerTlsConfig parseDownstreamTlsContext(const config::ConfigNode& typed_config) {
  typed_config.expectFields({"@type", "common_tls_context", "require_client_certificate"});
  checkType(typed_config, kDownstreamTlsContextType);
  ServerTlsConfig server;
  const config::ConfigNode common = typed_config.required("common_tls_context");
  server.common = parseCommonTlsContext(common);
  if (server.common.certificates.empty()) {
    common.fail("a server needs at least one entry in tls_certificates");
  }
  if (std::optional<config::ConfigNode> require =
          typed_config.field("require_client_certificate")) {
    server.require_client_certificate = require->asBool();
    if (server.require_client_certificate && !server.common.has_validation) {
      require->fail("require_client_certificate needs common_tls_context.validation_context");
    }
  }
  return server;
}

ClientTlsConfig parseUpstreamTlsContext(const config::ConfigNode& typed_config) {
  typed_config.expectFields({"@type", "common_tls_context", "sni"});
  checkType(typed_config, kUpstreamTlsContextType);
  ClientTlsConfig client;
  if (std::optional<config::ConfigNode> common = typed_config.field("common_tls_context")) {
    client.common = parseCommonTlsContext(*common);
  }
  if (std::optional<config::ConfigNode> sni = typed_config.field("sni")) {
    client.sni = sni->asString();
    if (client.sni.size() > 255) sni->fail("sni must be at most 255 bytes long");
  }
  return client;
}

}  // namespace remora::network::tls
