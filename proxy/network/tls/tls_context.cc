#include "proxy/network/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>

namespace remora::network::tls {
namespace {

int protocolVersion(TlsVersion version, int auto_value) {
  switch (version) {
    case TlsVersion::TLSv1_2:
      return TLS1_2_VERSION;
    case TlsVersion::TLSv1_3:
      return TLS1_3_VERSION;
    case TlsVersion::Auto:
      break;
  }
  return auto_value;
}

[[noreturn]] void failOpenSsl(const std::string& what) {
  throw config::ConfigError(what + ": " + drainErrorQueue("unknown OpenSSL error"));
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// RFC 6125: "*.example.com" covers exactly one extra leftmost label.
bool wildcardCovers(std::string_view san, std::string_view name) {
  if (san.size() < 3 || san.substr(0, 2) != "*.") return false;
  const std::size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  return equalsIgnoreCase(name.substr(dot), san.substr(1));
}

CertificateDetails describe(const std::string& origin, X509* cert, std::time_t now) {
  CertificateDetails details;
  details.path = origin;
  details.serial_number = serialNumber(cert);
  details.subject = subjectName(cert);
  SubjectAltNames sans = subjectAltNames(cert);
  details.dns_sans = std::move(sans.dns);
  details.uri_sans = std::move(sans.uri);
  details.ip_sans = std::move(sans.ip);
  details.email_sans = std::move(sans.email);
  details.days_until_expiration = daysUntilExpiration(cert, now);
  details.valid_from = notBefore(cert);
  details.expiration_time = notAfter(cert);
  return details;
}

}  // namespace

TlsContext::TlsContext(bool is_server, const CommonTlsConfig& common)
    : is_server_(is_server),
      ctx_(SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method())) {
  if (!ctx_) failOpenSsl("cannot create SSL_CTX");
  SSL_CTX_set_app_data(ctx_.get(), this);
  configureCommon(common);
}

TlsContext::~TlsContext() = default;

std::shared_ptr<const TlsContext> TlsContext::create(const ServerTlsConfig& config) {
  std::shared_ptr<TlsContext> context(new TlsContext(true, config.common));
  context->configureServer(config);
  return context;
}

std::shared_ptr<const TlsContext> TlsContext::create(const ClientTlsConfig& config) {
  std::shared_ptr<TlsContext> context(new TlsContext(false, config.common));
  context->configureClient(config);
  return context;
}

void TlsContext::configureCommon(const CommonTlsConfig& common) {
  SSL_CTX* ctx = ctx_.get();
  SSL_CTX_set_min_proto_version(ctx, protocolVersion(common.min_version, TLS1_2_VERSION));
  SSL_CTX_set_max_proto_version(ctx, protocolVersion(common.max_version, TLS1_3_VERSION));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle connections then hold no record buffers, like TcpConnection's read buffer.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

  if (!common.cipher_suites.empty()) {
    std::string list;
    for (const std::string& suite : common.cipher_suites) {
      if (!list.empty()) list += ':';
      list += suite;
    }
    if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) failOpenSsl("invalid cipher_suites");
  }

  for (const TlsCertificateConfig& certificate : common.certificates) {
    std::vector<X509Ptr> chain = parseCertificates(certificate.certificate_chain.contents);
    EvpPkeyPtr key = parsePrivateKey(certificate.private_key.contents);
    if (chain.empty() || !key) {
      throw config::ConfigError("cannot load certificate " + certificate.certificate_chain.origin);
    }
    STACK_OF(X509)* intermediates = sk_X509_new_null();
    for (std::size_t i = 1; i < chain.size(); ++i) sk_X509_push(intermediates, chain[i].get());
    // override=0: a second certificate with the same key type is an error, not a
    // silent replacement.
    const int loaded =
        SSL_CTX_use_cert_and_key(ctx, chain.front().get(), key.get(), intermediates, 0);
    sk_X509_free(intermediates);
    if (loaded != 1) failOpenSsl("cannot use certificate " + certificate.certificate_chain.origin);
    certificates_.push_back({certificate.certificate_chain.origin, std::move(chain.front())});
  }

  for (const std::string& protocol : common.alpn_protocols) {
    alpn_protocols_.push_back(protocol);
    alpn_wire_ += static_cast<char>(protocol.size());
    alpn_wire_ += protocol;
  }

  has_validation_ = common.has_validation;
  if (!has_validation_) return;
  ca_origin_ = common.validation.trusted_ca.origin;
  ca_certificates_ = parseCertificates(common.validation.trusted_ca.contents);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& ca : ca_certificates_) {
    if (X509_STORE_add_cert(store, ca.get()) != 1) {
      // The same CA listed twice is harmless.
      const unsigned long error = ERR_peek_last_error();
      if (ERR_GET_REASON(error) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        failOpenSsl("cannot add trusted CA from " + ca_origin_);
      }
      ERR_clear_error();
    }
  }
  for (const SanMatcherConfig& san : common.validation.san_matchers) {
    const bool exact_dns = san.type == SanMatcherConfig::Type::Dns &&
                           san.matcher.kind == config::StringMatcher::Kind::Exact;
    san_matchers_.push_back(
        {san.type, router::StringMatcher(san.matcher), exact_dns ? san.matcher.value : ""});
  }
}

void TlsContext::configureServer(const ServerTlsConfig& config) {
  SSL_CTX* ctx = ctx_.get();
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  require_client_certificate_ = config.require_client_certificate;
  if (!alpn_protocols_.empty()) SSL_CTX_set_alpn_select_cb(ctx, &TlsContext::onSelectAlpn, this);

  // Resumption needs a session id context when peers are verified. Deriving it from
  // the material keeps it stable across identical rebuilds and distinct otherwise.
  std::string identity = config.require_client_certificate ? "require" : "optional";
  for (const TlsCertificateConfig& certificate : config.common.certificates) {
    identity += certificate.certificate_chain.contents;
  }
  identity += config.common.validation.trusted_ca.contents;
  for (const SanMatcherConfig& san : config.common.validation.san_matchers) {
    identity += std::to_string(static_cast<int>(san.type)) + ':' +
                std::to_string(static_cast<int>(san.matcher.kind)) + ':' + san.matcher.value;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  EVP_Digest(identity.data(), identity.size(), digest, &digest_length, EVP_sha256(), nullptr);
  SSL_CTX_set_session_id_context(ctx, digest,
                                 std::min<unsigned int>(digest_length, SSL_MAX_SID_CTX_LENGTH));

  if (has_validation_) {
    configureVerification(SSL_VERIFY_PEER |
                          (require_client_certificate_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0));
  }
}

void TlsContext::configureClient(const ClientTlsConfig& config) {
  SSL_CTX* ctx = ctx_.get();
  sni_ = config.sni;
  // SSL_CTX_set_alpn_protos returns 0 on success.
  if (!alpn_wire_.empty() &&
      SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(alpn_wire_.data()),
                              static_cast<unsigned int>(alpn_wire_.size())) != 0) {
    failOpenSsl("invalid alpn_protocols");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsContext::onNewClientSession);
  if (has_validation_) configureVerification(SSL_VERIFY_PEER);
}

void TlsContext::configureVerification(int mode) {
  SSL_CTX_set_verify(ctx_.get(), mode, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx_.get(), &TlsContext::onVerifyCertificate, this);
}

int TlsContext::onVerifyCertificate(X509_STORE_CTX* store, void* arg) {
  const auto* self = static_cast<const TlsContext*>(arg);
  if (X509_verify_cert(store) != 1) return 0;
  if (!self->matchesSubjectAltNames(X509_STORE_CTX_get0_cert(store))) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

bool TlsContext::matchesSubjectAltNames(X509* cert) const {
  if (san_matchers_.empty()) return true;
  const SubjectAltNames sans = subjectAltNames(cert);
  for (const CompiledSanMatcher& san : san_matchers_) {
    const std::vector<std::string>* values = nullptr;
    switch (san.type) {
      case SanMatcherConfig::Type::Dns:
        values = &sans.dns;
        break;
      case SanMatcherConfig::Type::Uri:
        values = &sans.uri;
        break;
      case SanMatcherConfig::Type::Email:
        values = &sans.email;
        break;
      case SanMatcherConfig::Type::IpAddress:
        values = &sans.ip;
        break;
    }
    for (const std::string& value : *values) {
      if (san.matcher.matches(value)) return true;
      if (!san.exact_dns_name.empty() && wildcardCovers(value, san.exact_dns_name)) return true;
    }
  }
  return false;
}

int TlsContext::onSelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length,
                             const unsigned char* offered, unsigned int offered_length, void* arg) {
  const auto* self = static_cast<const TlsContext*>(arg);
  // Our order wins: the first configured protocol the client offers.
  for (const std::string& protocol : self->alpn_protocols_) {
    unsigned int at = 0;
    while (at < offered_length) {
      const unsigned int length = offered[at];
      if (at + 1 + length > offered_length) break;
      if (std::string_view(reinterpret_cast<const char*>(offered + at + 1), length) == protocol) {
        *out = offered + at + 1;
        *out_length = static_cast<unsigned char>(length);
        return SSL_TLSEXT_ERR_OK;
      }
      at += 1 + length;
    }
  }
  // No overlap: carry on without ALPN rather than failing the handshake.
  return SSL_TLSEXT_ERR_NOACK;
}

int TlsContext::onNewClientSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  const std::lock_guard lock(self->last_session_mutex_);
  self->last_session_.reset(session);
  return 1;  // we keep the reference
}

SslSessionPtr TlsContext::lastSession() const {
  const std::lock_guard lock(last_session_mutex_);
  if (!last_session_ || SSL_SESSION_is_resumable(last_session_.get()) != 1) return nullptr;
  SSL_SESSION_up_ref(last_session_.get());
  return SslSessionPtr(last_session_.get());
}

std::vector<CertificateDetails> TlsContext::certificateDetails(std::time_t now) const {
  std::vector<CertificateDetails> details;
  for (const LoadedCertificate& certificate : certificates_) {
    details.push_back(describe(certificate.origin, certificate.leaf.get(), now));
  }
  return details;
}

std::vector<CertificateDetails> TlsContext::caCertificateDetails(std::time_t now) const {
  std::vector<CertificateDetails> details;
  for (const X509Ptr& ca : ca_certificates_) details.push_back(describe(ca_origin_, ca.get(), now));
  return details;
}

}  // namespace remora::network::tls
