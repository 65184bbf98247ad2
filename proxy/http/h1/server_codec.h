// HTTP/1.1 server codec: parses requests from a downstream connection with llhttp
// (strict mode plus the checks llhttp leaves out) and encodes their responses.
//
// One request is handled at a time. Bytes that arrive after a complete request are kept
// until its response has been encoded; then resume() (or the next dispatch()) parses
// them. If the response was already complete when the request ended, parsing simply
// goes on within the same dispatch().
//
// Connection reuse: closeAfterResponse() turns true when the connection must be closed
// once the current response is written: a "connection: close" or HTTP/1.0 request
// without keep-alive, a "connection: close" response head, a close-delimited response
// (HTTP/1.0 without content-length), a response that ends before its request did, an
// Upgrade/CONNECT request answered without switching, or a finished tunnel. Input after
// that point is ignored and produces no stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "proxy/http/codec.h"
#include "proxy/http/h1/encoding.h"
#include "proxy/http/h1/parser.h"

namespace remora::http::h1 {

class ServerConnection final : public ServerCodec, public ResponseEncoder, private ParserCallbacks {
 public:
  ServerConnection(CodecOutput& output, ServerCodecCallbacks& callbacks,
                   const ServerCodecLimits& limits);

  // ServerCodec
  DispatchResult dispatch(std::string_view data) override;
  DispatchResult resume() override;
  bool streamActive() const override { return stream_active_; }
  bool upgraded() const override { return upgraded_; }
  bool hasBufferedInput() const override { return !pending_.empty(); }
  bool closeAfterResponse() const override { return close_after_response_; }
  void onEof() override;
  Protocol protocol() const override { return Protocol::Http11; }
  size_t activeStreams() const override { return stream_active_ ? 1 : 0; }

  // ResponseEncoder. A 1xx head other than 101 is interim: it is written and the
  // response goes on (nothing is sent to an HTTP/1.0 client).
  void encode100Continue() override;
  void encodeHeaders(const ResponseHead& head, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  // Ends the exchange without completing the response; the connection must close.
  void resetStream(StreamResetReason reason) override;

 private:
  // ParserCallbacks
  HeadersVerdict onHeadersComplete() override;
  void onBody(std::string_view data) override;
  void onMessageComplete(std::string_view final_body) override;

  DispatchResult parse(std::string_view data, size_t& consumed);
  DispatchResult parseUntilStop(std::string_view data, size_t& consumed);
  DispatchResult fail(const CodecError& error);
  void startStream();
  // Passes head_ to the stream and its spare header storage back to the parser.
  void handOverHead(bool end_stream);
  void writeInterimHead(const ResponseHead& head);
  void writeFinalHead(const ResponseHead& head, bool end_stream);
  // A head that carries no message framing (1xx, tunnel): its content-length and
  // transfer-encoding are left out.
  void writeUnframedHead(const ResponseHead& head);
  void onResponseComplete();

  CodecOutput& output_;
  ServerCodecCallbacks& callbacks_;
  const ServerCodecLimits limits_;
  Parser parser_;

  // The request in progress.
  RequestHead head_;
  // A request without body is handed over when llhttp completes it.
  bool head_pending_ = false;
  RequestDecoder* decoder_ = nullptr;
  Protocol request_protocol_ = Protocol::Http11;
  bool head_request_ = false;
  bool connect_request_ = false;
  bool upgrade_request_ = false;
  bool request_complete_ = false;

  // The response in progress.
  bool stream_active_ = false;
  bool upgraded_ = false;
  BodyEncoder body_;
  std::string scratch_;

  // Connection state.
  bool close_after_response_ = false;
  bool accepting_requests_ = true;
  bool tunneling_ = false;
  bool paused_ = false;
  bool parsing_ = false;
  bool failed_ = false;
  CodecError failure_;
  std::string pending_;
};

std::unique_ptr<ServerCodec> makeServerCodec(CodecOutput& output, ServerCodecCallbacks& callbacks,
                                             const ServerCodecLimits& limits);

}  // namespace remora::http::h1
