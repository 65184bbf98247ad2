#include "proxy/http/connection_manager.h"

#include "proxy/http/h1/server_codec.h"
#include "proxy/http/h2/details.h"
#include "proxy/http/h2/server_codec.h"
#include "proxy/network/tls/tls_stats.h"

namespace remora::http {

namespace {
std::string ipOf(const std::string& address) {
  if (!address.empty() && address.front() == '[') return address.substr(1, address.find(']') - 1);
  return address.substr(0, address.rfind(':'));
}

std::string rawLocalReply(int status) {
  const std::string_view reason = reasonPhrase(status);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "content-length: " + std::to_string(reason.size()) + "\r\n";
  out += "content-type: text/plain\r\nconnection: close\r\n\r\n";
  out += reason;
  return out;
}
}  // namespace

ConnectionManager::ConnectionManager(filters::FilterContext& context,
                                     std::shared_ptr<const ConnectionManagerConfig> config,
                                     std::unique_ptr<network::TcpConnection> connection,
                                     stats::SslStats* ssl_stats)
    : context_(context),
      config_(std::move(config)),
      stats_(config_->stats.shard(context.resources.thread_index)),
      ssl_stats_(ssl_stats),
      connection_(std::move(connection)),
      idle_timer_(context.resources.loop,
                  [this] {
                    if (!streams_.empty()) {
                      // Busy, not idle: the countdown restarts when the streams end.
                      armIdleTimer();
                      return;
                    }
                    stats_.downstream_cx_idle_timeout.inc();
                    connection_->close(network::TcpConnection::CloseMode::FlushWrite);
                  }),
      request_headers_timer_(context.resources.loop,
                             [this] {
                               stats_.downstream_rq_header_timeout.inc();
                               connection_->write(rawLocalReply(408));
                               if (ActiveStream* s = h1Stream()) s->onConnectionClosed();
                               connection_->close(network::TcpConnection::CloseMode::FlushWrite);
                             }),
      resume_timer_(context.resources.loop, [this] { resumePipeline(); }) {
  stats_.downstream_cx_total.inc();
  stats_.downstream_cx_active.inc();
  using CodecType = config::HttpConnectionManager::CodecType;
  if (config_->config.codec_type != CodecType::Auto) {
    createCodec(config_->config.codec_type == CodecType::Http2);
  }
  connection_->setCallbacks(*this);
  remote_address_ = connection_->peerAddress();
  remote_ip_ = ipOf(remote_address_);
  connection_->startAccepted();
  armIdleTimer();
}

ConnectionManager::~ConnectionManager() {
  setOnClosed(nullptr);
  if (!closed_) connection_->close(network::TcpConnection::CloseMode::Abort);
}

void ConnectionManager::createCodec(bool http2) {
  if (http2) {
    h2::Http2Settings settings = config_->http2_settings;
    settings.connection_buffer_limit = connection_->bufferLimit();
    codec_ = h2::makeServerCodec(
        *this, *this, settings,
        {context_.resources.loop, &config_->http2_stats.shard(context_.resources.thread_index)});
    stats_.downstream_cx_http2_total.inc();
    stats_.downstream_cx_http2_active.inc();
  } else {
    codec_ = h1::makeServerCodec(*this, *this, config_->codec_limits);
    stats_.downstream_cx_http1_total.inc();
    stats_.downstream_cx_http1_active.inc();
  }
}

bool ConnectionManager::http2() const { return codec_ && codec_->protocol() == Protocol::Http2; }

ActiveStream* ConnectionManager::h1Stream() const {
  return streams_.empty() || http2() ? nullptr : streams_.front().get();
}

bool ConnectionManager::draining() const {
  return drain_requested_ || context_.server.draining.load(std::memory_order_relaxed);
}

void ConnectionManager::armIdleTimer() { idle_timer_.start(config_->config.idle_timeout); }

void ConnectionManager::onData(std::string_view data) {
  if (closed_) return;
  stats_.downstream_cx_rx_bytes_total.inc(data.size());
  if (!codec_) {
    // codec_type AUTO: the HTTP/2 connection preface selects HTTP/2 (prior
    // knowledge, as h2c clients send it); anything else is HTTP/1.
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    detect_buffer_.append(data);
    const size_t n = std::min(detect_buffer_.size(), kPreface.size());
    const bool matches = detect_buffer_.compare(0, n, kPreface.substr(0, n)) == 0;
    const bool alpn_h2 = connection_->tls() && connection_->tls()->negotiatedAlpn() == "h2";
    if (!alpn_h2 && matches && detect_buffer_.size() < kPreface.size()) return;
    createCodec(alpn_h2 || matches);
    const std::string buffered = std::move(detect_buffer_);
    detect_buffer_.clear();
    if (!http2()) armRequestHeadersTimer();
    dispatch(buffered);
    return;
  }
  if (http2()) {
    dispatch(data);
    return;
  }
  ActiveStream* stream = h1Stream();
  if (!stream || !stream_headers_received_) armRequestHeadersTimer();
  // Bytes that arrive while a complete request waits for its response are
  // pipelined requests: the codec keeps them, and reading pauses until the
  // response is done so the backlog stays bounded. (Pausing only then keeps the
  // ordinary keep-alive path free of epoll_ctl calls.)
  const bool pipelined = stream && stream->requestComplete() && !codec_->upgraded();
  dispatch(data);
  if (pipelined && !closed_ && h1Stream()) {
    paused_for_pipeline_ = true;
    updateReadEnabled();
  }
}

void ConnectionManager::armRequestHeadersTimer() {
  // The idle timer keeps running until a request starts: a trickle of bytes
  // that never forms a request head does not keep the connection open.
  if (!request_headers_timer_.pending()) {
    request_headers_timer_.set(config_->config.request_headers_timeout);
  }
}

void ConnectionManager::dispatch(std::string_view data) {
  const DispatchResult result = codec_->dispatch(data);
  if (!result.ok) handleCodecError(result.error);
}

void ConnectionManager::resumePipeline() {
  if (closed_ || !streams_.empty()) return;
  const DispatchResult result = codec_->resume();
  if (!result.ok) handleCodecError(result.error);
}

void ConnectionManager::handleCodecError(const CodecError& error) {
  if (closed_) return;
  stats_.downstream_cx_protocol_error.inc();
  if (http2()) {
    // A connection error: the codec has written GOAWAY; every stream ends here. A
    // flooding peer does not read, so nothing is left to flush to it.
    resetAllStreams();
    connection_->close(error.details == h2::details::kFloodDetected
                           ? network::TcpConnection::CloseMode::Abort
                           : network::TcpConnection::CloseMode::FlushWrite);
    return;
  }
  ActiveStream* stream = h1Stream();
  if (stream && stream_headers_received_ && !stream->responseStarted()) {
    requireCloseAfterResponse();
    stream->sendLocalReplyFrom(0, error.status, reasonPhrase(error.status), error.details,
                               stream::ResponseFlag::DownstreamProtocolError);
    connection_->close(network::TcpConnection::CloseMode::FlushWrite);
    return;
  }
  if (!stream) logRejectedRequest(error);
  if (!stream || !stream->responseStarted()) connection_->write(rawLocalReply(error.status));
  if (stream) {
    stream->streamInfo().setFlag(stream::ResponseFlag::DownstreamProtocolError);
    stream->streamInfo().response_code = error.status;
    stream->streamInfo().response_code_details = error.details;
    stream->onConnectionClosed();
  }
  connection_->close(network::TcpConnection::CloseMode::FlushWrite);
}

void ConnectionManager::resetAllStreams() {
  // onConnectionClosed removes each stream from the list.
  while (!streams_.empty()) streams_.front()->onConnectionClosed();
}

void ConnectionManager::logRejectedRequest(const CodecError& error) {
  // Rejected before a stream existed: still one request, answered locally.
  stats_.downstream_rq_total.inc();
  stats_.downstream_rq_http1_total.inc();
  stats_.downstreamResponseClass(error.status).inc();
  stats_.downstream_rq_completed.inc();
  stats_.downstream_rq_time.record(0);
  if (config_->access_logs.empty()) return;
  stream::StreamInfo info;
  info.end = info.start;
  info.response_code = error.status;
  info.response_code_details = error.details;
  info.bytes_sent = reasonPhrase(error.status).size();  // the body of rawLocalReply()
  info.setFlag(stream::ResponseFlag::DownstreamProtocolError);
  info.downstream_remote_address = remote_address_;
  ResponseHead response;
  response.status = error.status;
  const RequestHead request;
  const telemetry::LogContext context{&request, &response, nullptr, info};
  for (const auto& log : config_->access_logs) context_.access_logs.log(*log, context);
}

RequestDecoder& ConnectionManager::newStream(ResponseEncoder& encoder) {
  stream_headers_received_ = false;
  callback_clock::startOfStream();
  std::unique_ptr<ActiveStream> stream;
  // Only ActiveStreams are filed under a connection manager config's address.
  if (std::unique_ptr<Deletable> recycled = context_.resources.recycled.take(config_.get())) {
    stream.reset(static_cast<ActiveStream*>(recycled.release()));
    stream->reuse(*this, encoder);
  } else {
    stream = std::make_unique<ActiveStream>(*this, encoder);
  }
  stream->index = streams_.size();
  streams_.push_back(std::move(stream));
  return *streams_.back();
}

std::unique_ptr<ActiveStream> ConnectionManager::removeStream(ActiveStream& stream) {
  const size_t index = stream.index;
  std::unique_ptr<ActiveStream> owned = std::move(streams_[index]);
  if (index + 1 != streams_.size()) {
    streams_[index] = std::move(streams_.back());
    streams_[index]->index = index;
  }
  streams_.pop_back();
  return owned;
}

void ConnectionManager::onRequestHeadersComplete() {
  stream_headers_received_ = true;
  request_headers_timer_.clear();
}

void ConnectionManager::onStreamFinished(ActiveStream& stream, bool reset) {
  std::unique_ptr<ActiveStream> finished = removeStream(stream);
  // A stream finishes only once its codec has let go of it: an HTTP/1 codec forgets it
  // when its response is complete, an HTTP/2 stream detaches when its response ends
  // (nothing more is delivered to its decoder). A reset stream can end in the middle
  // of its own filter chain: it is destroyed on a later loop turn instead.
  if (!reset) {
    context_.resources.recycled.put(config_, std::move(finished));
  } else {
    context_.resources.deleter.defer(std::move(finished));
  }
  if (closed_) return;
  if (http2()) {
    // Stream-level: the connection carries on (and closes once drained).
    if (streams_.empty()) {
      idle_timer_.touch();
      if (codec_->closeAfterResponse() || draining()) closeIfDrained();
    }
    return;
  }
  stream_headers_received_ = false;
  if (reset) {
    connection_->close(network::TcpConnection::CloseMode::Abort);
    return;
  }
  if (close_after_response_ || codec_->closeAfterResponse() || draining()) {
    if (draining()) stats_.downstream_cx_drain_close.inc();
    connection_->close(network::TcpConnection::CloseMode::FlushWrite);
    return;
  }
  read_disabled_by_stream_ = false;
  paused_for_pipeline_ = false;
  updateReadEnabled();
  idle_timer_.touch();
  if (codec_->hasBufferedInput()) resume_timer_.fireSoon();
}

void ConnectionManager::closeIfDrained() {
  if (!streams_.empty() || codec_->activeStreams() > 0) return;
  if (draining()) stats_.downstream_cx_drain_close.inc();
  connection_->close(network::TcpConnection::CloseMode::FlushWrite);
}

void ConnectionManager::setStreamReadEnabled(bool enabled) {
  // HTTP/2 streams share the connection: one slow upstream must not stall the
  // others, so only HTTP/1 stops reading (HTTP/2 relies on stream windows).
  if (http2()) return;
  read_disabled_by_stream_ = !enabled;
  updateReadEnabled();
}

void ConnectionManager::updateReadEnabled() {
  if (closed_) return;
  connection_->setReadEnabled(!read_disabled_by_stream_ && !paused_for_pipeline_);
}

void ConnectionManager::onEof() {
  if (closed_) return;
  peer_closed_ = true;
  ActiveStream* stream = h1Stream();
  if (codec_ && !http2() && (codec_->upgraded() || (stream && stream->requestComplete()))) {
    // Half-close: the client is done sending; the response (or tunnel) goes on.
    codec_->onEof();
    requireCloseAfterResponse();
    if (streams_.empty()) connection_->close(network::TcpConnection::CloseMode::FlushWrite);
    return;
  }
  resetAllStreams();
  connection_->close(network::TcpConnection::CloseMode::FlushWrite);
}

void ConnectionManager::onClosed(network::CloseReason reason) {
  if (closed_) return;
  closed_ = true;
  stats_.downstream_cx_destroy.inc();
  const bool remote = peer_closed_ || reason == network::CloseReason::RemoteReset;
  (remote ? stats_.downstream_cx_destroy_remote : stats_.downstream_cx_destroy_local).inc();
  stats_.downstream_cx_active.dec();
  if (codec_)
    (http2() ? stats_.downstream_cx_http2_active : stats_.downstream_cx_http1_active).dec();
  stats_.downstream_cx_length_ms.record(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - opened_)
          .count());
  idle_timer_.stop();
  request_headers_timer_.stop();
  resume_timer_.disarm();
  resetAllStreams();
  notifyClosed();
}

void ConnectionManager::onAboveHighWatermark() {
  for (auto& stream : streams_) stream->onDownstreamAboveHighWatermark();
}

void ConnectionManager::onBelowLowWatermark() {
  if (codec_) codec_->onBelowLowWatermark();
  for (auto& stream : streams_) stream->onDownstreamBelowLowWatermark();
}

void ConnectionManager::onTlsHandshake() {
  if (ssl_stats_) network::tls::recordHandshake(*connection_->tls(), *ssl_stats_);
}

void ConnectionManager::onTlsFailure(network::tls::TlsFailure failure) {
  if (ssl_stats_) network::tls::recordFailure(failure, *ssl_stats_);
}

size_t ConnectionManager::bufferedBytes() const { return connection_->bufferedBytes(); }

void ConnectionManager::write(std::string_view bytes) {
  stats_.downstream_cx_tx_bytes_total.inc(bytes.size());
  connection_->write(bytes);
}

void ConnectionManager::startDrain() {
  drain_requested_ = true;
  if (codec_ && http2()) {
    codec_->goAway();  // GOAWAY with the last stream id: open streams finish
    closeIfDrained();
    return;
  }
  if (!streams_.empty()) return;
  stats_.downstream_cx_drain_close.inc();
  connection_->close(network::TcpConnection::CloseMode::FlushWrite);
}

void ConnectionManager::closeNow() { connection_->close(network::TcpConnection::CloseMode::Abort); }

}  // namespace remora::http
