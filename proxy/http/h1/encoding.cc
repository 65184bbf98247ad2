#include "proxy/http/h1/encoding.h"

#include <charconv>

namespace remora::http::h1 {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n";
constexpr std::string_view kLineBreakingBytes("\r\n\0", 3);

bool breaksFraming(std::string_view s) { return s.find_first_of(kLineBreakingBytes) != s.npos; }

template <typename Number>
void appendNumber(std::string& out, Number value, int base) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value, base);
  out.append(digits, result.ptr);
}

}  // namespace

void appendStatusLine(std::string& out, int status) {
  out += "HTTP/1.1 ";
  appendNumber(out, status, 10);
  out += ' ';
  out += reasonPhrase(status);
  out += kCrlf;
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  if (name.empty() || breaksFraming(name) || breaksFraming(value)) return;
  out += name;
  out += ": ";
  out += value;
  out += kCrlf;
}

void BodyEncoder::encodeData(CodecOutput& output, std::string& scratch, std::string_view data,
                             bool end_stream) {
  switch (framing_) {
    case Framing::None:
      return;
    case Framing::Raw:
      if (!data.empty()) output.write(data);
      return;
    case Framing::Chunked:
      scratch.clear();
      if (!data.empty()) {
        appendNumber(scratch, data.size(), 16);
        scratch += kCrlf;
        scratch += data;
        scratch += kCrlf;
      }
      if (end_stream) {
        scratch += kLastChunk;
        scratch += kCrlf;
      }
      if (!scratch.empty()) output.write(scratch);
      return;
  }
}

void BodyEncoder::encodeTrailers(CodecOutput& output, std::string& scratch,
                                 const HeaderMap& trailers) {
  if (framing_ != Framing::Chunked) return;
  scratch.assign(kLastChunk);
  for (const HeaderEntry& field : trailers) appendField(scratch, field.name, field.value);
  scratch += kCrlf;
  output.write(scratch);
}

}  // namespace remora::http::h1
