// RAII holders for OpenSSL objects and the PEM/X.509 helpers shared by config
// parsing, contexts and sessions. Internal to proxy/network/tls.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace remora::network::tls {

struct OpenSslDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  void operator()(SSL* ssl) const { SSL_free(ssl); }
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, OpenSslDeleter>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter>;

// Every certificate in a PEM bundle, in order; empty if there is none or the PEM is
// malformed. Clears the OpenSSL error queue.
std::vector<X509Ptr> parseCertificates(std::string_view pem);
// The first private key in `pem`, or null. Clears the OpenSSL error queue.
EvpPkeyPtr parsePrivateKey(std::string_view pem);

// Subject alternative names of one type, as text (IP addresses in inet_ntop form).
struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> uri;
  std::vector<std::string> email;
  std::vector<std::string> ip;
};
SubjectAltNames subjectAltNames(X509* cert);

// RFC 2253 form, e.g. "CN=client,O=Remora Test".
std::string subjectName(X509* cert);
// Lower-case hex without separators, as Envoy prints it.
std::string serialNumber(X509* cert);
// Whole days from `now` to notAfter, 0 once expired (Envoy's days_until_expiration).
uint32_t daysUntilExpiration(X509* cert, std::time_t now);
// RFC 3339 UTC, e.g. "2026-11-26T11:19:42Z"; empty if the time cannot be read.
std::string notBefore(X509* cert);
std::string notAfter(X509* cert);

// The oldest queued OpenSSL error as text (and clears the queue), or `fallback`.
std::string drainErrorQueue(std::string_view fallback);

}  // namespace remora::network::tls
