#include "proxy/http/header_utility.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace remora::http {

std::string upgradeType(const RequestHead& request) {
  const std::string* upgrade = request.headers.get("upgrade");
  if (!upgrade || upgrade->empty()) return {};
  if (!hasToken(request.headers.getJoined("connection"), "upgrade")) return {};
  std::string type(trimOws(*upgrade));
  toLowerAscii(type);
  return type;
}

bool requestWantsClose(const RequestHead& request) {
  const std::string connection = request.headers.getJoined("connection");
  if (hasToken(connection, "close")) return true;
  return request.protocol == Protocol::Http10 && !hasToken(connection, "keep-alive");
}

namespace {
// Names are stored lower-case, so plain comparisons do; the length picks the candidate.
bool isHopByHop(const HeaderEntry& e, bool keep_upgrade) {
  const std::string_view n = e.name;
  switch (n.size()) {
    case 2:
      return n == "te" && !equalsIgnoreCase(trimOws(e.value), "trailers");
    case 7:
      return n == "upgrade" && !keep_upgrade;
    case 10:
      return n == "connection" || n == "keep-alive";
    case 16:
      return n == "proxy-connection";
    case 17:
      return n == "transfer-encoding";
    default:
      return false;
  }
}
}  // namespace

void removeHopByHopHeaders(HeaderMap& headers, bool keep_upgrade) {
  headers.removeIf([keep_upgrade](const HeaderEntry& e) { return isHopByHop(e, keep_upgrade); });
  if (keep_upgrade) headers.add("connection", "upgrade");
}

std::optional<ParsedIp> ParsedIp::parse(std::string_view text) {
  text = trimOws(text);
  if (text.size() >= kMaxText) return std::nullopt;
  // inet_pton wants a terminated string; the copy stays on the stack.
  std::array<char, kMaxText> terminated{};
  std::copy(text.begin(), text.end(), terminated.begin());
  ParsedIp ip;
  int family = AF_INET;
  if (inet_pton(AF_INET, terminated.data(), ip.bytes_.data()) != 1) {
    family = AF_INET6;
    if (inet_pton(AF_INET6, terminated.data(), ip.bytes_.data()) != 1) return std::nullopt;
    ip.v6_ = true;
  }
  if (inet_ntop(family, ip.bytes_.data(), ip.text_.data(), ip.text_.size()) == nullptr) {
    return std::nullopt;
  }
  ip.text_size_ = static_cast<uint8_t>(std::string_view(ip.text_.data()).size());
  return ip;
}

bool ParsedIp::isInternal() const {
  const std::array<uint8_t, 16>& b = bytes_;
  if (!v6_) {
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 127 && b[1] == 0 && b[2] == 0 && b[3] == 1);
  }
  static constexpr std::array<uint8_t, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 1};
  return b == kLoopback || b[0] == 0xfd;
}

bool isInternalAddress(std::string_view ip) {
  const std::optional<ParsedIp> parsed = ParsedIp::parse(ip);
  return parsed && parsed->isInternal();
}

namespace {
// Envoy folds repeated x-forwarded-for fields into one value joined by ",".
std::string forwardedFor(const HeaderMap& headers) {
  std::string xff;
  for (const HeaderEntry& e : headers) {
    if (e.name != "x-forwarded-for") continue;
    if (!xff.empty()) xff += ',';
    xff += e.value;
  }
  return xff;
}

// The address `skip` entries from the right of x-forwarded-for; nullopt when there are
// not that many commas or that entry is no IP (Envoy then trusts the peer).
std::optional<ParsedIp> addressFromRight(std::string_view xff, uint32_t skip) {
  for (uint32_t i = 0; i < skip; ++i) {
    const size_t comma = xff.rfind(',');
    if (comma == std::string_view::npos) return std::nullopt;
    xff = xff.substr(0, comma);
  }
  const size_t comma = xff.rfind(',');
  return ParsedIp::parse(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
}
}  // namespace

std::optional<ParsedIp> applyForwardingHeaders(RequestHead& request, std::string_view remote_ip,
                                               std::string_view scheme,
                                               const ForwardingOptions& options,
                                               std::mt19937_64& random) {
  HeaderMap& headers = request.headers;
  // Only this proxy says whether a request is internal.
  headers.remove("x-envoy-internal");
  const bool has_xff = headers.has("x-forwarded-for");
  const std::string xff = has_xff ? forwardedFor(headers) : std::string();

  std::optional<ParsedIp> forwarded_client;
  // Envoy calls a request internal only when a single internal address is all it knows
  // of the client: the peer of a request without x-forwarded-for (use_remote_address),
  // or the only entry of x-forwarded-for (otherwise).
  bool single_address = false;
  if (options.use_remote_address) {
    single_address = !has_xff;
    if (has_xff && options.xff_num_trusted_hops > 0) {
      forwarded_client = addressFromRight(xff, options.xff_num_trusted_hops - 1);
    }
    if (!options.skip_xff_append) {
      std::string appended = xff;
      if (!appended.empty()) appended += ',';
      appended += remote_ip;
      headers.set("x-forwarded-for", appended);
    }
    headers.set("x-forwarded-proto", scheme);
  } else {
    if (has_xff) forwarded_client = addressFromRight(xff, options.xff_num_trusted_hops);
    single_address =
        forwarded_client && options.xff_num_trusted_hops == 0 && xff.find(',') == std::string::npos;
    if (!headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", scheme);
  }

  const bool internal = single_address && (forwarded_client ? forwarded_client->isInternal()
                                                            : isInternalAddress(remote_ip));
  if (internal) headers.set("x-envoy-internal", "true");
  // The first hop into the trusted network records the client for those behind it.
  const bool edge = options.use_remote_address && !internal;
  if (edge) {
    headers.set("x-envoy-external-address",
                forwarded_client ? forwarded_client->text() : remote_ip);
  }

  const std::string* request_id = headers.get("x-request-id");
  const bool has_request_id = request_id && !request_id->empty();
  const bool replace_request_id = edge && !options.preserve_external_request_id;
  if (options.generate_request_id && (!has_request_id || replace_request_id)) {
    headers.set("x-request-id", generateUuid(random));
  }
  return forwarded_client;
}

bool writeChildSpan(HeaderMap& headers, std::mt19937_64& random) {
  const std::string* value = headers.get("traceparent");
  if (!value) return false;
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2), lower-case hex.
  const std::string& tp = *value;
  auto hex = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  const std::string_view v(tp);
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || !hex(v.substr(0, 2)) ||
      v.substr(0, 2) == "ff" || !hex(v.substr(3, 32)) || !hex(v.substr(36, 16)) ||
      !hex(v.substr(53, 2)) || v.substr(3, 32) == std::string(32, '0') ||
      (v.substr(0, 2) == "00" && v.size() != 55)) {
    return false;
  }
  uint64_t span = 0;
  while (span == 0) span = random();  // all-zero ids are invalid
  static constexpr char kHex[] = "0123456789abcdef";
  std::string updated(tp);
  for (int i = 0; i < 16; ++i) updated[36 + i] = kHex[(span >> ((15 - i) * 4)) & 0xf];
  headers.set("traceparent", updated);
  return true;
}

std::string generateUuid(std::mt19937_64& random) {
  uint64_t hi = random();
  uint64_t lo = random();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = kHex[(v >> (i * 4)) & 0xf];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

}  // namespace remora::http
