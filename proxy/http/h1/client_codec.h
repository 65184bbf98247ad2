// HTTP/1.1 client codec: encodes requests to an upstream connection and parses their
// responses with llhttp (strict mode plus the checks llhttp leaves out).
//
// One request is outstanding at a time. Any malformed response, or bytes arriving while
// no request is outstanding, fails dispatch() with status 502 and an http1.* detail.
// After a 101, or a 2xx to CONNECT, the connection is a tunnel: received bytes go to
// decodeData verbatim, encodeData writes verbatim, and onEof() ends the stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "proxy/http/codec.h"
#include "proxy/http/h1/encoding.h"
#include "proxy/http/h1/parser.h"

namespace remora::http::h1 {

class ClientConnection final : public ClientCodec, public RequestEncoder, private ParserCallbacks {
 public:
  // Upstream response heads get Envoy's default limits (60 KiB, 100 fields).
  static constexpr ParserLimits kResponseLimits{60 * 1024, 100};

  explicit ClientConnection(CodecOutput& output);

  // ClientCodec
  RequestEncoder& newStream(ResponseDecoder& decoder) override;
  DispatchResult dispatch(std::string_view data) override;
  bool onEof() override;
  bool reusable() const override;
  bool streamActive() const override { return stream_active_; }
  bool canStartStream() const override { return !stream_active_; }
  size_t activeStreams() const override { return stream_active_ ? 1 : 0; }

  // RequestEncoder. The head's authority is written as "host" (a host field in its
  // headers is then left out); the codec frames the body: content-length as given,
  // else none when the head ends the stream ("content-length: 0" for POST, PUT and
  // PATCH), else chunked. CONNECT and Upgrade requests are not framed.
  void encodeHeaders(const RequestHead& head, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  // Ends the exchange; the connection is no longer reusable and must be closed.
  void resetStream(StreamResetReason reason) override;

 private:
  // ParserCallbacks
  HeadersVerdict onHeadersComplete() override;
  void onBody(std::string_view data) override;
  void onMessageComplete(std::string_view final_body) override;

  DispatchResult fail(std::string_view details);
  // Ends the stream; returns the decoder that gets the final event.
  ResponseDecoder* endStream();

  CodecOutput& output_;
  Parser parser_;
  ResponseDecoder* decoder_ = nullptr;
  bool stream_active_ = false;

  // The request.
  bool head_request_ = false;
  bool connect_request_ = false;
  bool request_asks_close_ = false;
  bool request_complete_ = true;
  BodyEncoder body_;
  std::string scratch_;

  // The response.
  ResponseHead head_;
  // A response without body is handed over when llhttp completes it.
  bool head_pending_ = false;
  bool informational_ = false;
  bool headers_received_ = false;
  bool close_delimited_ = false;
  bool keep_alive_ = true;

  bool tunneling_ = false;
  bool closed_ = false;
  bool reset_ = false;
  bool failed_ = false;
  CodecError failure_;
};

std::unique_ptr<ClientCodec> makeClientCodec(CodecOutput& output);

}  // namespace remora::http::h1
