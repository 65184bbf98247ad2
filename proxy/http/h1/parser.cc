#include "proxy/http/h1/parser.h"

#include "proxy/http/h1/details.h"

namespace remora::http::h1 {

TransferCoding classifyTransferEncoding(std::string_view joined) {
  size_t codings = 0;
  bool last_is_chunked = false;
  forEachListElement(joined, [&](std::string_view coding) {
    ++codings;
    last_is_chunked = equalsIgnoreCase(coding, "chunked");
  });
  if (!last_is_chunked) return TransferCoding::LastNotChunked;
  return codings == 1 ? TransferCoding::ChunkedOnly : TransferCoding::OtherCodings;
}

const llhttp_settings_t& Parser::settings() {
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_url = &Parser::onUrl;
    s.on_header_field = &Parser::onHeaderField;
    s.on_header_value = &Parser::onHeaderValue;
    s.on_header_value_complete = &Parser::onHeaderValueComplete;
    s.on_headers_complete = &Parser::onHeadersComplete;
    s.on_body = &Parser::onBody;
    s.on_chunk_header = &Parser::onChunkHeader;
    s.on_message_complete = &Parser::onMessageComplete;
    return s;
  }();
  return kSettings;
}

Parser::Parser(llhttp_type_t type, ParserCallbacks& callbacks, const ParserLimits& limits)
    : callbacks_(callbacks),
      limits_(limits),
      head_kind_(type == HTTP_REQUEST ? HeaderBlockScanner::Kind::RequestHead
                                      : HeaderBlockScanner::Kind::ResponseHead) {
  llhttp_init(&parser_, type, &settings());
  parser_.data = this;
  scanner_.start(head_kind_, limits_.max_header_block_bytes);
}

Parser::Outcome Parser::execute(std::string_view data) {
  size_t offset = 0;
  while (true) {
    const std::string_view rest = data.substr(offset);
    if (scanner_.active() && scanner_.scan(rest) == HeaderBlockScanner::Status::Error) {
      error_ = {scanner_.errorStatus(), std::string(scanner_.errorDetails())};
      return {Stop::Error, offset};
    }
    const llhttp_errno_t result = llhttp_execute(&parser_, rest.data(), rest.size());
    keepPendingPieces();
    flushHeldBody();
    if (result == HPE_OK) return {Stop::NeedMore, data.size()};
    if (failed_in_callback_) return {Stop::Error, offset};
    const size_t stop = offset + static_cast<size_t>(llhttp_get_error_pos(&parser_) - rest.data());
    if (result == HPE_PAUSED && paused_for_trailers_) {
      // The last chunk's size line ends at `stop`: the trailer section starts there.
      paused_for_trailers_ = false;
      llhttp_resume(&parser_);
      scanner_.start(HeaderBlockScanner::Kind::Trailers, limits_.max_header_block_bytes);
      offset = stop;
      continue;
    }
    if (result == HPE_PAUSED) return {Stop::MessageComplete, stop};
    if (result == HPE_PAUSED_UPGRADE) return {Stop::Tunnel, stop};
    error_ = translateLlhttpError(result);
    return {Stop::Error, stop};
  }
}

void Parser::startNextMessage() {
  llhttp_resume(&parser_);
  url_.clear();
  pending_field_ = {};
  pending_value_ = {};
  field_.clear();
  value_.clear();
  headers_.clear();
  trailers_.clear();
  in_trailers_ = false;
  tunnel_ = false;
  scanner_.start(head_kind_, limits_.max_header_block_bytes);
}

void Parser::finish() { llhttp_finish(&parser_); }

void Parser::flushHeldBody() {
  if (held_body_.empty()) return;
  const std::string_view body = held_body_;
  held_body_ = {};
  callbacks_.onBody(body);
}

int Parser::failInCallback(int status, std::string_view details) {
  failed_in_callback_ = true;
  error_ = {status, std::string(details)};
  return -1;
}

void Parser::joinPiece(std::string_view piece, std::string_view& whole, std::string& copy) {
  copy.append(whole);
  copy.append(piece);
  whole = {};
}

void Parser::keepPendingPieces() {
  if (!pending_field_.empty()) {
    field_.append(pending_field_);
    pending_field_ = {};
  }
  if (!pending_value_.empty()) {
    value_.append(pending_value_);
    pending_value_ = {};
  }
}

int Parser::commitField() {
  const std::string_view name = fieldName();
  if (name.empty()) return failInCallback(400, details::kInvalidCharacters);
  HeaderMap& target = in_trailers_ ? trailers_ : headers_;
  if (target.size() >= limits_.max_fields) return failInCallback(431, details::kTooManyHeaders);
  target.add(name, trimOws(value_.empty() ? pending_value_ : value_));
  pending_field_ = {};
  pending_value_ = {};
  field_.clear();
  value_.clear();
  return 0;
}

CodecError Parser::translateLlhttpError(llhttp_errno_t error) const {
  switch (error) {
    case HPE_INVALID_HEADER_TOKEN:
      return {400, std::string(details::kInvalidCharacters)};
    case HPE_UNEXPECTED_CONTENT_LENGTH: {
      const bool with_transfer_encoding =
          headers_.has("transfer-encoding") || equalsIgnoreCase(fieldName(), "transfer-encoding");
      return {400, std::string(with_transfer_encoding ? details::kContentLengthAndChunked
                                                      : details::kDuplicateContentLength)};
    }
    case HPE_INVALID_CONTENT_LENGTH:
      return {400, std::string(details::kInvalidContentLength)};
    case HPE_INVALID_TRANSFER_ENCODING:
      return {400, std::string(details::kInvalidTransferEncoding)};
    case HPE_INVALID_URL:
      return {400, std::string(details::kInvalidUrl)};
    case HPE_INVALID_STATUS:
      return {400, std::string(details::kInvalidStatus)};
    case HPE_INVALID_VERSION: {
      // llhttp names a well-formed but unknown version (HTTP/1.2, HTTP/3.0) this way;
      // other reasons mean a malformed start line.
      const char* reason = llhttp_get_error_reason(&parser_);
      if (reason != nullptr && std::string_view(reason) == "Invalid HTTP version") {
        return {505, std::string(details::kVersionNotSupported)};
      }
      return {400, std::string(details::kCodecError)};
    }
    case HPE_PAUSED_H2_UPGRADE:  // the HTTP/2 connection preface "PRI * HTTP/2.0"
      return {505, std::string(details::kVersionNotSupported)};
    default:
      return {400, std::string(details::kCodecError)};
  }
}

int Parser::onUrl(llhttp_t* parser, const char* at, size_t length) {
  self(parser).url_.append(at, length);
  return 0;
}

int Parser::onHeaderField(llhttp_t* parser, const char* at, size_t length) {
  Parser& p = self(parser);
  appendPiece({at, length}, p.pending_field_, p.field_);
  return 0;
}

int Parser::onHeaderValue(llhttp_t* parser, const char* at, size_t length) {
  Parser& p = self(parser);
  appendPiece({at, length}, p.pending_value_, p.value_);
  return 0;
}

int Parser::onHeaderValueComplete(llhttp_t* parser) { return self(parser).commitField(); }

int Parser::onHeadersComplete(llhttp_t* parser) {
  Parser& p = self(parser);
  HeadersVerdict verdict = p.callbacks_.onHeadersComplete();
  switch (verdict.action) {
    case HeadersAction::Continue:
      return 0;
    case HeadersAction::NoBody:
      return 1;
    case HeadersAction::Tunnel:
      p.tunnel_ = true;
      return 2;
    case HeadersAction::Reject:
      break;
  }
  p.failed_in_callback_ = true;
  p.error_ = std::move(verdict.error);
  return -1;
}

int Parser::onBody(llhttp_t* parser, const char* at, size_t length) {
  Parser& p = self(parser);
  const std::string_view data(at, length);
  const bool sized = (parser->flags & F_CONTENT_LENGTH) != 0 && (parser->flags & F_CHUNKED) == 0;
  if (sized && parser->content_length == 0) {
    // llhttp completes the message right after this piece, within the same execute;
    // holding it lets the codec deliver it together with the end of stream.
    p.held_body_ = data;
  } else {
    p.callbacks_.onBody(data);
  }
  return 0;
}

int Parser::onChunkHeader(llhttp_t* parser) {
  if (parser->content_length != 0) return 0;
  Parser& p = self(parser);
  p.in_trailers_ = true;
  p.paused_for_trailers_ = true;
  return HPE_PAUSED;
}

int Parser::onMessageComplete(llhttp_t* parser) {
  Parser& p = self(parser);
  // A tunnel's head was handed over already; llhttp stops with HPE_PAUSED_UPGRADE.
  if (p.tunnel_) return 0;
  const std::string_view final_body = p.held_body_;
  p.held_body_ = {};
  p.callbacks_.onMessageComplete(final_body);
  return HPE_PAUSED;
}

}  // namespace remora::http::h1
