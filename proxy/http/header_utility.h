// Header rules applied at the proxy boundary: hop-by-hop removal, x-forwarded-*,
// request ids. Pure functions over the message model, unit tested on their own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "proxy/http/message.h"

namespace remora::http {

// Whether the request asks for a protocol upgrade (Upgrade + Connection: upgrade),
// returning the protocol name, else empty.
std::string upgradeType(const RequestHead& request);

// Whether the client wants the connection closed after this exchange.
bool requestWantsClose(const RequestHead& request);

// Removes the hop-by-hop fields of RFC 9110 7.6.1 (connection, keep-alive,
// proxy-connection, transfer-encoding, upgrade; te unless it is "trailers").
// With keep_upgrade the upgrade field survives and "connection: upgrade" is set.
void removeHopByHopHeaders(HeaderMap& headers, bool keep_upgrade);

struct ForwardingOptions {
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
};

// An IPv4 or IPv6 address with its canonical text (inet_ntop's), held inline so that
// reading one out of x-forwarded-for needs no allocation.
class ParsedIp {
 public:
  // nullopt when `text` (surrounding blanks ignored) is no IPv4 or IPv6 address.
  static std::optional<ParsedIp> parse(std::string_view text);

  std::string_view text() const { return {text_.data(), text_size_}; }
  // RFC 1918, 127.0.0.1, ::1 and fd00::/8, exactly Envoy's internal addresses.
  bool isInternal() const;

 private:
  static constexpr size_t kMaxText = 46;  // INET6_ADDRSTRLEN
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};
  std::array<char, kMaxText> text_{};
  uint8_t text_size_ = 0;
};

// Whether `ip` parses and is internal.
bool isInternalAddress(std::string_view ip);

// Applies Envoy's x-forwarded-for / x-forwarded-proto / x-envoy-internal /
// x-envoy-external-address / x-request-id rules to a request that arrived from the
// peer `remote_ip` (canonical text) over `scheme`, and returns the trusted client
// when x-forwarded-for names it: with use_remote_address the xff_num_trusted_hops-th
// entry from the right (none with 0 hops), without it the (hops+1)-th. nullopt when
// the trusted client is the peer: no header, too few entries, or no IP there.
std::optional<ParsedIp> applyForwardingHeaders(RequestHead& request, std::string_view remote_ip,
                                               std::string_view scheme,
                                               const ForwardingOptions& options,
                                               std::mt19937_64& random);

// W3C Trace Context: a valid traceparent gets a new parent-id (this hop's span), so
// the trace continues through the sidecar; tracestate passes unchanged. Returns
// false (and leaves the header alone) when there is none or it is malformed.
bool writeChildSpan(HeaderMap& headers, std::mt19937_64& random);

// A random (version 4) UUID in canonical form.
std::string generateUuid(std::mt19937_64& random);

}  // namespace remora::http
