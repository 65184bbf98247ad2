// Codec interfaces: a server codec turns downstream bytes into stream events and
// encodes responses; a client codec encodes requests and turns upstream bytes into
// response events. Implementations: h1/ (llhttp) today, h2/ (nghttp2) later.
//
// Ownership: the connection owns the codec; the codec owns its per-stream encoders.
// Decoder callbacks run synchronously inside dispatch(); a callback may call back
// into the codec (encode a reply) but must not destroy it: connections defer
// destruction to a later loop turn.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http/message.h"

namespace remora::http {

// Where the bytes a codec produces go (the transport connection's write queue).
class CodecOutput {
 public:
  virtual ~CodecOutput() = default;
  virtual void write(std::string_view bytes) = 0;
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

// ---- Downstream (server) side ----

// Sends one response on the stream it belongs to.
class ResponseEncoder {
 public:
  virtual ~ResponseEncoder() = default;
  virtual void encode100Continue() = 0;
  virtual void encodeHeaders(const ResponseHead& head, bool end_stream) = 0;
  virtual void encodeData(std::string_view data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
};

// Receives one request; implemented by the connection manager's active stream.
class RequestDecoder {
 public:
  virtual ~RequestDecoder() = default;
  virtual void decodeHeaders(RequestHead&& head, bool end_stream) = 0;
  virtual void decodeData(std::string_view data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap&& trailers) = 0;
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
  // after its response has been fully encoded.
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
  virtual bool closeAfterResponse() const = 0;
  // The peer half-closed (EOF). A request delimited by EOF does not exist in
  // HTTP/1, so this only matters for tunnels and for aborting partial requests.
  virtual void onEof() = 0;
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
};

class RequestEncoder {
 public:
  virtual ~RequestEncoder() = default;
  virtual void encodeHeaders(const RequestHead& head, bool end_stream) = 0;
  virtual void encodeData(std::string_view data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
};

class ClientCodec {
 public:
  virtual ~ClientCodec() = default;
  // Starts a request whose response events go to `decoder`. HTTP/1 allows one
  // outstanding request per connection.
  virtual RequestEncoder& newStream(ResponseDecoder& decoder) = 0;
  // Parses upstream bytes. A failure means the response is malformed (502 UPE).
  virtual DispatchResult dispatch(std::string_view data) = 0;
  // The upstream closed. Completes an EOF-delimited body (decodeData with
  // end_stream) and returns true; returns false if a response was cut short.
  virtual bool onEof() = 0;
  // True when the connection can carry another request (response complete,
  // keep-alive on both sides, no upgrade).
  virtual bool reusable() const = 0;
  // True between newStream() and the end of that stream's response.
  virtual bool streamActive() const = 0;
};

}  // namespace remora::http
