// Peeks at the first bytes of a downstream connection, before any TLS session
// exists, to pick a filter chain by transport protocol, SNI and ALPN (what Envoy's
// envoy.filters.listener.tls_inspector provides). Pure functions of their input:
// they read at most kMaxClientHelloBytes and are safe on any bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::network::tls {

// Bytes after which looksLikeTlsClientHello() has seen everything it looks at.
inline constexpr std::size_t kClientHelloSniffBytes = 6;
// A ClientHello larger than this is not waited for (Envoy's tls_inspector uses 64 KiB).
inline constexpr std::size_t kMaxClientHelloBytes = 64 * 1024;

// True if the bytes seen so far (up to kClientHelloSniffBytes) are the start of a TLS
// handshake record carrying a ClientHello. With fewer bytes it judges what is there,
// so "GET " is refused at once; false for an empty input.
bool looksLikeTlsClientHello(std::string_view first_bytes);

struct ClientHelloInfo {
  std::string server_name;  // empty without a host_name SNI entry
  std::vector<std::string> alpn_protocols;
};

enum class ClientHelloParse {
  Complete,        // `info` is filled
  NeedMoreBytes,   // a valid prefix; wait for more (up to kMaxClientHelloBytes)
  NotClientHello,  // not TLS, malformed, or too large
};
// Parses the ClientHello (possibly spread over several records) at the start of
// `bytes`.
ClientHelloParse parseClientHello(std::string_view bytes, ClientHelloInfo& info);

// The SNI host name from a complete ClientHello; nullopt if incomplete, malformed or
// absent.
std::optional<std::string> sniFromClientHello(std::string_view bytes);

}  // namespace remora::network::tls
