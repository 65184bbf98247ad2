// The HTTP connection manager: owns one downstream connection, picks its codec
// (HTTP/1.1, or HTTP/2 by prior knowledge), owns the streams in flight, enforces
// the connection timeouts, and drains (HTTP/1: connection: close; HTTP/2: GOAWAY).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "filters/filter.h"
#include "filters/filter_registry.h"
#include "proxy/common/idle_timer.h"
#include "proxy/common/timer.h"
#include "proxy/http/active_stream.h"
#include "proxy/http/codec.h"
#include "proxy/http/connection_manager_config.h"
#include "proxy/network/downstream_connection.h"
#include "proxy/network/tcp_connection.h"

namespace remora::http {

class ConnectionManager : public network::DownstreamConnection,
                          public network::ConnectionCallbacks,
                          public CodecOutput,
                          public ServerCodecCallbacks {
 public:
  // `ssl_stats`: the listener's ssl.* counters when the connection is TLS.
  ConnectionManager(filters::FilterContext& context,
                    std::shared_ptr<const ConnectionManagerConfig> config,
                    std::unique_ptr<network::TcpConnection> connection,
                    stats::SslStats* ssl_stats = nullptr);
  ~ConnectionManager() override;

  // network::DownstreamConnection
  void startDrain() override;
  void closeNow() override;
  // network::ConnectionCallbacks
  void onData(std::string_view data) override;
  void onEof() override;
  void onClosed(network::CloseReason reason) override;
  void onAboveHighWatermark() override;
  void onBelowLowWatermark() override;
  void onTlsHandshake() override;
  void onTlsFailure(network::tls::TlsFailure failure) override;
  // CodecOutput
  void write(std::string_view bytes) override;
  size_t bufferedBytes() const override;
  // ServerCodecCallbacks
  RequestDecoder& newStream(ResponseEncoder& encoder) override;

  const ConnectionManagerConfig& config() const { return *config_; }
  filters::FilterContext& context() { return context_; }
  stats::HttpConnManagerStats& stats() { return stats_; }
  network::TcpConnection& connection() { return *connection_; }
  const std::string& remoteAddress() const { return remote_address_; }
  const std::string& remoteIp() const { return remote_ip_; }
  bool draining() const;
  // Whether the stream's response must carry "connection: close".
  bool closeAfterResponse() const { return close_after_response_; }
  void requireCloseAfterResponse() { close_after_response_ = true; }
  void setStreamReadEnabled(bool enabled);
  // The stream ended (response complete or reset).
  void onStreamFinished(ActiveStream& stream, bool reset);
  bool http2() const;
  void onRequestHeadersComplete();

 private:
  void dispatch(std::string_view data);
  void handleCodecError(const CodecError& error);
  void armIdleTimer();
  // Access log line and stats for a request the codec rejected before a stream.
  void logRejectedRequest(const CodecError& error);
  void resumePipeline();
  void updateReadEnabled();
  void createCodec(bool http2);
  void armRequestHeadersTimer();
  // The one stream of an HTTP/1 connection, or nullptr.
  ActiveStream* h1Stream() const;
  void resetAllStreams();
  // HTTP/2 after GOAWAY: closes once the last stream is done.
  void closeIfDrained();
  // Takes the stream out of streams_ (the last one takes its place).
  std::unique_ptr<ActiveStream> removeStream(ActiveStream& stream);

  filters::FilterContext& context_;
  std::shared_ptr<const ConnectionManagerConfig> config_;
  stats::HttpConnManagerStats& stats_;
  stats::SslStats* ssl_stats_;
  const std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  bool peer_closed_ = false;
  std::unique_ptr<network::TcpConnection> connection_;
  std::unique_ptr<ServerCodec> codec_;
  // Kept as a vector so that its capacity, unlike list nodes, survives between streams.
  std::vector<std::unique_ptr<ActiveStream>> streams_;
  std::string detect_buffer_;  // codec_type AUTO: bytes seen before the choice
  std::string remote_address_;
  std::string remote_ip_;
  bool close_after_response_ = false;
  bool drain_requested_ = false;
  bool read_disabled_by_stream_ = false;
  bool paused_for_pipeline_ = false;
  bool closed_ = false;
  bool stream_headers_received_ = false;
  IdleTimer idle_timer_;
  DeadlineTimer request_headers_timer_;
  Timer resume_timer_;
};

}  // namespace remora::http
