#include "proxy/upstream/upstream_client.h"

#include "proxy/http/h1/client_codec.h"
#include "proxy/http/h2/client_codec.h"
#include "proxy/network/tls/tls_stats.h"
#include "proxy/upstream/conn_pool.h"

namespace remora::upstream {

UpstreamClient::UpstreamClient(ConnPool& pool, WorkerResources& resources, uint32_t buffer_limit,
                               bool http2, const http::h2::Http2Settings& http2_settings)
    : pool_(pool),
      connection_(resources.loop, resources.read_buffer, resources.write_batcher, buffer_limit),
      http2_(http2),
      codec_(http2 ? http::h2::makeClientCodec(*this, http2_settings,
                                               {resources.loop, &pool.clusterStats().http2})
                   : http::h1::makeClientCodec(*this)) {
  connection_.setCallbacks(*this);
}

UpstreamClient::~UpstreamClient() = default;

void UpstreamClient::onConnected() { pool_.onClientConnected(*this); }

void UpstreamClient::write(std::string_view bytes) {
  pool_.clusterStats().upstream_cx_tx_bytes_total.inc(bytes.size());
  connection_.write(bytes);
}

void UpstreamClient::loseStreams(bool protocol_error, std::string_view details) {
  const std::vector<UpstreamStreamCallbacks*> streams = std::exchange(streams_, {});
  for (UpstreamStreamCallbacks* stream : streams) {
    stream->onUpstreamConnectionLost(protocol_error, details);
  }
}

void UpstreamClient::onData(std::string_view data) {
  pool_.clusterStats().upstream_cx_rx_bytes_total.inc(data.size());
  if (idle && !http2_) {
    // An idle HTTP/1 connection must stay silent; anything else desynchronises it.
    connection_.close(network::TcpConnection::CloseMode::Abort);
    return;
  }
  const http::DispatchResult result = codec_->dispatch(data);
  if (!result.ok) {
    // The streams hear why first; closing would report a plain termination.
    loseStreams(true, result.error.details);
    connection_.close(network::TcpConnection::CloseMode::Abort);
  }
}

void UpstreamClient::onEof() {
  peer_closed = true;
  // HTTP/1: completes a close-delimited body. HTTP/2: resets the open streams.
  const bool completed = codec_->onEof();
  if (!completed) loseStreams(false, "connection_termination");
  streams_.clear();
  connection_.close(network::TcpConnection::CloseMode::Abort);
}

void UpstreamClient::onClosed(network::CloseReason reason) {
  pool_.onClientClosed(*this, reason);
  loseStreams(false, "connection_termination");
}

void UpstreamClient::onTlsHandshake() {
  network::tls::recordHandshake(*connection_.tls(), pool_.clusterStats().ssl);
}

void UpstreamClient::onTlsFailure(network::tls::TlsFailure failure) {
  network::tls::recordFailure(failure, pool_.clusterStats().ssl);
}

void UpstreamClient::onAboveHighWatermark() {
  for (UpstreamStreamCallbacks* stream : streams_) stream->onUpstreamAboveHighWatermark();
}

void UpstreamClient::onBelowLowWatermark() {
  codec_->onBelowLowWatermark();
  for (UpstreamStreamCallbacks* stream : streams_) stream->onUpstreamBelowLowWatermark();
}

}  // namespace remora::upstream
