// An immutable TLS configuration compiled into an SSL_CTX, shared by every worker
// (OpenSSL locks the SSL_CTX internally). Rebuild it with create() when the config or
// its files change; sessions keep the context they started with.
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/network/tls/openssl_util.h"
#include "proxy/network/tls/tls_config.h"
#include "proxy/router/string_matcher.h"

namespace remora::network::tls {

// One configured certificate as the admin /certs endpoint shows it.
struct CertificateDetails {
  std::string path;  // file name, or "<inline>"
  std::string serial_number;
  std::string subject;
  std::vector<std::string> dns_sans;
  std::vector<std::string> uri_sans;
  std::vector<std::string> ip_sans;
  std::vector<std::string> email_sans;
  uint32_t days_until_expiration = 0;
  std::string valid_from;       // RFC 3339
  std::string expiration_time;  // RFC 3339
};

class TlsContext {
 public:
  // Build from parsed configs (all files were read by the parser, so this does no
  // I/O and gives the same result for the same config). Throws config::ConfigError
  // if OpenSSL refuses the material, which the parser has already checked.
  static std::shared_ptr<const TlsContext> create(const ServerTlsConfig& config);
  static std::shared_ptr<const TlsContext> create(const ClientTlsConfig& config);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool isServer() const { return is_server_; }
  SSL_CTX* sslCtx() const { return ctx_.get(); }
  const std::string& sni() const { return sni_; }
  const std::vector<std::string>& alpnProtocols() const { return alpn_protocols_; }
  bool requireClientCertificate() const { return require_client_certificate_; }
  bool verifiesPeer() const { return has_validation_; }

  // The configured leaf certificates (the first of each chain), then the trusted CAs.
  std::vector<CertificateDetails> certificateDetails(std::time_t now) const;
  std::vector<CertificateDetails> caCertificateDetails(std::time_t now) const;

  // True when no SAN matcher is configured or one of them matches a SAN of `cert`.
  // The verify callback records a mismatch as X509_V_ERR_APPLICATION_VERIFICATION, so
  // a session can tell it from a chain failure.
  bool matchesSubjectAltNames(X509* cert) const;

  // Client only: the newest session ticket the server gave us, to offer on the next
  // connection (null if none yet). The only mutable state, guarded by a mutex because
  // every worker's connections share it.
  SslSessionPtr lastSession() const;

 private:
  struct CompiledSanMatcher {
    SanMatcherConfig::Type type;
    router::StringMatcher matcher;
    // Set for exact DNS matchers, which also accept a wildcard SAN covering the name.
    std::string exact_dns_name;
  };
  struct LoadedCertificate {
    std::string origin;
    X509Ptr leaf;
  };

  TlsContext(bool is_server, const CommonTlsConfig& common);
  void configureCommon(const CommonTlsConfig& common);
  void configureServer(const ServerTlsConfig& config);
  void configureClient(const ClientTlsConfig& config);
  void configureVerification(int mode);
  static int onNewClientSession(SSL* ssl, SSL_SESSION* session);
  static int onSelectAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                          const unsigned char* offered, unsigned int offered_length, void* arg);
  static int onVerifyCertificate(X509_STORE_CTX* store, void* arg);

  bool is_server_;
  SslCtxPtr ctx_;
  std::string sni_;
  std::vector<std::string> alpn_protocols_;
  std::string alpn_wire_;  // length-prefixed, as ALPN sends it
  bool require_client_certificate_ = false;
  bool has_validation_ = false;
  std::vector<CompiledSanMatcher> san_matchers_;
  std::vector<LoadedCertificate> certificates_;
  std::string ca_origin_;
  std::vector<X509Ptr> ca_certificates_;

  mutable std::mutex last_session_mutex_;
  mutable SslSessionPtr last_session_;
};

}  // namespace remora::network::tls
