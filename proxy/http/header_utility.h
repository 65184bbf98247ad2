// Header rules applied at the proxy boundary: hop-by-hop removal, x-forwarded-*,
// request ids. Pure functions over the message model, unit tested on their own.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "proxy/http/message.h"

namespace remora::http {

// True when the header value (a comma-separated token list) contains `token`,
// case-insensitively ("Connection: keep-alive, Upgrade" contains "upgrade").
bool hasToken(std::string_view list, std::string_view token);

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

// RFC 1918, loopback, link-local and ULA addresses count as internal, as in Envoy.
bool isInternalAddress(std::string_view ip);

// Applies Envoy's x-forwarded-for / x-forwarded-proto / x-request-id rules for a
// request that arrived from `remote_ip` over `scheme`. Returns the trusted client
// address (the remote address, or the xff_num_trusted_hops-th from the right of
// x-forwarded-for).
std::string applyForwardingHeaders(RequestHead& request, std::string_view remote_ip,
                                   std::string_view scheme, const ForwardingOptions& options,
                                   std::mt19937_64& random);

// W3C Trace Context: a valid traceparent gets a new parent-id (this hop's span), so
// the trace continues through the sidecar; tracestate passes unchanged. Returns
// false (and leaves the header alone) when there is none or it is malformed.
bool writeChildSpan(HeaderMap& headers, std::mt19937_64& random);

// A random (version 4) UUID in canonical form.
std::string generateUuid(std::mt19937_64& random);

}  // namespace remora::http
