#include "proxy/network/tls/tls_session.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

namespace remora::network::tls {
namespace {

// One TLS record's worth of plaintext per SSL_read.
constexpr std::size_t kReadChunk = 16 * 1024;

// SSL_get_error reads this thread's error queue, so it must start empty. Clearing it
// walks every slot; checking first is cheaper on the usual, already empty, queue.
void ensureEmptyErrorQueue() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace

std::string_view statName(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::None:
      return "";
    case TlsFailure::ConnectionError:
      return "ssl.connection_error";
    case TlsFailure::FailVerifyNoCert:
      return "ssl.fail_verify_no_cert";
    case TlsFailure::FailVerifyError:
      return "ssl.fail_verify_error";
    case TlsFailure::FailVerifySan:
      return "ssl.fail_verify_san";
  }
  return "";
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, std::string_view server_name)
    : context_(std::move(context)), ssl_(SSL_new(context_->sslCtx())) {
  BIO* bio = ssl_ ? channel_.newBio() : nullptr;
  if (bio == nullptr) {
    ssl_.reset();
    failure_ = TlsFailure::ConnectionError;
    error_details_ = drainErrorQueue("cannot allocate TLS session");
    return;
  }
  SSL_set_bio(ssl_.get(), bio, bio);
  if (context_->isServer()) {
    SSL_set_accept_state(ssl_.get());
    return;
  }
  SSL_set_connect_state(ssl_.get());
  const std::string sni(server_name.empty() ? std::string_view(context_->sni()) : server_name);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl_.get(), sni.c_str());
  // The context's saved session was made for its own SNI; never offer it to another.
  if (sni != context_->sni()) return;
  if (SslSessionPtr last = context_->lastSession()) SSL_set_session(ssl_.get(), last.get());
}

TlsSession::~TlsSession() = default;

void TlsSession::feedCiphertext(std::string_view bytes) {
  if (ssl_ && !bytes.empty()) channel_.feed(bytes);
}

TlsStatus TlsSession::readPlaintext(std::string& out) {
  const TlsStatus status = decrypt(out);
  channel_.keepUnread();
  return status;
}

TlsStatus TlsSession::decrypt(std::string& out) {
  if (failure_ != TlsFailure::None) return TlsStatus::Error;
  ensureEmptyErrorQueue();
  if (!handshake_done_) {
    const TlsStatus status = advanceHandshake();
    if (status != TlsStatus::Ok) return status;
  }
  if (peer_closed_) return TlsStatus::Closed;
  bool produced = false;
  // Uninitialised on purpose: resizing `out` to read in place would zero 16 KiB per
  // call, which cost more than the whole record layer for small messages.
  char chunk[kReadChunk];
  for (;;) {
    std::size_t read = 0;
    const int result = SSL_read_ex(ssl_.get(), chunk, sizeof(chunk), &read);
    if (result == 1) {
      out.append(chunk, read);
      produced = true;
      // Nothing left to decrypt: another SSL_read would only report WANT_READ.
      if (channel_.inputSize() == 0 && SSL_has_pending(ssl_.get()) == 0) return TlsStatus::Ok;
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), result);
    if (error == SSL_ERROR_WANT_READ) return produced ? TlsStatus::Ok : TlsStatus::WantMore;
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return TlsStatus::Closed;
    }
    return fail(error);
  }
}

TlsStatus TlsSession::writePlaintext(std::string_view bytes) {
  if (failure_ != TlsFailure::None || shut_down_) return TlsStatus::Error;
  if (!handshake_done_) {
    pending_plaintext_.append(bytes);
    return TlsStatus::Ok;
  }
  if (bytes.empty()) return TlsStatus::Ok;
  ensureEmptyErrorQueue();
  std::size_t written = 0;
  // The output BIO grows without bound, so a write takes everything or fails.
  const int result = SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written);
  if (result != 1) return fail(SSL_get_error(ssl_.get(), result));
  return TlsStatus::Ok;
}

std::size_t TlsSession::takeCiphertext(std::string& out) { return channel_.take(out); }

bool TlsSession::hasCiphertext() const { return channel_.hasOutput(); }

void TlsSession::shutdown() {
  if (shut_down_ || !ssl_) return;
  shut_down_ = true;
  // close_notify is only defined once the handshake is done; before that the caller
  // just closes the socket.
  if (!handshake_done_ || failure_ != TlsFailure::None) return;
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

bool TlsSession::sessionReused() const { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }

std::string_view TlsSession::negotiatedAlpn() const {
  if (!ssl_) return {};
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
  if (protocol == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(protocol), length);
}

std::string_view TlsSession::version() const {
  if (!ssl_ || !handshake_done_) return {};
  return SSL_get_version(ssl_.get());
}

std::string_view TlsSession::cipher() const {
  if (!ssl_ || !handshake_done_) return {};
  const SSL_CIPHER* current = SSL_get_current_cipher(ssl_.get());
  return current != nullptr ? SSL_CIPHER_get_name(current) : std::string_view();
}

std::string_view TlsSession::serverName() const {
  if (!ssl_) return {};
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

TlsStatus TlsSession::advanceHandshake() {
  const int result = SSL_do_handshake(ssl_.get());
  if (result != 1) {
    const int error = SSL_get_error(ssl_.get(), result);
    if (error == SSL_ERROR_WANT_READ) return TlsStatus::WantMore;
    return fail(error);
  }
  handshake_done_ = true;
  if (X509* cert = SSL_get0_peer_certificate(ssl_.get())) {
    peer_identity_.has_certificate = true;
    SubjectAltNames sans = subjectAltNames(cert);
    peer_identity_.uri_sans = std::move(sans.uri);
    peer_identity_.dns_sans = std::move(sans.dns);
    peer_identity_.subject = subjectName(cert);
    peer_identity_.serial = serialNumber(cert);
  }
  return flushPendingPlaintext();
}

TlsStatus TlsSession::flushPendingPlaintext() {
  if (pending_plaintext_.empty()) return TlsStatus::Ok;
  const std::string pending = std::move(pending_plaintext_);
  pending_plaintext_.clear();
  return writePlaintext(pending);
}

TlsStatus TlsSession::fail(int ssl_error) {
  failure_ = TlsFailure::ConnectionError;
  if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    error_details_ = "unexpected end of TLS stream";
    return TlsStatus::Error;
  }
  const unsigned long first = ERR_peek_error();
  while (const unsigned long error = ERR_get_error()) {
    if (ERR_GET_LIB(error) != ERR_LIB_SSL) continue;
    if (ERR_GET_REASON(error) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      failure_ = TlsFailure::FailVerifyNoCert;
      error_details_ = "peer did not return a certificate";
    } else if (ERR_GET_REASON(error) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      const long result = SSL_get_verify_result(ssl_.get());
      if (result == X509_V_ERR_APPLICATION_VERIFICATION) {
        failure_ = TlsFailure::FailVerifySan;
        error_details_ = "peer certificate matches no subject alt name matcher";
      } else {
        failure_ = TlsFailure::FailVerifyError;
        error_details_ = std::string("peer certificate verification failed: ") +
                         X509_verify_cert_error_string(result);
      }
    }
  }
  if (failure_ == TlsFailure::ConnectionError) {
    char text[256] = "TLS error";
    if (first != 0) ERR_error_string_n(first, text, sizeof(text));
    error_details_ = text;
  }
  ERR_clear_error();
  return TlsStatus::Error;
}

}  // namespace remora::network::tls
