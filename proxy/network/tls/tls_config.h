// Typed configuration of the envoy.transport_sockets.tls transport socket
// (extensions.transport_sockets.tls.v3.DownstreamTlsContext / UpstreamTlsContext).
// Parsed once on the main thread: every file is read here, so the structs hold PEM
// text and a TlsContext can be built from them without touching the disk.
#pragma once

#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "config/config_node.h"

namespace remora::network::tls {

inline constexpr std::string_view kDownstreamTlsContextType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
inline constexpr std::string_view kUpstreamTlsContextType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

// TlsParameters.TlsProtocol, restricted to what we negotiate.
enum class TlsVersion { Auto, TLSv1_2, TLSv1_3 };

// config.core.v3.DataSource after loading: `origin` is the file name, or "<inline>"
// for inline_string; certificate details and errors name it.
struct LoadedDataSource {
  std::string origin;
  std::string contents;
};

struct TlsCertificateConfig {
  LoadedDataSource certificate_chain;  // PEM: leaf first, then intermediates
  LoadedDataSource private_key;        // PEM
};

// SubjectAltNameMatcher
struct SanMatcherConfig {
  enum class Type { Dns, Uri, Email, IpAddress };
  Type type = Type::Uri;
  config::StringMatcher matcher;
};

// CertificateValidationContext
struct ValidationConfig {
  LoadedDataSource trusted_ca;  // PEM bundle; never empty once parsed
  // The peer passes if any matcher matches any SAN of its type; empty: no SAN check.
  std::vector<SanMatcherConfig> san_matchers;
};

// CommonTlsContext
struct CommonTlsConfig {
  std::vector<TlsCertificateConfig> certificates;
  std::vector<std::string> alpn_protocols;  // in preference order
  TlsVersion min_version = TlsVersion::Auto;
  TlsVersion max_version = TlsVersion::Auto;
  // OpenSSL names of TLS 1.2 suites; empty: OpenSSL's defaults. TLS 1.3 suites are
  // not configurable, as in Envoy.
  std::vector<std::string> cipher_suites;
  bool has_validation = false;
  ValidationConfig validation;
};

struct ServerTlsConfig {
  CommonTlsConfig common;
  bool require_client_certificate = false;
};

struct ClientTlsConfig {
  CommonTlsConfig common;
  std::string sni;  // empty: no server_name extension
};

// Both take the transport socket's typed_config (with its @type) and throw
// config::ConfigError at the offending field: unknown fields, unreadable files, keys
// that do not match their certificate, unsupported TLS versions, unknown ciphers.
ServerTlsConfig parseDownstreamTlsContext(const config::ConfigNode& typed_config);
ClientTlsConfig parseUpstreamTlsContext(const config::ConfigNode& typed_config);

}  // namespace remora::network::tls
