#include "proxy/http/header_utility.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <vector>

namespace remora::http {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> splitList(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}
}  // namespace

bool hasToken(std::string_view list, std::string_view token) {
  for (std::string_view item : splitList(list)) {
    if (equalsIgnoreCase(item, token)) return true;
  }
  return false;
}

std::string upgradeType(const RequestHead& request) {
  const std::string* upgrade = request.headers.get("upgrade");
  if (!upgrade || upgrade->empty()) return {};
  if (!hasToken(request.headers.getJoined("connection"), "upgrade")) return {};
  std::string type(trim(*upgrade));
  toLowerAscii(type);
  return type;
}

bool requestWantsClose(const RequestHead& request) {
  const std::string connection = request.headers.getJoined("connection");
  if (hasToken(connection, "close")) return true;
  return request.protocol == Protocol::Http10 && !hasToken(connection, "keep-alive");
}

void removeHopByHopHeaders(HeaderMap& headers, bool keep_upgrade) {
  // Names are stored lower-case, so plain comparisons do; one pass over the map.
  headers.removeIf([keep_upgrade](const HeaderEntry& e) {
    const std::string_view n = e.name;
    return n == "connection" || n == "keep-alive" || n == "proxy-connection" ||
           n == "transfer-encoding" || (n == "upgrade" && !keep_upgrade) ||
           (n == "te" && !equalsIgnoreCase(trim(e.value), "trailers"));
  });
  if (keep_upgrade) headers.add("connection", "upgrade");
}

bool isInternalAddress(std::string_view ip) {
  const std::string s(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    const uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
           (a >> 24) == 127 || (a >> 16) == (169u << 8 | 254);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    static const in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(loopback.s6_addr)) ||
           (v6.s6_addr[0] & 0xfe) == 0xfc;
  }
  return false;
}

std::string applyForwardingHeaders(RequestHead& request, std::string_view remote_ip,
                                   std::string_view scheme, const ForwardingOptions& options,
                                   std::mt19937_64& random) {
  std::string trusted_client(remote_ip);
  if (options.use_remote_address) {
    if (options.xff_num_trusted_hops > 0) {
      const std::string xff = request.headers.getJoined("x-forwarded-for");
      const std::vector<std::string_view> hops = splitList(xff);
      if (hops.size() >= options.xff_num_trusted_hops) {
        trusted_client = std::string(hops[hops.size() - options.xff_num_trusted_hops]);
      }
    }
    if (!options.skip_xff_append) {
      std::string xff = request.headers.getJoined("x-forwarded-for");
      xff = xff.empty() ? std::string(remote_ip) : xff + "," + std::string(remote_ip);
      request.headers.set("x-forwarded-for", xff);
    }
    request.headers.set("x-forwarded-proto", scheme);
  } else if (!request.headers.has("x-forwarded-proto")) {
    request.headers.set("x-forwarded-proto", scheme);
  }

  const bool external = options.use_remote_address && !isInternalAddress(trusted_client);
  const std::string* request_id = request.headers.get("x-request-id");
  const bool replace_external = external && !options.preserve_external_request_id;
  if (options.generate_request_id && (!request_id || request_id->empty() || replace_external)) {
    request.headers.set("x-request-id", generateUuid(random));
  }
  if (external) request.headers.set("x-envoy-external-address", trusted_client);
  return trusted_client;
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
