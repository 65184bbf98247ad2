// Codec interfaces: a server codec turns downstream bytes into stream events and
// encodes responses; a client codec encodes requests and turns upstream bytes into
// response events. Implementations: h1/ (llhttp) and h2/ (nghttp2).
//
// Ownership: the connection owns the codec; the codec owns its per-stream encoders.
// Decoder callbacks run synchronously inside dispatch(); a callback may call back
// into the codec (encode a reply) but must not destroy it: connections defer
// destruction to a later loop turn.
//
// HTTP/2 carries many streams per connection: an encoder must not be used after its
// stream ended (response complete on the server, response complete on the client) or
// after its decoder got onResetStream().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proxy/http/message.h"

namespace remora::http {

// Where the bytes a codec produces go (the transport connection's write queue).
class CodecOutput {
 public:
  virtual ~CodecOutput() = default;
  virtual void write(std::string_view bytes) = 0;
  // Bytes written and not yet taken by the socket.
  virtual size_t bufferedBytes() const { return 0; }
};

// Why dispatch() refused the input. The status is the local reply for a server
// codec (400, 413, 431, 501, 505); details become %RESPONSE_CODE_DETAILS%.
struct CodecError {
  int status = 400;
  std::string details;
};

// Result of dispatch(): ok, or the connection is unusable and must be closed.
struct DispatchResult {
  bool ok = true;
  CodecError error;
  static DispatchResult success() { return {}; }
  static DispatchResult failure(int status, std::string details) {
    return {false, {status, std::move(details)}};
  }
};

// Why a stream ended before both directions completed.
enum class StreamResetReason {
  // This side reset it (resetStream()).
  LocalReset,
  // The peer reset it (RST_STREAM).
  RemoteReset,
  // The stream broke the protocol (malformed message, oversized head); the codec reset it.
  ProtocolError,
  // The peer refused it before processing (REFUSED_STREAM, or above a GOAWAY's last
  // stream id): nothing was processed, so a retry is safe.
  RefusedStream,
  // The connection closed or failed with the stream open.
  ConnectionTermination,
  // A buffer limit was exceeded.
  Overflow,
};

// Envoy's wording, for %UPSTREAM_TRANSPORT_FAILURE_REASON% and logs.
inline std::string_view resetReasonString(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::LocalReset:
      return "local reset";
    case StreamResetReason::RemoteReset:
      return "remote reset";
    case StreamResetReason::ProtocolError:
      return "protocol error";
    case StreamResetReason::RefusedStream:
      return "remote refused stream reset";
    case StreamResetReason::ConnectionTermination:
      return "connection termination";
    case StreamResetReason::Overflow:
      return "overflow";
  }
  return "unknown";
}

// ---- Downstream (server) side ----

// Sends one response on the stream it belongs to.
class ResponseEncoder {
 public:
  virtual ~ResponseEncoder() = default;
  virtual void encode100Continue() = 0;
  virtual void encodeHeaders(const ResponseHead& head, bool end_stream) = 0;
  virtual void encodeData(std::string_view data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
  // Abandons the stream; its decoder hears nothing more. HTTP/2 sends RST_STREAM
  // (LocalReset: CANCEL, ProtocolError: PROTOCOL_ERROR, RefusedStream: REFUSED_STREAM,
  // otherwise INTERNAL_ERROR); HTTP/1 cannot reset one exchange, so the connection
  // closes after it (closeAfterResponse() turns true).
  virtual void resetStream(StreamResetReason reason) {}
  // Per-stream backpressure toward the client (Envoy's readDisable). HTTP/2: while
  // disabled, received DATA still reaches the decoder but the stream's window is not
  // reopened, so the client stops within one window and the other streams go on.
  // HTTP/1 carries one stream per connection: the owner stops reading the connection
  // instead, so this does nothing there.
  virtual void setReadEnabled(bool enabled) {}
};

// Receives one request; implemented by the connection manager's active stream.
class RequestDecoder {
 public:
  virtual ~RequestDecoder() = default;
  virtual void decodeHeaders(RequestHead&& head, bool end_stream) = 0;
  virtual void decodeData(std::string_view data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap&& trailers) = 0;
  // The peer reset the stream or the connection died with it open. No further event
  // follows and the stream's encoder must not be used any more.
  virtual void onResetStream(StreamResetReason reason) {}
  // HTTP/2: the response body queued on this stream (the client's window is closed)
  // went above the stream buffer limit / back below half of it: stop / resume
  // producing it. The connection's own write buffer is reported separately.
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

class ServerCodecCallbacks {
 public:
  virtual ~ServerCodecCallbacks() = default;
  // A request has started; returns where its events go. The encoder stays valid
  // until the response is complete or the codec is destroyed.
  virtual RequestDecoder& newStream(ResponseEncoder& encoder) = 0;
};

struct ServerCodecLimits {
  uint32_t max_request_headers_kb = 60;
  uint32_t max_headers_count = 100;
  bool accept_http_10 = false;
  std::string default_host_for_http_10;
};

class ServerCodec {
 public:
  virtual ~ServerCodec() = default;
  // Parses downstream bytes. HTTP/1 parses one request at a time: once a request
  // is complete, further bytes are kept (pipelining) until resume() is called
  // after its response has been fully encoded. HTTP/2 never holds bytes back; a
  // failure there is a connection error (GOAWAY already written, every open stream
  // got onResetStream(ConnectionTermination)): close the connection, no local reply.
  virtual DispatchResult dispatch(std::string_view data) = 0;
  // Parses bytes kept back while the previous response was in progress.
  virtual DispatchResult resume() = 0;
  // True while a request is parsed but its response is not yet complete.
  virtual bool streamActive() const = 0;
  // After a successful upgrade (101), every byte is tunnel payload for the
  // stream: the codec then passes received bytes to decodeData verbatim and writes
  // encodeData bytes verbatim.
  virtual bool upgraded() const = 0;
  // The connection must close once the current response is written (the request
  // or response asked for it, or the response body is delimited by the close).
  // HTTP/2: a GOAWAY was sent or received; close once activeStreams() is 0.
  virtual bool closeAfterResponse() const = 0;
  // The peer half-closed (EOF). A request delimited by EOF does not exist in
  // HTTP/1, so this only matters for tunnels and for aborting partial requests.
  // HTTP/2 resets every open stream (ConnectionTermination).
  virtual void onEof() = 0;
  virtual Protocol protocol() const = 0;
  // Graceful drain: HTTP/2 sends GOAWAY(NO_ERROR) naming the last stream it accepted;
  // streams already open finish, later ones are refused. HTTP/1 does nothing (drain
  // closes it after the current response).
  virtual void goAway() {}
  // Streams whose request arrived and whose response is not complete (HTTP/1: 0 or 1).
  // HTTP/1: bytes of a pipelined request wait for resume(). (HTTP/2 has none.)
  virtual bool hasBufferedInput() const { return false; }
  virtual size_t activeStreams() const = 0;
  // The transport's write buffer drained below its low watermark: HTTP/2 writes the
  // frames it held back while the buffer was full.
  virtual void onBelowLowWatermark() {}
};

// ---- Upstream (client) side ----

class ResponseDecoder {
 public:
  virtual ~ResponseDecoder() = default;
  // 100 Continue and other informational responses except 101 (which is final).
  virtual void decodeInformationalHeaders(ResponseHead&& head) = 0;
  virtual void decodeHeaders(ResponseHead&& head, bool end_stream) = 0;
  virtual void decodeData(std::string_view data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap&& trailers) = 0;
  // The upstream reset the stream, refused it (RefusedStream: safe to retry) or the
  // connection died with it open. No further event follows and the stream's encoder
  // must not be used any more.
  virtual void onResetStream(StreamResetReason reason) {}
  // HTTP/2: the request body queued on this stream (the server's window is closed)
  // went above the stream buffer limit / back below half of it.
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

class RequestEncoder {
 public:
  virtual ~RequestEncoder() = default;
  virtual void encodeHeaders(const RequestHead& head, bool end_stream) = 0;
  virtual void encodeData(std::string_view data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
  // Abandons the stream; its decoder hears nothing more. HTTP/2 sends RST_STREAM (see
  // ResponseEncoder::resetStream); HTTP/1 makes the connection not reusable, and the
  // owner closes it.
  virtual void resetStream(StreamResetReason reason) {}
  // Per-stream backpressure toward the server; see ResponseEncoder::setReadEnabled.
  // HTTP/1: nothing; the owner stops reading the connection.
  virtual void setReadEnabled(bool enabled) {}
};

class ClientCodec {
 public:
  virtual ~ClientCodec() = default;
  // Starts a request whose response events go to `decoder`. HTTP/1 allows one
  // outstanding request per connection.
  virtual RequestEncoder& newStream(ResponseDecoder& decoder) = 0;
  // Parses upstream bytes. A failure means the response is malformed (502 UPE).
  // HTTP/2: a failure is a connection error; every open stream has got
  // onResetStream(ConnectionTermination) before dispatch() returns.
  virtual DispatchResult dispatch(std::string_view data) = 0;
  // The upstream closed. Completes an EOF-delimited body (decodeData with
  // end_stream) and returns true; returns false if a response was cut short.
  // HTTP/2: every open stream gets onResetStream(ConnectionTermination).
  virtual bool onEof() = 0;
  // True when the connection can carry another request (response complete,
  // keep-alive on both sides, no upgrade). HTTP/2: the connection is usable for new
  // streams (no GOAWAY either way, not failed or closed); canStartStream() also
  // checks the concurrency limit.
  virtual bool reusable() const = 0;
  // True between newStream() and the end of that stream's response (HTTP/2: while
  // any stream is active).
  virtual bool streamActive() const = 0;
  // True when newStream() may be called now: HTTP/1 when no stream is active; HTTP/2
  // below the peer's SETTINGS_MAX_CONCURRENT_STREAMS and not going away.
  virtual bool canStartStream() const = 0;
  virtual size_t activeStreams() const = 0;
  // Stops starting streams on this connection; HTTP/2 also tells the peer (GOAWAY).
  virtual void goAway() {}
  // See ServerCodec::onBelowLowWatermark.
  virtual void onBelowLowWatermark() {}
};

}  // namespace remora::http
