// Copies what a finished downstream TLS handshake tells the access log and RBAC into
// a StreamInfo: shared by HTTP streams and TCP proxy sessions.
#pragma once

#include "proxy/network/tls/tls_session.h"
#include "proxy/stream/stream_info.h"

namespace remora::stream {

inline void setDownstreamTls(const network::tls::TlsSession& tls, StreamInfo& info) {
  const network::tls::PeerIdentity& peer = tls.peerIdentity();
  info.peer_uri_sans = peer.uri_sans;
  info.peer_dns_sans = peer.dns_sans;
  info.peer_subject = peer.subject;
  info.tls_version = tls.version();
  info.tls_cipher = tls.cipher();
  info.requested_server_name = tls.serverName();
}

}  // namespace remora::stream
