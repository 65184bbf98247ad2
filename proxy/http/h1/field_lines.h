// Writing the field lines of an HTTP/1 head cheaply: the lines are copied straight into
// room made once in the scratch string, and one pass over the written bytes then proves
// that no name or value carried CR, LF or NUL. Field values reach the encoders from
// many places (the peer, configuration, filters, local replies), so the encoder keeps
// that proof rather than trusting each of them: a value that could split the head into
// more lines is never written (RFC 9112 5, response splitting and request smuggling).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "proxy/http/h1/encoding.h"
#include "proxy/http/message.h"

namespace remora::http::h1 {

// The field names an encoder treats specially. Names are lower-case in a HeaderMap;
// comparing lengths first keeps the common case (any other field) to one switch.
enum class FieldKind : uint8_t {
  Other,
  Host,
  Upgrade,
  Connection,
  ContentLength,
  TransferEncoding
};

inline FieldKind fieldKind(std::string_view name) {
  switch (name.size()) {
    case 4:
      return name == "host" ? FieldKind::Host : FieldKind::Other;
    case 7:
      return name == "upgrade" ? FieldKind::Upgrade : FieldKind::Other;
    case 10:
      return name == "connection" ? FieldKind::Connection : FieldKind::Other;
    case 14:
      return name == "content-length" ? FieldKind::ContentLength : FieldKind::Other;
    case 17:
      return name == "transfer-encoding" ? FieldKind::TransferEncoding : FieldKind::Other;
    default:
      return FieldKind::Other;
  }
}

// Bytes of "<name>: <value>\r\n".
inline size_t fieldLineSize(std::string_view name, std::string_view value) {
  return name.size() + value.size() + 4;
}
size_t fieldLinesSize(const HeaderMap& fields);

// How many bytes of `text` are CR, LF or NUL (SSE2 where the target has it).
size_t countLineBreakBytes(std::string_view text);

// Copies field lines into room the caller made; skips a field with an empty name, like
// appendField.
class FieldLineCopier {
 public:
  explicit FieldLineCopier(char* cursor) : cursor_(cursor) {}

  void add(std::string_view name, std::string_view value) {
    if (name.empty()) return;
    cursor_ = copy(cursor_, name);
    cursor_[0] = ':';
    cursor_[1] = ' ';
    cursor_ = copy(cursor_ + 2, value);
    cursor_[0] = '\r';
    cursor_[1] = '\n';
    cursor_ += 2;
    ++lines_;
  }
  char* cursor() const { return cursor_; }
  size_t lines() const { return lines_; }

 private:
  // Most names and values are short: two overlapping fixed-size moves copy them
  // without a call to memcpy.
  static char* copy(char* to, std::string_view from) {
    const size_t n = from.size();
    const char* src = from.data();
    if (n >= 8 && n <= 16) {
      copyFixed<8>(to, src);
      copyFixed<8>(to + n - 8, src + n - 8);
    } else if (n >= 4 && n < 8) {
      copyFixed<4>(to, src);
      copyFixed<4>(to + n - 4, src + n - 4);
    } else if (n > 16) {
      std::memcpy(to, src, n);
    } else {
      for (size_t i = 0; i < n; ++i) to[i] = src[i];
    }
    return to + n;
  }
  template <size_t kBytes>
  static void copyFixed(char* to, const char* from) {
    char bytes[kBytes];
    std::memcpy(bytes, from, kBytes);
    std::memcpy(to, bytes, kBytes);
  }

  char* cursor_;
  size_t lines_ = 0;
};

// Writes each field line through appendField, which leaves out fields that break framing.
class CheckedFieldLineAppender {
 public:
  explicit CheckedFieldLineAppender(std::string& out) : out_(out) {}
  void add(std::string_view name, std::string_view value) { appendField(out_, name, value); }

 private:
  std::string& out_;
};

// Appends the field lines that `write_fields(lines)` adds with lines.add(name, value);
// `max_size` bounds their bytes (fieldLineSize of each). Each line the copier wrote holds
// exactly one CR and one LF, so any other CR, LF or NUL came from a name or value: then
// the lines are written again through appendField, which leaves those fields out. Both
// ways write the same bytes for fields that are clean.
template <typename WriteFields>
void appendFieldLines(std::string& out, size_t max_size, WriteFields write_fields) {
  const size_t start = out.size();
  out.resize(start + max_size);
  FieldLineCopier copier(out.data() + start);
  write_fields(copier);
  const size_t written = static_cast<size_t>(copier.cursor() - (out.data() + start));
  out.resize(start + written);
  if (countLineBreakBytes(std::string_view(out).substr(start)) == 2 * copier.lines()) return;
  out.resize(start);
  CheckedFieldLineAppender appender(out);
  write_fields(appender);
}

}  // namespace remora::http::h1
