#include "proxy/http/h2/client_codec.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "proxy/http/h2/session.h"

namespace remora::http::h2 {

namespace {

constexpr uint32_t kMaxStreamId = 0x7fffffff;

class ClientConnection;

class ClientStream final : public Stream, public RequestEncoder {
 public:
  ClientStream(ClientConnection& connection, ResponseDecoder& decoder);

  // Stream
  void onHeaderSection(bool end_stream) override;
  void onDataFrame(std::string_view data, bool end_stream) override;

  // RequestEncoder
  void encodeHeaders(const RequestHead& head, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void resetStream(StreamResetReason reason) override;
  void setReadEnabled(bool enabled) override { applyReadEnabled(enabled); }

 private:
  void deliverReset(StreamResetReason reason) override;
  void deliverWriteWatermark(bool above) override;
  // The response is complete: detaches, cancels what is left of the request.
  void finishResponse();
  bool canEncodeBody() const { return attached_ && id_ > 0 && !local_end_; }

  ClientConnection& connection_;
  ResponseDecoder& decoder_;
};

class ClientConnection final : public ClientCodec, public Session {
 public:
  ClientConnection(CodecOutput& output, const Http2Settings& settings, const Http2Runtime& runtime)
      : Session(Role::Client, output, settings, runtime) {
    start();
  }

  RequestEncoder& newStream(ResponseDecoder& decoder) override {
    Stream& stream = addIdle(std::make_unique<ClientStream>(*this, decoder));
    return static_cast<ClientStream&>(stream);
  }
  DispatchResult dispatch(std::string_view data) override { return dispatchBytes(data, 502); }
  bool onEof() override { return onTransportClosed() == 0; }
  bool reusable() const override {
    return !failed() && !goAwaySent() && !goAwayReceived() &&
           nghttp2_session_get_next_stream_id(raw()) <= kMaxStreamId;
  }
  bool streamActive() const override { return openStreams() > 0; }
  bool canStartStream() const override {
    return reusable() && openStreams() < nghttp2_session_get_remote_settings(
                                             raw(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  }
  size_t activeStreams() const override { return openStreams(); }
  void goAway() override { submitGoAway(); }
  void onBelowLowWatermark() override { onTransportDrained(); }

  void onSubmitted(Stream& stream, int32_t stream_id) { promoteIdle(stream, stream_id); }
  void onNeverSubmitted(Stream& stream) { retireIdle(stream); }

 private:
  // Server push is disabled (SETTINGS_ENABLE_PUSH 0), so no stream starts remotely.
  std::unique_ptr<Stream> createPeerStream(int32_t) override { return nullptr; }
};

ClientStream::ClientStream(ClientConnection& connection, ResponseDecoder& decoder)
    : Stream(connection), connection_(connection), decoder_(decoder) {}

void ClientStream::encodeHeaders(const RequestHead& head, bool end_stream) {
  if (!attached_ || id_ != 0) return;
  const bool connect = head.method == "CONNECT";
  std::string_view authority = head.authority;
  if (authority.empty()) {
    if (const std::string* host = head.headers.get("host")) authority = *host;
  }
  NvList nv;
  nv.add(":method", head.method);
  if (!connect) {
    nv.add(":scheme", head.scheme);
    nv.add(":path", head.path.empty() ? std::string_view("/") : std::string_view(head.path));
  }
  if (!authority.empty()) nv.add(":authority", authority);
  nv.addRegular(head.headers, !authority.empty());

  if (end_stream) local_end_ = true;
  const nghttp2_data_provider provider = dataProvider();
  const int32_t stream_id =
      nghttp2_submit_request(session_.raw(), nullptr, nv.data(), nv.size(),
                             end_stream ? nullptr : &provider, static_cast<Stream*>(this));
  if (stream_id < 0) {
    // Stream ids are exhausted: nothing was sent, so another connection may take it.
    attached_ = false;
    connection_.onNeverSubmitted(*this);
    decoder_.onResetStream(StreamResetReason::RefusedStream);
    return;
  }
  id_ = stream_id;
  connection_.onSubmitted(*this, stream_id);
  session_.flush();
}

void ClientStream::encodeData(std::string_view data, bool end_stream) {
  if (!canEncodeBody()) return;
  queueData(data, end_stream);
  session_.flush();
}

void ClientStream::encodeTrailers(const HeaderMap& trailers) {
  if (!canEncodeBody()) return;
  queueTrailers(trailers);
  session_.flush();
}

void ClientStream::resetStream(StreamResetReason reason) {
  if (!attached_) return;
  if (id_ == 0) {
    attached_ = false;
    connection_.onNeverSubmitted(*this);
    return;
  }
  resetLocally(reason);
  session_.flush();
}

void ClientStream::onHeaderSection(bool end_stream) {
  if (!attached_) return;
  HeaderBlock& block = this->block();
  if (block.overLimit()) {
    session_.countProtocolError();
    resetLocally(StreamResetReason::ProtocolError);
    decoder_.onResetStream(StreamResetReason::ProtocolError);
    return;
  }
  const std::string* status = block.pseudo(":status");
  if (status == nullptr) {
    // nghttp2 only passes trailers that end the stream.
    HeaderMap trailers = block.takeFields();
    finishResponse();
    decoder_.decodeTrailers(std::move(trailers));
    return;
  }
  ResponseHead head;
  // nghttp2 has checked that :status is three digits.
  std::from_chars(status->data(), status->data() + status->size(), head.status);
  head.headers = block.takeFields();
  if (head.status < 200) {
    decoder_.decodeInformationalHeaders(std::move(head));
    return;
  }
  // The codec can take a new stream before the decoder hears of the end, so the
  // decoder may hand the connection on right away.
  if (end_stream) finishResponse();
  decoder_.decodeHeaders(std::move(head), end_stream);
}

void ClientStream::onDataFrame(std::string_view data, bool end_stream) {
  // An empty DATA frame that does not end the stream carries nothing to pass on.
  if (!attached_ || (data.empty() && !end_stream)) return;
  if (end_stream) finishResponse();
  decoder_.decodeData(data, end_stream);
}

void ClientStream::finishResponse() {
  attached_ = false;
  if (nghttp2_session_get_stream_local_close(session_.raw(), id_) == 0) {
    nghttp2_submit_rst_stream(session_.raw(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
  }
}

void ClientStream::deliverReset(StreamResetReason reason) { decoder_.onResetStream(reason); }

void ClientStream::deliverWriteWatermark(bool above) {
  if (above) {
    decoder_.onAboveWriteBufferHighWatermark();
  } else {
    decoder_.onBelowWriteBufferLowWatermark();
  }
}

}  // namespace

std::unique_ptr<ClientCodec> makeClientCodec(CodecOutput& output, const Http2Settings& settings,
                                             const Http2Runtime& runtime) {
  return std::make_unique<ClientConnection>(output, settings, runtime);
}

}  // namespace remora::http::h2
