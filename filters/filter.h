// The HTTP filter interface: request phases run in chain order, response phases in
// reverse. Every phase has a no-op default so a filter overrides only what it needs.
// A phase returning Stop pauses its direction until the filter calls
// continueRequest()/continueResponse(); data arriving meanwhile is buffered by the
// stream (bounded by the connection buffer limit).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "proxy/http/message.h"
#include "proxy/stream/stream_info.h"

namespace remora::router {
class RouteEntry;
}

namespace remora::filters {

enum class FilterStatus { Continue, Stop };

// What a filter can ask of the stream it runs on.
class FilterCallbacks {
 public:
  virtual ~FilterCallbacks() = default;
  virtual void continueRequest() = 0;
  virtual void continueResponse() = 0;
  // Answers the request locally: the response runs through the response phases of
  // the filters before this one and the stream ends. `details` becomes
  // %RESPONSE_CODE_DETAILS%; the flag, if any, goes into %RESPONSE_FLAGS%.
  virtual void sendLocalReply(int status, std::string_view body, std::string_view details,
                              stream::ResponseFlag flag = stream::ResponseFlag::None) = 0;
  virtual http::RequestHead& requestHead() = 0;
  // The route for the request as it is now (matched on first use), or nullptr.
  virtual const router::RouteEntry* route() = 0;
  // Replaces the connection manager's stream_idle_timeout for this stream (a
  // route's idle_timeout); zero disables it.
  virtual void overrideStreamIdleTimeout(std::chrono::milliseconds timeout) = 0;
  virtual stream::StreamInfo& streamInfo() = 0;
  // Response path entry points for the terminal (router) filter.
  virtual void encodeHeaders(http::ResponseHead&& head, bool end_stream) = 0;
  virtual void encodeData(std::string_view data, bool end_stream) = 0;
  virtual void encodeTrailers(http::HeaderMap&& trailers) = 0;
  // The stream is unusable (upstream reset after the response started): the
  // downstream stream is reset (HTTP/1: the connection is closed).
  virtual void resetStream() = 0;
  // Flow control: stop/start reading the downstream while the upstream is slow.
  virtual void setDownstreamReadEnabled(bool enabled) = 0;
  // True when the downstream write queue is above its high watermark.
  virtual bool downstreamAboveHighWatermark() const = 0;
};

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  void setCallbacks(FilterCallbacks& callbacks) { callbacks_ = &callbacks; }

  virtual FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onRequestData(std::string_view data, bool end_stream) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onRequestTrailers(http::HeaderMap& trailers) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onResponseHeaders(http::ResponseHead& head, bool end_stream) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onResponseData(std::string_view data, bool end_stream) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onResponseTrailers(http::HeaderMap& trailers) {
    return FilterStatus::Continue;
  }
  // Downstream write queue crossed its marks (the router pauses the upstream).
  virtual void onDownstreamAboveHighWatermark() {}
  virtual void onDownstreamBelowLowWatermark() {}
  // The stream is going away (complete, reset or connection closed). Release
  // upstream resources here; no callback may be used after it.
  virtual void onDestroy() {}
  // Runs once per stream when it ends, whatever path it took.
  virtual void onLog(const stream::StreamInfo& info) {}
  // After onDestroy: makes the filter ready for a new stream on the same worker and
  // chain, as if just created (the callbacks stay set). A filter that returns false
  // is destroyed and a new one made by its factory.
  virtual bool recycle() { return false; }

 protected:
  FilterCallbacks& callbacks() { return *callbacks_; }

 private:
  FilterCallbacks* callbacks_ = nullptr;
};

}  // namespace remora::filters
