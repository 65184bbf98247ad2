#include "proxy/http/h1/encoding.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace remora::http::h1 {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n";

// Runs over every header written, so it tests 8 bytes at a time (find_first_of
// with a set would call memchr once per byte).
bool hasZeroByte(uint64_t w) {
  return ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0;
}

bool breaksFraming(std::string_view s) {
  constexpr uint64_t kCr = 0x0d0d0d0d0d0d0d0dULL;
  constexpr uint64_t kLf = 0x0a0a0a0a0a0a0a0aULL;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, sizeof(w));
    if (hasZeroByte(w) || hasZeroByte(w ^ kCr) || hasZeroByte(w ^ kLf)) return true;
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

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
