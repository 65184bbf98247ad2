// The HTTP connection manager: owns one downstream connection, its server codec and
// the stream in flight, runs the filter chain, enforces the connection and stream
// timeouts, and drains.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "filters/filter.h"
#include "filters/filter_registry.h"
#include "proxy/common/idle_timer.h"
#include "proxy/common/timer.h"
#include "proxy/http/codec.h"
#include "proxy/http/connection_manager_config.h"
#include "proxy/network/downstream_connection.h"
#include "proxy/network/tcp_connection.h"

namespace remora::http {

class ConnectionManager;

// One request/response exchange and its filter chain.
class ActiveStream : public RequestDecoder, public filters::FilterCallbacks, public Deletable {
 public:
  ActiveStream(ConnectionManager& connection, ResponseEncoder& encoder);
  ~ActiveStream() override;

  // RequestDecoder
  void decodeHeaders(RequestHead&& head, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(HeaderMap&& trailers) override;

  // filters::FilterCallbacks
  void continueRequest() override;
  void continueResponse() override;
  void sendLocalReply(int status, std::string_view body, std::string_view details,
                      stream::ResponseFlag flag) override;
  RequestHead& requestHead() override { return request_; }
  const router::RouteEntry* route() override;
  void overrideStreamIdleTimeout(std::chrono::milliseconds timeout) override;
  stream::StreamInfo& streamInfo() override { return info_; }
  void encodeHeaders(ResponseHead&& head, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(HeaderMap&& trailers) override;
  void resetStream() override;
  void setDownstreamReadEnabled(bool enabled) override;
  bool downstreamAboveHighWatermark() const override;

  // From the connection manager.
  // A local reply whose response phases start below filter `origin` (0: no filter
  // sees it, used for replies decided before the chain ran).
  void sendLocalReplyFrom(size_t origin, int status, std::string_view body,
                          std::string_view details, stream::ResponseFlag flag);
  void onDownstreamAboveHighWatermark();
  void onDownstreamBelowLowWatermark();
  // The downstream connection went away with this stream unfinished.
  void onConnectionClosed();
  bool requestComplete() const { return request_complete_; }
  bool responseComplete() const { return response_complete_; }
  bool responseStarted() const { return response_started_; }

 private:
  void prepareRequest();
  void runRequestHeaders(size_t from);
  void runRequestData(std::string_view data, bool end_stream, size_t from);
  void runRequestTrailers(size_t from);
  size_t requestLimit() const;
  void startResponse(ResponseHead&& head, bool end_stream, size_t origin);
  void runResponseHeaders(size_t from);
  void encodeDataFrom(std::string_view data, bool end_stream);
  void onResponseEnd();
  void finalizeResponseHeaders(ResponseHead& head);
  void onRequestEnd();
  void recordStats();
  void writeAccessLogs();
  void onStreamIdle();
  void onRequestTimeout();
  void touch();
  // Ends the stream: logs, destroys filters, hands control back to the connection.
  void finish(bool reset);
  // Index of the filter that called a callback: the one whose phase is running,
  // else the terminal filter.
  size_t responseOrigin() const;

  ConnectionManager& connection_;
  ResponseEncoder& encoder_;
  RequestHead request_;
  stream::StreamInfo info_;
  std::vector<std::unique_ptr<filters::StreamFilter>> filters_;
  std::optional<const router::RouteEntry*> route_;
  // Kept for the access log (only when the connection manager has one).
  std::optional<ResponseHead> logged_response_;
  std::optional<HeaderMap> logged_trailers_;

  // Request iteration: where a filter stopped, and what arrived meanwhile.
  std::optional<size_t> request_stopped_at_;
  std::string buffered_request_data_;
  std::optional<HeaderMap> buffered_request_trailers_;
  bool request_end_buffered_ = false;
  // Response iteration.
  std::optional<size_t> response_stopped_at_;
  std::optional<ResponseHead> paused_response_;
  std::string buffered_response_data_;
  bool response_end_buffered_ = false;
  size_t response_origin_ = 0;
  bool response_headers_end_ = false;
  size_t running_filter_ = 0;
  bool in_phase_ = false;
  bool headers_end_stream_ = false;

  bool request_complete_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool head_request_ = false;
  bool finished_ = false;
  std::chrono::milliseconds idle_timeout_;
  IdleTimer idle_timer_;
  std::unique_ptr<Timer> request_timer_;  // only with a request_timeout
};

class ConnectionManager : public network::DownstreamConnection,
                          public network::ConnectionCallbacks,
                          public CodecOutput,
                          public ServerCodecCallbacks {
 public:
  ConnectionManager(filters::FilterContext& context,
                    std::shared_ptr<const ConnectionManagerConfig> config,
                    std::unique_ptr<network::TcpConnection> connection);
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
  // CodecOutput
  void write(std::string_view bytes) override;
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
  void onStreamFinished(bool reset);
  void onRequestHeadersComplete();

 private:
  void dispatch(std::string_view data);
  void handleCodecError(const CodecError& error);
  void armIdleTimer();
  // Access log line and stats for a request the codec rejected before a stream.
  void logRejectedRequest(const CodecError& error);
  void resumePipeline();
  void updateReadEnabled();

  filters::FilterContext& context_;
  std::shared_ptr<const ConnectionManagerConfig> config_;
  stats::HttpConnManagerStats& stats_;
  const std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  bool peer_closed_ = false;
  std::unique_ptr<network::TcpConnection> connection_;
  std::unique_ptr<ServerCodec> codec_;
  std::unique_ptr<ActiveStream> stream_;
  std::string remote_address_;
  std::string remote_ip_;
  bool close_after_response_ = false;
  bool drain_requested_ = false;
  bool read_disabled_by_stream_ = false;
  bool paused_for_pipeline_ = false;
  bool closed_ = false;
  bool stream_headers_received_ = false;
  IdleTimer idle_timer_;
  Timer request_headers_timer_;
  Timer resume_timer_;
};

}  // namespace remora::http
