#include "proxy/upstream/upstream_client.h"

#include "proxy/http/h1/client_codec.h"
#include "proxy/upstream/conn_pool.h"

namespace remora::upstream {

UpstreamClient::UpstreamClient(ConnPool& pool, WorkerResources& resources, uint32_t buffer_limit)
    : pool_(pool),
      connection_(resources.loop, resources.read_buffer, resources.write_batcher, buffer_limit),
      codec_(http::h1::makeClientCodec(*this)) {
  connection_.setCallbacks(*this);
}

UpstreamClient::~UpstreamClient() = default;

void UpstreamClient::onConnected() { pool_.onClientConnected(*this); }

void UpstreamClient::write(std::string_view bytes) {
  pool_.clusterStats().upstream_cx_tx_bytes_total.inc(bytes.size());
  connection_.write(bytes);
}

void UpstreamClient::onData(std::string_view data) {
  pool_.clusterStats().upstream_cx_rx_bytes_total.inc(data.size());
  if (idle) {
    // An idle connection must stay silent; anything else desynchronises it.
    connection_.close(network::TcpConnection::CloseMode::Abort);
    return;
  }
  const http::DispatchResult result = codec_->dispatch(data);
  if (!result.ok) {
    UpstreamStreamCallbacks* stream = std::exchange(stream_, nullptr);
    connection_.close(network::TcpConnection::CloseMode::Abort);
    if (stream) stream->onUpstreamConnectionLost(true, result.error.details);
  }
}

void UpstreamClient::onEof() {
  peer_closed = true;
  const bool completed = codec_->onEof();
  UpstreamStreamCallbacks* stream = std::exchange(stream_, nullptr);
  connection_.close(network::TcpConnection::CloseMode::Abort);
  if (stream && !completed) stream->onUpstreamConnectionLost(false, "connection_termination");
}

void UpstreamClient::onClosed(network::CloseReason reason) {
  UpstreamStreamCallbacks* stream = std::exchange(stream_, nullptr);
  pool_.onClientClosed(*this, reason);
  if (stream) stream->onUpstreamConnectionLost(false, "connection_termination");
}

void UpstreamClient::onAboveHighWatermark() {
  if (stream_) stream_->onUpstreamAboveHighWatermark();
}

void UpstreamClient::onBelowLowWatermark() {
  if (stream_) stream_->onUpstreamBelowLowWatermark();
}

}  // namespace remora::upstream
