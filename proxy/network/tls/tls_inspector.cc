#include "proxy/network/tls/tls_inspector.h"

#include <algorithm>
#include <cstdint>

namespace remora::network::tls {
namespace {

constexpr uint8_t kHandshakeRecord = 0x16;
constexpr uint8_t kClientHelloMessage = 0x01;
constexpr std::size_t kRecordHeaderBytes = 5;
constexpr std::size_t kMaxRecordPayload = 16 * 1024;  // RFC 8446 5.1: plaintext records
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;
constexpr uint8_t kHostNameType = 0;

// Bounds-checked big-endian reads; the first overrun makes every later read fail.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  bool empty() const { return pos_ >= data_.size(); }

  uint32_t number(std::size_t width) {
    if (!take(width)) return 0;
    uint32_t value = 0;
    for (std::size_t i = pos_ - width; i < pos_; ++i) {
      value = (value << 8) | static_cast<uint8_t>(data_[i]);
    }
    return value;
  }
  std::string_view bytes(std::size_t length) {
    if (!take(length)) return {};
    return data_.substr(pos_ - length, length);
  }
  // A vector with a `width`-byte length prefix.
  Reader prefixed(std::size_t width) {
    const uint32_t length = number(width);
    Reader inner(bytes(length));
    inner.ok_ = ok_;
    return inner;
  }

 private:
  bool take(std::size_t length) {
    if (!ok_ || data_.size() - pos_ < length) {
      ok_ = false;
      return false;
    }
    pos_ += length;
    return true;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// RFC 6066 3: the first host_name entry; other name types are skipped.
bool parseServerName(Reader extension, std::string& server_name) {
  Reader names = extension.prefixed(2);
  if (!extension.ok() || !extension.empty() || names.empty()) return false;
  while (!names.empty()) {
    const uint32_t type = names.number(1);
    const uint32_t length = names.number(2);
    const std::string_view name = names.bytes(length);
    if (!names.ok()) return false;
    if (type == kHostNameType && server_name.empty()) {
      if (name.empty() || name.find('\0') != std::string_view::npos) return false;
      server_name = name;
    }
  }
  return true;
}

bool parseAlpn(Reader extension, std::vector<std::string>& protocols) {
  Reader list = extension.prefixed(2);
  if (!extension.ok() || !extension.empty() || list.empty()) return false;
  while (list.ok() && !list.empty()) {
    const uint32_t length = list.number(1);
    const std::string_view protocol = list.bytes(length);
    if (!list.ok() || length == 0) return false;
    protocols.emplace_back(protocol);
  }
  return list.ok();
}

bool parseClientHelloBody(std::string_view body, ClientHelloInfo& info) {
  Reader hello(body);
  if (hello.number(1) != 0x03) return false;  // legacy_version major
  hello.number(1);
  hello.bytes(32);  // random
  const uint32_t session_id_length = hello.number(1);
  hello.bytes(session_id_length);
  const uint32_t cipher_bytes = hello.number(2);
  hello.bytes(cipher_bytes);
  const uint32_t compression_methods = hello.number(1);
  hello.bytes(compression_methods);
  if (!hello.ok() || session_id_length > 32 || cipher_bytes < 2 || cipher_bytes % 2 != 0 ||
      compression_methods == 0) {
    return false;
  }
  if (hello.empty()) return true;  // no extensions at all

  Reader extensions = hello.prefixed(2);
  if (!hello.ok() || !hello.empty()) return false;
  bool seen_server_name = false;
  bool seen_alpn = false;
  while (!extensions.empty()) {
    const uint32_t type = extensions.number(2);
    Reader extension = extensions.prefixed(2);
    if (!extensions.ok()) return false;
    if (type == kServerNameExtension) {
      if (seen_server_name || !parseServerName(extension, info.server_name)) return false;
      seen_server_name = true;
    } else if (type == kAlpnExtension) {
      if (seen_alpn || !parseAlpn(extension, info.alpn_protocols)) return false;
      seen_alpn = true;
    }
  }
  return true;
}

}  // namespace

bool looksLikeTlsClientHello(std::string_view first_bytes) {
  if (first_bytes.empty()) return false;
  const auto byte = [&](std::size_t i) { return static_cast<uint8_t>(first_bytes[i]); };
  const std::size_t seen = std::min(first_bytes.size(), kClientHelloSniffBytes);
  if (byte(0) != kHandshakeRecord) return false;
  if (seen > 1 && byte(1) != 0x03) return false;
  if (seen > 2 && byte(2) > 0x04) return false;
  if (seen > 4) {
    const std::size_t length = (std::size_t{byte(3)} << 8) | byte(4);
    if (length == 0 || length > kMaxRecordPayload) return false;
  }
  return seen <= 5 || byte(5) == kClientHelloMessage;
}

ClientHelloParse parseClientHello(std::string_view bytes, ClientHelloInfo& info) {
  // The handshake message may be split over several records; join their payloads.
  std::string message;
  std::size_t offset = 0;
  for (;;) {
    if (bytes.size() - offset < kRecordHeaderBytes) {
      return looksLikeTlsClientHello(bytes.substr(offset)) || offset == bytes.size()
                 ? ClientHelloParse::NeedMoreBytes
                 : ClientHelloParse::NotClientHello;
    }
    const std::string_view header = bytes.substr(offset, kRecordHeaderBytes);
    const std::size_t length =
        (std::size_t{static_cast<uint8_t>(header[3])} << 8) | static_cast<uint8_t>(header[4]);
    if (static_cast<uint8_t>(header[0]) != kHandshakeRecord ||
        static_cast<uint8_t>(header[1]) != 0x03 || static_cast<uint8_t>(header[2]) > 0x04 ||
        length == 0 || length > kMaxRecordPayload) {
      return ClientHelloParse::NotClientHello;
    }
    offset += kRecordHeaderBytes;
    const std::size_t available = std::min(length, bytes.size() - offset);
    message.append(bytes.substr(offset, available));
    offset += available;

    if (!message.empty() && static_cast<uint8_t>(message[0]) != kClientHelloMessage) {
      return ClientHelloParse::NotClientHello;
    }
    if (message.size() >= 4) {
      const std::size_t body_length = (std::size_t{static_cast<uint8_t>(message[1])} << 16) |
                                      (std::size_t{static_cast<uint8_t>(message[2])} << 8) |
                                      static_cast<uint8_t>(message[3]);
      if (4 + body_length > kMaxClientHelloBytes) return ClientHelloParse::NotClientHello;
      if (message.size() >= 4 + body_length) {
        info = ClientHelloInfo();
        return parseClientHelloBody(std::string_view(message).substr(4, body_length), info)
                   ? ClientHelloParse::Complete
                   : ClientHelloParse::NotClientHello;
      }
    }
    if (available < length) return ClientHelloParse::NeedMoreBytes;
  }
}

std::optional<std::string> sniFromClientHello(std::string_view bytes) {
  ClientHelloInfo info;
  if (parseClientHello(bytes, info) != ClientHelloParse::Complete || info.server_name.empty()) {
    return std::nullopt;
  }
  return std::move(info.server_name);
}

}  // namespace remora::network::tls
