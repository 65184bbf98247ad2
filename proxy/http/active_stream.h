// One request/response exchange on a downstream connection: the request phases of
// its filter chain in order, the response phases in reverse, its timers, stats and
// access log. Protocol-neutral: HTTP/1.1 and HTTP/2 streams are the same class.
//
// A finished HTTP/1 stream is kept by its worker (WorkerResources::recycled) and
// reused for a later request of a connection with the same config: its filters, timers
// and header storage then cost no allocation per request.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "filters/filter.h"
#include "proxy/common/deferred_deleter.h"
#include "proxy/common/idle_timer.h"
#include "proxy/http/codec.h"

namespace remora::http {

class ConnectionManager;

// One request/response exchange and its filter chain.
class ActiveStream : public RequestDecoder, public filters::FilterCallbacks, public Deletable {
 public:
  // Its place in the connection's stream list.
  size_t index = 0;

  ActiveStream(ConnectionManager& connection, ResponseEncoder& encoder);
  ~ActiveStream() override;
  // Starts over as a new stream of `connection` (whose config must be the one this
  // stream was built for): the state of the last exchange is dropped, the capacity
  // of its buffers kept, and filters that cannot recycle themselves are recreated.
  void reuse(ConnectionManager& connection, ResponseEncoder& encoder);

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
  // The peer reset this stream (HTTP/2 RST_STREAM).
  void onResetStream(StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override { onDownstreamAboveHighWatermark(); }
  void onBelowWriteBufferLowWatermark() override { onDownstreamBelowLowWatermark(); }
  bool requestComplete() const { return request_complete_; }
  bool responseStarted() const { return response_started_; }

 private:
  void start();
  void prepareRequest();
  void runRequestHeaders(size_t from);
  void runRequestData(std::string_view data, bool end_stream, size_t from);
  void runRequestTrailers(size_t from);
  size_t requestLimit() const;
  // Sends response_ through the response phases.
  void startResponse(bool end_stream, size_t origin);
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
  // `reset`: the stream did not complete; `by_peer`: the peer reset it, so
  // nothing is sent back.
  void finish(bool reset, bool by_peer = false);
  // Index of the filter that called a callback: the one whose phase is running,
  // else the terminal filter.
  size_t responseOrigin() const;

  ConnectionManager* connection_;
  ResponseEncoder* encoder_;
  RequestHead request_;
  stream::StreamInfo info_;
  std::vector<std::unique_ptr<filters::StreamFilter>> filters_;
  std::optional<const router::RouteEntry*> route_;
  // Kept for the access log (only when the connection manager has one).
  std::optional<HeaderMap> logged_trailers_;

  // Request iteration: where a filter stopped, and what arrived meanwhile.
  std::optional<size_t> request_stopped_at_;
  std::string buffered_request_data_;
  std::optional<HeaderMap> buffered_request_trailers_;
  bool request_end_buffered_ = false;
  // Response iteration.
  std::optional<size_t> response_stopped_at_;
  ResponseHead response_;
  bool response_headers_sent_ = false;
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
  bool finished_ = false;
  int downstream_above_watermarks_ = 0;
  std::chrono::milliseconds idle_timeout_;
  IdleTimer idle_timer_;
  std::optional<DeadlineTimer> request_timer_;  // made on first use (a request_timeout)
  // A local reply's body: the caller's view may not outlive the filters.
  std::string local_reply_body_;
};

}  // namespace remora::http
