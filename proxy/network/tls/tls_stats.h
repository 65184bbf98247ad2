// Envoy's ssl.* counters for one handshake outcome, shared by listeners (the
// HTTP connection manager, the TCP proxy) and clusters (upstream connections).
#pragma once

#include "proxy/network/tls/tls_session.h"
#include "telemetry/stats/stat_definitions.h"

namespace remora::network::tls {

// ssl.handshake, ssl.versions.*, ssl.ciphers.*, and ssl.no_certificate when the
// peer showed none (counted on the side that could ask for one).
void recordHandshake(const TlsSession& session, stats::SslStats& stats);
void recordFailure(TlsFailure failure, stats::SslStats& stats);

}  // namespace remora::network::tls
