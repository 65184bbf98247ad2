// One TLS connection over a CiphertextChannel: the caller owns the socket, feeds the
// bytes it read with feedCiphertext(), and sends what takeCiphertext() returns. Not
// thread-safe; lives on its connection's worker.
//
// Driving it:
//   client: create, readPlaintext() once (produces the ClientHello), send ciphertext;
//   both:   on socket bytes: feedCiphertext(); readPlaintext(); send takeCiphertext();
//           writePlaintext() any time (held until the handshake is done).
// Always send takeCiphertext() after an error too: it may hold the alert for the peer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/network/tls/ciphertext_channel.h"
#include "proxy/network/tls/openssl_util.h"
#include "proxy/network/tls/tls_context.h"

namespace remora::network::tls {

enum class TlsStatus {
  Ok,        // progress: plaintext was produced (or, for writes, accepted)
  WantMore,  // needs more ciphertext from the peer
  Closed,    // the peer sent close_notify
  Error,     // fatal; see failure() and errorDetails()
};

// Why a session failed, one-to-one with Envoy's ssl.* counters.
enum class TlsFailure {
  None,
  ConnectionError,   // ssl.connection_error: protocol error, bad record, peer alert
  FailVerifyNoCert,  // ssl.fail_verify_no_cert: a required client certificate is missing
  FailVerifyError,   // ssl.fail_verify_error: chain, expiry or CA check failed
  FailVerifySan,     // ssl.fail_verify_san: no SAN matcher matched
};
// "ssl.connection_error", ...; empty for None.
std::string_view statName(TlsFailure failure);

struct PeerIdentity {
  bool has_certificate = false;
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;
  std::string subject;  // RFC 2253
  std::string serial;   // lower-case hex
};

class TlsSession {
 public:
  // A client session offers the context's SNI (or `server_name` when set) and, when
  // that is the context's own SNI, the context's last session for resumption.
  explicit TlsSession(std::shared_ptr<const TlsContext> context, std::string_view server_name = {});
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // `bytes` are read in place: they must stay valid until the next readPlaintext(),
  // which copies whatever it leaves unread (a partial record).
  void feedCiphertext(std::string_view bytes);
  // Advances the handshake, then appends whatever plaintext is available to `out`.
  // `out` may have grown whatever the status: consume it before acting on Closed.
  TlsStatus readPlaintext(std::string& out);
  // Encrypts `bytes` (or holds them until the handshake is done). Ok, or Error after
  // a failure or shutdown().
  TlsStatus writePlaintext(std::string_view bytes);
  // Moves the bytes to send to the peer into `out` (appended; swapped in when `out` is
  // empty, so a send queue and the session trade buffers instead of copying); returns
  // how many.
  std::size_t takeCiphertext(std::string& out);
  bool hasCiphertext() const;

  // Queues close_notify; the caller sends takeCiphertext() then closes the socket.
  void shutdown();

  bool isServer() const { return context_->isServer(); }
  bool handshakeDone() const { return handshake_done_; }
  bool sessionReused() const;
  // After the handshake; empty when none was negotiated.
  std::string_view negotiatedAlpn() const;
  std::string_view version() const;     // "TLSv1.3"
  std::string_view cipher() const;      // "TLS_AES_128_GCM_SHA256"
  std::string_view serverName() const;  // SNI the client sent (server side), or ""
  // Computed once after the handshake.
  const PeerIdentity& peerIdentity() const { return peer_identity_; }

  TlsFailure failure() const { return failure_; }
  const std::string& errorDetails() const { return error_details_; }

 private:
  TlsStatus decrypt(std::string& out);
  TlsStatus advanceHandshake();
  TlsStatus flushPendingPlaintext();
  TlsStatus fail(int ssl_error);

  std::shared_ptr<const TlsContext> context_;
  CiphertextChannel channel_;  // before ssl_: ssl_ owns a BIO that points at it
  SslPtr ssl_;
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool shut_down_ = false;
  std::string pending_plaintext_;  // written before the handshake finished
  PeerIdentity peer_identity_;
  TlsFailure failure_ = TlsFailure::None;
  std::string error_details_;
};

}  // namespace remora::network::tls
