#include "proxy/http/h1/server_codec.h"

#include "proxy/common/spare_buffers.h"
#include "proxy/http/h1/details.h"
#include "proxy/http/h1/field_lines.h"

namespace remora::http::h1 {

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

ParserLimits parserLimits(const ServerCodecLimits& limits) {
  return {static_cast<size_t>(limits.max_request_headers_kb) * 1024, limits.max_headers_count};
}

// Fills path and authority from the request-target (RFC 9112 3.2).
bool setRequestTarget(std::string_view target, bool connect, RequestHead& head) {
  if (target.empty()) return false;
  if (connect) {
    head.authority.assign(target);
    return true;
  }
  if (target.front() == '/' || target == "*") {
    head.path.assign(target);
    return true;
  }
  // Absolute form: the target's authority replaces Host (RFC 9112 3.2.2).
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) return false;
  const std::string_view rest = target.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  // Userinfo in an http(s) URI is an error (RFC 9110 4.2.4).
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  head.authority.assign(authority);
  if (authority_end == std::string_view::npos) {
    head.path = "/";
  } else if (rest[authority_end] == '?') {
    head.path = "/";
    head.path += rest.substr(authority_end);
  } else {
    head.path.assign(rest.substr(authority_end));
  }
  return true;
}

}  // namespace

ServerConnection::ServerConnection(CodecOutput& output, ServerCodecCallbacks& callbacks,
                                   const ServerCodecLimits& limits)
    : output_(output),
      callbacks_(callbacks),
      limits_(limits),
      parser_(HTTP_REQUEST, *this, parserLimits(limits)) {}

DispatchResult ServerConnection::dispatch(std::string_view data) {
  if (failed_) return DispatchResult::failure(failure_.status, failure_.details);
  if (!accepting_requests_) return DispatchResult::success();
  if (tunneling_) {
    if (decoder_ != nullptr && !data.empty()) decoder_->decodeData(data, false);
    return DispatchResult::success();
  }
  if (paused_) {
    pending_.append(data);
    // Once the response is complete, new bytes need no separate resume().
    return stream_active_ ? DispatchResult::success() : resume();
  }
  size_t consumed = 0;
  DispatchResult result = parse(data, consumed);
  if (result.ok && paused_) pending_.assign(data.substr(consumed));
  return result;
}

DispatchResult ServerConnection::resume() {
  if (failed_) return DispatchResult::failure(failure_.status, failure_.details);
  // Inside parse() the loop itself goes on once the response is complete.
  if (parsing_ || !paused_ || stream_active_) return DispatchResult::success();
  paused_ = false;
  if (!accepting_requests_) {
    pending_.clear();
    return DispatchResult::success();
  }
  parser_.startNextMessage();
  size_t consumed = 0;
  DispatchResult result = parse(pending_, consumed);
  if (result.ok && paused_) {
    pending_.erase(0, consumed);
  } else {
    pending_.clear();
  }
  return result;
}

void ServerConnection::onEof() {
  // Half-close of a tunnel: the client has nothing more to send.
  if (!tunneling_ || request_complete_) return;
  request_complete_ = true;
  if (decoder_ != nullptr) decoder_->decodeData({}, true);
}

DispatchResult ServerConnection::parse(std::string_view data, size_t& consumed) {
  parsing_ = true;
  DispatchResult result = parseUntilStop(data, consumed);
  parsing_ = false;
  return result;
}

DispatchResult ServerConnection::parseUntilStop(std::string_view data, size_t& consumed) {
  while (true) {
    const Parser::Outcome outcome = parser_.execute(data.substr(consumed));
    consumed += outcome.consumed;
    if (!accepting_requests_ && !stream_active_) {
      // The response is done and the connection closes: the rest is never read.
      consumed = data.size();
      return DispatchResult::success();
    }
    switch (outcome.stop) {
      case Parser::Stop::NeedMore:
        return DispatchResult::success();
      case Parser::Stop::Error:
        return fail(parser_.error());
      case Parser::Stop::MessageComplete:
        if (!accepting_requests_) {
          consumed = data.size();
          return DispatchResult::success();
        }
        if (stream_active_) {
          paused_ = true;
          return DispatchResult::success();
        }
        parser_.startNextMessage();
        break;
      case Parser::Stop::Tunnel: {
        tunneling_ = true;
        const std::string_view payload = data.substr(consumed);
        consumed = data.size();
        if (decoder_ != nullptr && !payload.empty()) decoder_->decodeData(payload, false);
        return DispatchResult::success();
      }
    }
  }
}

DispatchResult ServerConnection::fail(const CodecError& error) {
  failed_ = true;
  failure_ = error;
  accepting_requests_ = false;
  close_after_response_ = true;
  return DispatchResult::failure(error.status, error.details);
}

HeadersVerdict ServerConnection::onHeadersComplete() {
  const llhttp_t& state = parser_.state();
  head_.clear();
  if (state.http_major == 1 && state.http_minor == 1) {
    head_.protocol = Protocol::Http11;
  } else if (state.http_major == 1 && state.http_minor == 0) {
    if (!limits_.accept_http_10) return HeadersVerdict::reject(426, details::kHttp10NotAllowed);
    head_.protocol = Protocol::Http10;
  } else {
    return HeadersVerdict::reject(505, details::kVersionNotSupported);
  }
  const bool connect = state.method == HTTP_CONNECT;
  head_.method = llhttp_method_name(static_cast<llhttp_method_t>(state.method));
  head_.headers = parser_.takeHeaders();
  if (!setRequestTarget(parser_.url(), connect, head_)) {
    return HeadersVerdict::reject(400, details::kInvalidUrl);
  }

  const size_t hosts = head_.headers.count("host");
  if (hosts > 1) return HeadersVerdict::reject(400, details::kMultipleHosts);
  if (head_.authority.empty()) {
    if (hosts == 1) {
      head_.authority = *head_.headers.get("host");
    } else if (head_.protocol == Protocol::Http10) {
      head_.authority = limits_.default_host_for_http_10;
    }
  }
  if (head_.authority.empty() && head_.protocol == Protocol::Http11) {
    return HeadersVerdict::reject(400, details::kMissingHost);
  }

  // llhttp sets `upgrade` for CONNECT and for "Connection: upgrade" + "Upgrade".
  const bool upgrade = state.upgrade != 0;
  if (head_.headers.has("transfer-encoding")) {
    // HTTP/1.0 has no chunked framing (RFC 9112 6.1) and a tunnel's bytes are no body.
    if (head_.protocol == Protocol::Http10 || upgrade) {
      return HeadersVerdict::reject(400, details::kInvalidTransferEncoding);
    }
    switch (classifyTransferEncoding(head_.headers.getJoined("transfer-encoding"))) {
      case TransferCoding::ChunkedOnly:
        break;
      case TransferCoding::LastNotChunked:  // the body length is unknown (RFC 9112 6.3)
        return HeadersVerdict::reject(400, details::kInvalidTransferEncoding);
      case TransferCoding::OtherCodings:  // codings this proxy does not apply (RFC 9112 6.1)
        return HeadersVerdict::reject(501, details::kInvalidTransferEncoding);
    }
  }

  request_protocol_ = head_.protocol;
  head_request_ = state.method == HTTP_HEAD;
  connect_request_ = connect;
  upgrade_request_ = upgrade;
  request_complete_ = false;
  if (llhttp_should_keep_alive(&state) == 0) close_after_response_ = true;

  if (upgrade) {
    startStream();
    handOverHead(false);
    return HeadersVerdict::of(HeadersAction::Tunnel);
  }
  const bool has_body = (state.flags & F_CHUNKED) != 0 || state.content_length > 0;
  if (!has_body) {
    head_pending_ = true;
    return HeadersVerdict::of(HeadersAction::Continue);
  }
  startStream();
  handOverHead(false);
  return HeadersVerdict::of(HeadersAction::Continue);
}

void ServerConnection::onBody(std::string_view data) {
  if (decoder_ != nullptr && !data.empty()) decoder_->decodeData(data, false);
}

void ServerConnection::onMessageComplete(std::string_view final_body) {
  request_complete_ = true;
  if (close_after_response_) accepting_requests_ = false;
  if (head_pending_) {
    head_pending_ = false;
    startStream();
    handOverHead(true);
    return;
  }
  if (decoder_ == nullptr) return;
  if (parser_.hasTrailers()) {
    decoder_->decodeTrailers(parser_.takeTrailers());
  } else {
    decoder_->decodeData(final_body, true);
  }
}

void ServerConnection::handOverHead(bool end_stream) {
  decoder_->decodeHeaders(std::move(head_), end_stream);
  parser_.keepHeaderStorage(std::move(head_.headers));
}

void ServerConnection::startStream() {
  stream_active_ = true;
  body_.reset(BodyEncoder::Framing::None);
  decoder_ = &callbacks_.newStream(*this);
}

void ServerConnection::encode100Continue() {
  if (stream_active_ && request_protocol_ != Protocol::Http10) output_.write(kContinue);
}

void ServerConnection::encodeHeaders(const ResponseHead& head, bool end_stream) {
  if (!stream_active_) return;
  if (head.status >= 100 && head.status < 200 && head.status != 101) {
    writeInterimHead(head);
    return;
  }
  writeFinalHead(head, end_stream);
  if (end_stream) onResponseComplete();
}

void ServerConnection::writeInterimHead(const ResponseHead& head) {
  // RFC 9110 15.2: no 1xx to an HTTP/1.0 client.
  if (request_protocol_ == Protocol::Http10) return;
  writeUnframedHead(head);
}

void ServerConnection::writeUnframedHead(const ResponseHead& head) {
  scratch_.clear();
  spare_buffers::take(scratch_);
  appendStatusLine(scratch_, head.status);
  appendFieldLines(scratch_, fieldLinesSize(head.headers), [&](auto& lines) {
    for (const HeaderEntry& field : head.headers) {
      const FieldKind kind = fieldKind(field.name);
      if (kind == FieldKind::ContentLength || kind == FieldKind::TransferEncoding) continue;
      lines.add(field.name, field.value);
    }
  });
  scratch_ += "\r\n";
  output_.write(scratch_);
  spare_buffers::give(scratch_);
}

void ServerConnection::writeFinalHead(const ResponseHead& head, bool end_stream) {
  const int status = head.status;
  const bool tunnel = status == 101 || (connect_request_ && status >= 200 && status < 300);
  if (tunnel) {
    // The caller supplies Connection/Upgrade; a tunnel has no message framing
    // (RFC 9110 9.3.6 forbids it in a 2xx to CONNECT).
    upgraded_ = true;
    body_.reset(BodyEncoder::Framing::Raw);
    writeUnframedHead(head);
    return;
  }

  scratch_.clear();
  spare_buffers::take(scratch_);
  appendStatusLine(scratch_, status);

  // Without switching, the bytes after an Upgrade/CONNECT head were never framed, and
  // a request still arriving cannot be told apart from the next one safely.
  if (upgrade_request_ || !request_complete_) close_after_response_ = true;
  // One pass over the fields finds what the framing depends on and the room they need.
  bool has_content_length = false;
  size_t fields_size = 0;
  for (const HeaderEntry& field : head.headers) {
    fields_size += fieldLineSize(field.name, field.value);
    switch (fieldKind(field.name)) {
      case FieldKind::ContentLength:
        has_content_length = true;
        break;
      case FieldKind::Connection:
        // The tokens of all connection fields together are those of their joined value.
        if (hasToken(field.value, "close")) close_after_response_ = true;
        break;
      default:
        break;
    }
  }

  std::string_view framing_field;
  if (head_request_ || status == 204 || status == 304) {
    body_.reset(BodyEncoder::Framing::None);
  } else if (has_content_length) {
    body_.reset(BodyEncoder::Framing::Raw);
  } else if (end_stream) {
    body_.reset(BodyEncoder::Framing::None);
    framing_field = "content-length: 0\r\n";
  } else if (request_protocol_ == Protocol::Http11) {
    body_.reset(BodyEncoder::Framing::Chunked);
    framing_field = "transfer-encoding: chunked\r\n";
  } else {
    // An HTTP/1.0 client cannot read chunks: the body ends with the connection.
    body_.reset(BodyEncoder::Framing::Raw);
    close_after_response_ = true;
  }

  const bool codec_sets_connection = close_after_response_ || request_protocol_ == Protocol::Http10;
  appendFieldLines(scratch_, fields_size, [&](auto& lines) {
    for (const HeaderEntry& field : head.headers) {
      switch (fieldKind(field.name)) {
        case FieldKind::TransferEncoding:
          continue;
        case FieldKind::ContentLength:
          if (status == 204) continue;
          break;
        case FieldKind::Connection:
          if (codec_sets_connection) continue;
          break;
        default:
          break;
      }
      lines.add(field.name, field.value);
    }
  });
  scratch_ += framing_field;
  if (close_after_response_) {
    scratch_ += "connection: close\r\n";
  } else if (request_protocol_ == Protocol::Http10) {
    scratch_ += "connection: keep-alive\r\n";
  }
  scratch_ += "\r\n";
  output_.write(scratch_);
  spare_buffers::give(scratch_);
}

void ServerConnection::encodeData(std::string_view data, bool end_stream) {
  if (!stream_active_) return;
  body_.encodeData(output_, scratch_, data, end_stream);
  if (end_stream) onResponseComplete();
}

void ServerConnection::encodeTrailers(const HeaderMap& trailers) {
  if (!stream_active_) return;
  body_.encodeTrailers(output_, scratch_, trailers);
  onResponseComplete();
}

void ServerConnection::resetStream(StreamResetReason) {
  if (!stream_active_) return;
  stream_active_ = false;
  decoder_ = nullptr;
  close_after_response_ = true;
  accepting_requests_ = false;
}

void ServerConnection::onResponseComplete() {
  if (upgraded_ || !request_complete_) close_after_response_ = true;
  stream_active_ = false;
  decoder_ = nullptr;
  if (close_after_response_) accepting_requests_ = false;
  // Keep-alive with nothing pipelined: the connection goes idle holding no header slots.
  if (paused_ && pending_.empty()) parser_.releaseHeaderStorage();
}

std::unique_ptr<ServerCodec> makeServerCodec(CodecOutput& output, ServerCodecCallbacks& callbacks,
                                             const ServerCodecLimits& limits) {
  return std::make_unique<ServerConnection>(output, callbacks, limits);
}

}  // namespace remora::http::h1
