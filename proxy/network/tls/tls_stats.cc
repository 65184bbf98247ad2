#include "proxy/network/tls/tls_stats.h"

namespace remora::network::tls {

void recordHandshake(const TlsSession& session, stats::SslStats& stats) {
  stats.handshake.inc();
  stats.recordNegotiated(session.version(), session.cipher());
  if (session.isServer() && !session.peerIdentity().has_certificate) stats.no_certificate.inc();
}

void recordFailure(TlsFailure failure, stats::SslStats& stats) {
  switch (failure) {
    case TlsFailure::FailVerifyNoCert:
      stats.fail_verify_no_cert.inc();
      return;
    case TlsFailure::FailVerifyError:
      stats.fail_verify_error.inc();
      return;
    case TlsFailure::FailVerifySan:
      stats.fail_verify_san.inc();
      return;
    case TlsFailure::ConnectionError:
    case TlsFailure::None:
      stats.connection_error.inc();
      return;
  }
}

}  // namespace remora::network::tls
