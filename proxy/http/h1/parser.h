// The llhttp side shared by the server and client codecs: runs llhttp in strict mode
// with the raw-byte checks of HeaderBlockScanner in front of it, accumulates header
// fields (llhttp may hand a name or value over in pieces across reads), and stops after
// every message so the codec decides when the next one may start.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/codec.h"
#include "proxy/http/h1/header_block_scanner.h"
#include "proxy/http/message.h"

namespace remora::http::h1 {

enum class HeadersAction : uint8_t {
  // Let llhttp frame the body from the message's headers.
  Continue,
  // The message has no body whatever its headers say (HEAD, 1xx, 204, 304 responses).
  NoBody,
  // Everything after the head belongs to a tunnel (CONNECT, Upgrade, 101).
  Tunnel,
  Reject,
};

struct HeadersVerdict {
  HeadersAction action = HeadersAction::Continue;
  CodecError error;  // for Reject

  static HeadersVerdict of(HeadersAction action) { return {action, {}}; }
  static HeadersVerdict reject(int status, std::string_view details) {
    return {HeadersAction::Reject, {status, std::string(details)}};
  }
};

class ParserCallbacks {
 public:
  virtual ~ParserCallbacks() = default;
  // The start line is in Parser::state() and url(); the fields in Parser::takeHeaders().
  virtual HeadersVerdict onHeadersComplete() = 0;
  // A piece of the body that is not known to be its end.
  virtual void onBody(std::string_view data) = 0;
  // The message is complete; `final_body` is the body's last piece when it arrived
  // with the end (a Content-Length body), else empty. Trailers: Parser::takeTrailers().
  virtual void onMessageComplete(std::string_view final_body) = 0;
};

struct ParserLimits {
  size_t max_header_block_bytes = 60 * 1024;
  uint32_t max_fields = 100;
};

class Parser {
 public:
  enum class Stop : uint8_t {
    NeedMore,         // every byte was consumed
    MessageComplete,  // call startNextMessage() before executing again
    Tunnel,           // bytes from `consumed` on are tunnel payload
    Error,            // see error(); the parser stays failed
  };
  struct Outcome {
    Stop stop;
    size_t consumed;
  };

  Parser(llhttp_type_t type, ParserCallbacks& callbacks, const ParserLimits& limits);
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  Outcome execute(std::string_view data);
  void startNextMessage();
  // The peer closed: completes a body delimited by the connection close.
  void finish();

  const llhttp_t& state() const { return parser_; }
  const CodecError& error() const { return error_; }
  std::string_view url() const { return url_; }
  // To be moved from: a HeaderMap move assignment swaps, so the parser gets the
  // target's old fields back as spare slots for the next message.
  HeaderMap&& takeHeaders() { return std::move(headers_); }
  // Takes the storage of a map whose fields were handed on, for the next message's
  // fields: a connection then holds one set of header slots, not one per hop.
  void keepHeaderStorage(HeaderMap&& spare) {
    headers_ = std::move(spare);
    headers_.clear();
  }
  // Between messages of an idle connection: see HeaderMap::releaseSlots.
  void releaseHeaderStorage() { headers_.releaseSlots(); }
  bool hasTrailers() const { return !trailers_.empty(); }
  HeaderMap&& takeTrailers() { return std::move(trailers_); }

 private:
  static Parser& self(llhttp_t* parser) { return *static_cast<Parser*>(parser->data); }
  static const llhttp_settings_t& settings();

  static int onUrl(llhttp_t* parser, const char* at, size_t length);
  static int onHeaderField(llhttp_t* parser, const char* at, size_t length);
  static int onHeaderValue(llhttp_t* parser, const char* at, size_t length);
  static int onHeaderValueComplete(llhttp_t* parser);
  static int onHeadersComplete(llhttp_t* parser);
  static int onBody(llhttp_t* parser, const char* at, size_t length);
  static int onChunkHeader(llhttp_t* parser);
  static int onMessageComplete(llhttp_t* parser);

  // Adds a piece of a field name or value: a piece that is the whole of it (the usual
  // case) is only pointed at; pieces of one split across reads are joined in `copy`.
  static void appendPiece(std::string_view piece, std::string_view& whole, std::string& copy) {
    if (copy.empty() && whole.empty()) {
      whole = piece;
    } else {
      joinPiece(piece, whole, copy);
    }
  }
  // Out of line so that the usual whole piece costs no register saves.
  [[gnu::noinline]] static void joinPiece(std::string_view piece, std::string_view& whole,
                                          std::string& copy);
  // Copies what `pending_field_` and `pending_value_` point at before the buffer they
  // point into goes away at the end of an execute.
  void keepPendingPieces();
  std::string_view fieldName() const { return field_.empty() ? pending_field_ : field_; }
  int commitField();
  int failInCallback(int status, std::string_view details);
  CodecError translateLlhttpError(llhttp_errno_t error) const;
  void flushHeldBody();

  llhttp_t parser_;
  ParserCallbacks& callbacks_;
  const ParserLimits limits_;
  const HeaderBlockScanner::Kind head_kind_;
  HeaderBlockScanner scanner_;

  std::string url_;
  // The field being parsed: either the pending_ view into the buffer being executed,
  // or (once split across reads) the string; never both.
  std::string_view pending_field_;
  std::string_view pending_value_;
  std::string field_;
  std::string value_;
  HeaderMap headers_;
  HeaderMap trailers_;
  // Points into the buffer being executed; delivered before execute() returns.
  std::string_view held_body_;
  bool in_trailers_ = false;
  bool paused_for_trailers_ = false;
  bool tunnel_ = false;
  bool failed_in_callback_ = false;
  CodecError error_;
};

// Classifies a Transfer-Encoding list. Codecs accept "chunked" alone: a proxy strips the
// hop-by-hop header, so any other coding would reach the next hop undeclared.
enum class TransferCoding : uint8_t { ChunkedOnly, LastNotChunked, OtherCodings };
TransferCoding classifyTransferEncoding(std::string_view joined);

}  // namespace remora::http::h1
