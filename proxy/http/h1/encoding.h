// Serialisation shared by the HTTP/1 encoders: start lines, field lines and body
// framing. Everything is appended to a caller-owned scratch string that keeps its
// capacity between messages, so a head goes out in a single write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/codec.h"
#include "proxy/http/message.h"

namespace remora::http::h1 {

// "HTTP/1.1 <status> <reason>\r\n".
void appendStatusLine(std::string& out, int status);
// "<name>: <value>\r\n". A field whose name or value could break the framing (CR, LF,
// NUL, empty name) is left out: header values may come from configuration or filters,
// and writing them would let them inject lines.
void appendField(std::string& out, std::string_view name, std::string_view value);

// Writes a message body the way its head announced it.
class BodyEncoder {
 public:
  enum class Framing : uint8_t {
    None,     // no body may follow (HEAD, 204, 304, or ended on the head)
    Raw,      // content-length, close-delimited or tunnel bytes
    Chunked,  // transfer-encoding: chunked
  };

  void reset(Framing framing) { framing_ = framing; }
  Framing framing() const { return framing_; }

  void encodeData(CodecOutput& output, std::string& scratch, std::string_view data,
                  bool end_stream);
  // Trailers exist only in chunked framing; elsewhere they are dropped.
  void encodeTrailers(CodecOutput& output, std::string& scratch, const HeaderMap& trailers);

 private:
  Framing framing_ = Framing::None;
};

}  // namespace remora::http::h1
