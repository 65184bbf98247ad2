#include "proxy/http/h1/encoding.h"

#include <array>
#include <charconv>

#include "proxy/http/h1/field_lines.h"

namespace remora::http::h1 {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n";

// CR, LF and NUL are what field_lines.h counts: the same definition on both paths.
bool breaksFraming(std::string_view s) { return countLineBreakBytes(s) != 0; }

template <typename Number>
void appendNumber(std::string& out, Number value, int base) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value, base);
  out.append(digits, result.ptr);
}

void buildStatusLine(std::string& out, int status) {
  out += "HTTP/1.1 ";
  appendNumber(out, status, 10);
  out += ' ';
  out += reasonPhrase(status);
  out += kCrlf;
}

// Every status line from 100 to 599, built once: a head then starts with one append.
class StatusLineTable {
 public:
  static constexpr int kFirst = 100;
  static constexpr int kLast = 599;

  StatusLineTable() {
    for (int status = kFirst; status <= kLast; ++status) {
      starts_[static_cast<size_t>(status - kFirst)] = text_.size();
      buildStatusLine(text_, status);
    }
    starts_.back() = text_.size();
  }
  std::string_view line(int status) const {
    const auto index = static_cast<size_t>(status - kFirst);
    return std::string_view(text_).substr(starts_[index], starts_[index + 1] - starts_[index]);
  }

 private:
  std::string text_;
  std::array<size_t, kLast - kFirst + 2> starts_{};
};

}  // namespace

void appendStatusLine(std::string& out, int status) {
  if (status < StatusLineTable::kFirst || status > StatusLineTable::kLast) {
    buildStatusLine(out, status);
    return;
  }
  static const StatusLineTable table;
  out += table.line(status);
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
