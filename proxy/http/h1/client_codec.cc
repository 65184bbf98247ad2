#include "proxy/http/h1/client_codec.h"

#include "proxy/common/spare_buffers.h"
#include "proxy/http/h1/details.h"
#include "proxy/http/h1/field_lines.h"

namespace remora::http::h1 {

namespace {

bool sendsEmptyBodyLength(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

ClientConnection::ClientConnection(CodecOutput& output)
    : output_(output), parser_(HTTP_RESPONSE, *this, kResponseLimits) {}

RequestEncoder& ClientConnection::newStream(ResponseDecoder& decoder) {
  decoder_ = &decoder;
  stream_active_ = true;
  head_request_ = false;
  connect_request_ = false;
  request_asks_close_ = false;
  request_complete_ = false;
  body_.reset(BodyEncoder::Framing::None);
  head_pending_ = false;
  informational_ = false;
  headers_received_ = false;
  close_delimited_ = false;
  return *this;
}

void ClientConnection::encodeHeaders(const RequestHead& head, bool end_stream) {
  // As string_views the lengths are compared first, without a call to memcmp.
  const std::string_view method = head.method;
  head_request_ = method == "HEAD";
  connect_request_ = method == "CONNECT";
  const bool host_from_authority = !head.authority.empty();
  // One pass over the fields finds what the framing depends on and the room they need.
  request_asks_close_ = false;
  bool has_upgrade = false;
  bool has_content_length = false;
  size_t fields_size = host_from_authority ? fieldLineSize("host", head.authority) : 0;
  for (const HeaderEntry& field : head.headers) {
    fields_size += fieldLineSize(field.name, field.value);
    switch (fieldKind(field.name)) {
      case FieldKind::Connection:
        // The tokens of all connection fields together are those of their joined value.
        if (hasToken(field.value, "close")) request_asks_close_ = true;
        break;
      case FieldKind::Upgrade:
        has_upgrade = true;
        break;
      case FieldKind::ContentLength:
        has_content_length = true;
        break;
      default:
        break;
    }
  }
  const bool tunnel_request = connect_request_ || has_upgrade;

  scratch_.clear();
  spare_buffers::take(scratch_);
  scratch_ += method;
  scratch_ += ' ';
  if (connect_request_) {
    scratch_ += head.authority;
  } else {
    scratch_ += head.path.empty() ? std::string_view("/") : std::string_view(head.path);
  }
  scratch_ += " HTTP/1.1\r\n";

  std::string_view framing_field;
  if (tunnel_request || has_content_length) {
    body_.reset(BodyEncoder::Framing::Raw);
  } else if (end_stream) {
    body_.reset(BodyEncoder::Framing::None);
    if (sendsEmptyBodyLength(method)) framing_field = "content-length: 0\r\n";
  } else {
    body_.reset(BodyEncoder::Framing::Chunked);
    framing_field = "transfer-encoding: chunked\r\n";
  }
  appendFieldLines(scratch_, fields_size, [&](auto& lines) {
    if (host_from_authority) lines.add("host", head.authority);
    for (const HeaderEntry& field : head.headers) {
      switch (fieldKind(field.name)) {
        case FieldKind::TransferEncoding:
          continue;
        case FieldKind::Host:
          if (host_from_authority) continue;
          break;
        default:
          break;
      }
      lines.add(field.name, field.value);
    }
  });
  scratch_ += framing_field;
  scratch_ += "\r\n";
  output_.write(scratch_);
  spare_buffers::give(scratch_);
  if (end_stream) request_complete_ = true;
}

void ClientConnection::encodeData(std::string_view data, bool end_stream) {
  body_.encodeData(output_, scratch_, data, end_stream);
  if (end_stream) request_complete_ = true;
}

void ClientConnection::encodeTrailers(const HeaderMap& trailers) {
  body_.encodeTrailers(output_, scratch_, trailers);
  request_complete_ = true;
}

void ClientConnection::resetStream(StreamResetReason) {
  if (!stream_active_) return;
  reset_ = true;
  endStream();
}

DispatchResult ClientConnection::dispatch(std::string_view data) {
  if (failed_) return DispatchResult::failure(failure_.status, failure_.details);
  if (tunneling_) {
    if (decoder_ != nullptr && !data.empty()) decoder_->decodeData(data, false);
    return DispatchResult::success();
  }
  size_t consumed = 0;
  while (consumed < data.size()) {
    if (!stream_active_) return fail(details::kUnexpectedResponseData);
    const Parser::Outcome outcome = parser_.execute(data.substr(consumed));
    consumed += outcome.consumed;
    switch (outcome.stop) {
      case Parser::Stop::NeedMore:
        return DispatchResult::success();
      case Parser::Stop::Error:
        return fail(parser_.error().details);
      case Parser::Stop::MessageComplete:
        parser_.startNextMessage();
        break;
      case Parser::Stop::Tunnel: {
        tunneling_ = true;
        const std::string_view payload = data.substr(consumed);
        if (decoder_ != nullptr && !payload.empty()) decoder_->decodeData(payload, false);
        return DispatchResult::success();
      }
    }
  }
  return DispatchResult::success();
}

bool ClientConnection::onEof() {
  closed_ = true;
  if (failed_) return false;
  if (!stream_active_) return true;
  if (tunneling_) {
    endStream()->decodeData({}, true);
    return true;
  }
  if (headers_received_ && close_delimited_) {
    // llhttp completes the EOF-delimited body through onMessageComplete.
    parser_.finish();
    return !stream_active_;
  }
  endStream();
  return false;
}

bool ClientConnection::reusable() const {
  return !failed_ && !closed_ && !reset_ && !tunneling_ && !stream_active_ && request_complete_ &&
         keep_alive_ && !request_asks_close_;
}

DispatchResult ClientConnection::fail(std::string_view details) {
  failed_ = true;
  failure_ = {502, std::string(details)};
  stream_active_ = false;
  decoder_ = nullptr;
  return DispatchResult::failure(failure_.status, failure_.details);
}

ResponseDecoder* ClientConnection::endStream() {
  ResponseDecoder* decoder = decoder_;
  decoder_ = nullptr;
  stream_active_ = false;
  return decoder;
}

HeadersVerdict ClientConnection::onHeadersComplete() {
  const llhttp_t& state = parser_.state();
  if (state.http_major != 1 || state.http_minor > 1) {
    return HeadersVerdict::reject(502, details::kVersionNotSupported);
  }
  // llhttp takes "HTTP/1.1  200" as status 0.
  if (state.status_code < 100) return HeadersVerdict::reject(502, details::kInvalidStatus);
  // head_ is reused for every response: its storage circulates (see takeHeaders()).
  ResponseHead& head = head_;
  head.clear();
  head.status = state.status_code;
  head.headers = parser_.takeHeaders();
  if (head.headers.has("transfer-encoding") &&
      (state.http_minor == 0 || classifyTransferEncoding(head.headers.getJoined(
                                    "transfer-encoding")) != TransferCoding::ChunkedOnly)) {
    return HeadersVerdict::reject(502, details::kInvalidTransferEncoding);
  }

  const int status = head.status;
  if (status < 200 && status != 101) {
    informational_ = true;
    decoder_->decodeInformationalHeaders(std::move(head));
    return HeadersVerdict::of(HeadersAction::NoBody);
  }
  headers_received_ = true;
  if (status == 101 || (connect_request_ && status / 100 == 2)) {
    keep_alive_ = false;
    decoder_->decodeHeaders(std::move(head), false);
    parser_.keepHeaderStorage(std::move(head.headers));
    return HeadersVerdict::of(HeadersAction::Tunnel);
  }

  const bool bodiless = head_request_ || status == 204 || status == 304;
  const bool chunked = (state.flags & F_CHUNKED) != 0;
  const bool sized = (state.flags & F_CONTENT_LENGTH) != 0;
  close_delimited_ = !bodiless && !chunked && !sized;
  const bool connection_keep_alive = state.http_minor == 1
                                         ? (state.flags & F_CONNECTION_CLOSE) == 0
                                         : (state.flags & F_CONNECTION_KEEP_ALIVE) != 0;
  keep_alive_ = connection_keep_alive && !close_delimited_;
  const HeadersAction action = bodiless ? HeadersAction::NoBody : HeadersAction::Continue;
  const bool has_body = !bodiless && (chunked || state.content_length > 0 || close_delimited_);
  if (!has_body) {
    head_pending_ = true;
    return HeadersVerdict::of(action);
  }
  decoder_->decodeHeaders(std::move(head), false);
  parser_.keepHeaderStorage(std::move(head.headers));
  return HeadersVerdict::of(action);
}

void ClientConnection::onBody(std::string_view data) {
  if (decoder_ != nullptr && !data.empty()) decoder_->decodeData(data, false);
}

void ClientConnection::onMessageComplete(std::string_view final_body) {
  if (informational_) {
    informational_ = false;
    return;
  }
  // The codec is reusable (if it will be) before the decoder hears of the end, so
  // the decoder may hand the connection to the next request right away.
  ResponseDecoder* decoder = endStream();
  if (decoder == nullptr) return;
  if (head_pending_) {
    head_pending_ = false;
    decoder->decodeHeaders(std::move(head_), true);
    parser_.keepHeaderStorage(std::move(head_.headers));
  } else if (parser_.hasTrailers()) {
    decoder->decodeTrailers(parser_.takeTrailers());
  } else {
    decoder->decodeData(final_body, true);
  }
}

std::unique_ptr<ClientCodec> makeClientCodec(CodecOutput& output) {
  return std::make_unique<ClientConnection>(output);
}

}  // namespace remora::http::h1
