#include "proxy/http/h2/server_codec.h"

#include <charconv>
#include <string>

#include "proxy/http/h2/session.h"

namespace remora::http::h2 {

namespace {

class ServerStream final : public Stream, public ResponseEncoder {
 public:
  ServerStream(Session& session, ServerCodecCallbacks& callbacks, int32_t stream_id)
      : Stream(session), callbacks_(callbacks) {
    id_ = stream_id;
  }

  // Stream
  void onHeaderSection(bool end_stream) override;
  void onDataFrame(std::string_view data, bool end_stream) override;

  // ResponseEncoder
  void encode100Continue() override;
  void encodeHeaders(const ResponseHead& head, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void resetStream(StreamResetReason reason) override;
  void setReadEnabled(bool enabled) override { applyReadEnabled(enabled); }

 private:
  void deliverReset(StreamResetReason reason) override;
  void deliverWriteWatermark(bool above) override;
  void startRequest(bool end_stream);
  void rejectOversizedHead();
  bool canEncodeBody() const { return attached_ && response_started_ && !local_end_; }

  ServerCodecCallbacks& callbacks_;
  RequestDecoder* decoder_ = nullptr;
  bool head_received_ = false;
  bool response_started_ = false;
};

class ServerConnection final : public ServerCodec, public Session {
 public:
  ServerConnection(CodecOutput& output, ServerCodecCallbacks& callbacks,
                   const Http2Settings& settings, const Http2Runtime& runtime)
      : Session(Role::Server, output, settings, runtime), callbacks_(callbacks) {
    start();
  }

  DispatchResult dispatch(std::string_view data) override { return dispatchBytes(data, 400); }
  // Nothing is ever held back.
  DispatchResult resume() override { return DispatchResult::success(); }
  bool streamActive() const override { return openStreams() > 0; }
  bool upgraded() const override { return false; }
  bool closeAfterResponse() const override { return failed() || goAwaySent() || goAwayReceived(); }
  void onEof() override { onTransportClosed(); }
  Protocol protocol() const override { return Protocol::Http2; }
  void goAway() override { submitGoAway(); }
  size_t activeStreams() const override { return openStreams(); }
  void onBelowLowWatermark() override { onTransportDrained(); }

 private:
  std::unique_ptr<Stream> createPeerStream(int32_t stream_id) override {
    return std::make_unique<ServerStream>(*this, callbacks_, stream_id);
  }

  ServerCodecCallbacks& callbacks_;
};

void ServerStream::onHeaderSection(bool end_stream) {
  if (!head_received_) {
    head_received_ = true;
    if (session_.goAwaySent()) {
      // nghttp2 opens streams until its GOAWAY is on the wire (the rest of this read):
      // they are above its last stream id, so the client retries them elsewhere.
      refuse();
      return;
    }
    if (block().overLimit()) {
      rejectOversizedHead();
      return;
    }
    startRequest(end_stream);
    return;
  }
  if (!attached_) return;
  if (block().overLimit()) {
    session_.countProtocolError();
    resetLocally(StreamResetReason::ProtocolError);
    decoder_->onResetStream(StreamResetReason::ProtocolError);
    return;
  }
  // nghttp2 only passes trailers that end the stream.
  decoder_->decodeTrailers(block().takeFields());
}

void ServerStream::startRequest(bool end_stream) {
  HeaderBlock& block = this->block();
  RequestHead head;
  head.protocol = Protocol::Http2;
  // nghttp2 has checked the pseudo-headers a request needs (RFC 9113 8.3.1).
  if (std::string* method = block.pseudo(":method")) head.method = std::move(*method);
  if (std::string* path = block.pseudo(":path")) head.path = std::move(*path);
  if (std::string* scheme = block.pseudo(":scheme")) head.scheme = std::move(*scheme);
  std::string* authority = block.pseudo(":authority");
  const bool has_authority = authority != nullptr;
  if (has_authority) head.authority = std::move(*authority);
  head.headers = block.takeFields();
  if (!has_authority) {
    if (const std::string* host = head.headers.get("host")) head.authority = *host;
  }
  decoder_ = &callbacks_.newStream(*this);
  decoder_->decodeHeaders(std::move(head), end_stream);
}

void ServerStream::rejectOversizedHead() {
  // No stream reaches the connection manager; the client still learns why (RFC 9113
  // 10.5.1 suggests 431). If the request goes on, RST_STREAM(NO_ERROR) follows.
  attached_ = false;
  session_.countProtocolError();
  NvList nv;
  nv.add(":status", "431");
  nv.add("content-length", "0");
  nghttp2_submit_response(session_.raw(), id_, nv.data(), nv.size(), nullptr);
}

void ServerStream::onDataFrame(std::string_view data, bool end_stream) {
  // An empty DATA frame that does not end the stream carries nothing to pass on.
  if (!attached_ || decoder_ == nullptr || (data.empty() && !end_stream)) return;
  decoder_->decodeData(data, end_stream);
}

void ServerStream::deliverReset(StreamResetReason reason) {
  if (decoder_ != nullptr) decoder_->onResetStream(reason);
}

void ServerStream::deliverWriteWatermark(bool above) {
  if (decoder_ == nullptr) return;
  if (above) {
    decoder_->onAboveWriteBufferHighWatermark();
  } else {
    decoder_->onBelowWriteBufferLowWatermark();
  }
}

void ServerStream::encode100Continue() {
  ResponseHead head;
  head.status = 100;
  encodeHeaders(head, false);
}

void ServerStream::encodeHeaders(const ResponseHead& head, bool end_stream) {
  if (!attached_ || response_started_) return;
  char status[4];
  const auto [status_end, ec] = std::to_chars(status, status + sizeof(status), head.status);
  NvList nv;
  nv.add(":status", std::string_view(status, ec == std::errc() ? status_end - status : 0));
  nv.addRegular(head.headers, false);
  if (head.status >= 100 && head.status < 200) {
    nghttp2_submit_headers(session_.raw(), NGHTTP2_FLAG_NONE, id_, nullptr, nv.data(), nv.size(),
                           nullptr);
    session_.flush();
    return;
  }
  response_started_ = true;
  if (end_stream) {
    local_end_ = true;
    attached_ = false;
    nghttp2_submit_response(session_.raw(), id_, nv.data(), nv.size(), nullptr);
  } else {
    const nghttp2_data_provider provider = dataProvider();
    nghttp2_submit_response(session_.raw(), id_, nv.data(), nv.size(), &provider);
  }
  session_.flush();
}

void ServerStream::encodeData(std::string_view data, bool end_stream) {
  if (!canEncodeBody()) return;
  if (end_stream) attached_ = false;
  queueData(data, end_stream);
  session_.flush();
  if (end_stream) armFlushTimerIfQueued();
}

void ServerStream::encodeTrailers(const HeaderMap& trailers) {
  if (!canEncodeBody()) return;
  attached_ = false;
  queueTrailers(trailers);
  session_.flush();
  armFlushTimerIfQueued();
}

void ServerStream::resetStream(StreamResetReason reason) {
  if (!attached_) return;
  resetLocally(reason);
  session_.flush();
}

}  // namespace

std::unique_ptr<ServerCodec> makeServerCodec(CodecOutput& output, ServerCodecCallbacks& callbacks,
                                             const Http2Settings& settings,
                                             const Http2Runtime& runtime) {
  return std::make_unique<ServerConnection>(output, callbacks, settings, runtime);
}

}  // namespace remora::http::h2
