// What is known about one request (or TCP session) once it ends: the source of the
// access log line and of the per-stream stats.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/common/callback_clock.h"
#include "proxy/http/message.h"

namespace remora::stream {

// Envoy's response flags, as a bit set; shortString() gives Envoy's spelling.
enum class ResponseFlag : uint32_t {
  None = 0,
  FailedLocalHealthCheck = 1u << 0,           // LH
  NoHealthyUpstream = 1u << 1,                // UH
  UpstreamRequestTimeout = 1u << 2,           // UT
  LocalReset = 1u << 3,                       // LR
  UpstreamRemoteReset = 1u << 4,              // UR
  UpstreamConnectionFailure = 1u << 5,        // UF
  UpstreamConnectionTermination = 1u << 6,    // UC
  UpstreamOverflow = 1u << 7,                 // UO
  NoRouteFound = 1u << 8,                     // NR
  DownstreamConnectionTermination = 1u << 9,  // DC
  StreamIdleTimeout = 1u << 10,               // SI
  DownstreamProtocolError = 1u << 11,         // DPE
  UpstreamProtocolError = 1u << 12,           // UPE
  NoClusterFound = 1u << 13,                  // NC
  UpstreamRetryLimitExceeded = 1u << 14,      // URX
  DurationTimeout = 1u << 15,                 // DT
  // A Remora addition (Envoy sets no flag for an RBAC denial): the RBAC filter
  // answered 403 or the network RBAC filter closed the connection.
  RbacAccessDenied = 1u << 16,  // RBAC
};

std::string responseFlagsString(uint32_t flags);

// What an RBAC filter decided, which Envoy publishes as dynamic metadata under the
// filter's name and the access log reads with %DYNAMIC_METADATA(namespace:key)%.
// Filled only where an RBAC filter runs: a stream without one pays nothing.
struct RbacMetadata {
  enum class Filter : uint8_t { None, Http, Network };
  enum class Result : uint8_t { None, Allowed, Denied };

  Filter filter = Filter::None;
  Result enforced = Result::None;  // None: no enforced rules
  Result shadow = Result::None;    // None: no shadow rules
  std::string enforced_policy;     // the effective policy id; empty when none matched
  std::string shadow_policy;
  // Envoy prefixes the keys with rules_stat_prefix / shadow_rules_stat_prefix.
  std::string enforced_key_prefix;
  std::string shadow_key_prefix;

  void clear();
  bool operator==(const RbacMetadata&) const = default;

  // The value of `key` in `metadata_namespace` ("envoy.filters.http.rbac" or
  // "envoy.filters.network.rbac"): *_effective_policy_id or *_engine_result, or nullopt
  // when this stream has no such entry.
  std::optional<std::string_view> lookup(std::string_view metadata_namespace,
                                         std::string_view key) const;
};

struct StreamInfo {
  using Clock = std::chrono::steady_clock;

  Clock::time_point start = callback_clock::steadyNow();
  std::chrono::system_clock::time_point start_wall = callback_clock::systemNow();
  std::optional<Clock::time_point> last_downstream_rx_byte;  // the request's end
  std::optional<Clock::time_point> first_upstream_byte;
  std::optional<Clock::time_point> end;

  http::Protocol protocol = http::Protocol::Http11;
  int response_code = 0;  // 0: no response was sent
  uint32_t response_flags = 0;
  std::string response_code_details;
  std::string route_name;
  std::optional<int> grpc_status;  // from the upstream's grpc-status
  std::string cluster_name;
  std::string upstream_host;  // "ip:port"
  // The peer of the downstream connection, "ip:port" (Envoy's direct remote address).
  std::string downstream_remote_address;
  // The client IP the connection manager took from x-forwarded-for (see
  // http::applyForwardingHeaders), in canonical form; empty when the client is the
  // peer, and always for TCP. RBAC's remote_ip principal and %DOWNSTREAM_REMOTE_ADDRESS%
  // read it, falling back to the peer.
  std::string downstream_trusted_client_ip;
  // The listener's port the connection arrived on; 0 while unknown.
  uint32_t downstream_local_port = 0;
  // The client certificate's identities (URI SANs, DNS SANs, subject); empty without
  // TLS, so RBAC's `authenticated` principal cannot match a plaintext connection.
  std::vector<std::string> peer_uri_sans;
  std::vector<std::string> peer_dns_sans;
  std::string peer_subject;
  // The downstream TLS session: "TLSv1.3", the OpenSSL cipher name and the SNI the
  // client sent; empty without TLS (or without SNI).
  std::string tls_version;
  std::string tls_cipher;
  std::string requested_server_name;
  RbacMetadata rbac;
  // Why a TCP session was closed by a filter (%CONNECTION_TERMINATION_DETAILS%).
  std::string connection_termination_details;
  uint64_t bytes_received = 0;  // request body bytes
  uint64_t bytes_sent = 0;      // response body bytes

  // Makes it a fresh StreamInfo (starting now) for a recycled stream, keeping the
  // strings' storage. A new field must be reset here too (stream_info_test checks).
  void reset();
  bool operator==(const StreamInfo&) const = default;

  void setFlag(ResponseFlag f) { response_flags |= static_cast<uint32_t>(f); }
  bool hasFlag(ResponseFlag f) const { return response_flags & static_cast<uint32_t>(f); }
};

}  // namespace remora::stream
