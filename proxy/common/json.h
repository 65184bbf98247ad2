// JSON string escaping, shared by the admin endpoint and the access log.
#pragma once

#include <string>
#include <string_view>

namespace remora {

// Appends `text` as a quoted JSON string (RFC 8259 escapes).
inline void appendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline std::string jsonQuoted(std::string_view text) {
  std::string out;
  appendJsonString(text, out);
  return out;
}

}  // namespace remora
